// Layer normalization over the last dim, one workgroup per row: two passes in float32
// (mean, centred second moment), then y = (x - mean) * rsqrt(var + eps) * gamma + beta.
#version 460
#include "common.glsl"
#include "reduce.glsl"

layout(local_size_x = 256) in;

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    TBuf x;
    TBuf gamma;
    TBuf beta;
    TBuf y;
    uint columns;
    float eps;
} pc;

void main() {
    const uint base = GROUP_ID.x * pc.columns;
    const uint tid = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = tid; i < pc.columns; i += 256) s += float(pc.x.v[base + i]);
    const float mean = workgroup_sum(s) / float(pc.columns);
    float q = 0.0;
    for (uint i = tid; i < pc.columns; i += 256) {
        const float d = float(pc.x.v[base + i]) - mean;
        q = fma(d, d, q);
    }
    const float rstd = inversesqrt(workgroup_sum(q) / float(pc.columns) + pc.eps);
    for (uint i = tid; i < pc.columns; i += 256)
        pc.y.v[base + i] = T_STORE((float(pc.x.v[base + i]) - mean) * rstd * float(pc.gamma.v[i]) +
                                   float(pc.beta.v[i]));
}
