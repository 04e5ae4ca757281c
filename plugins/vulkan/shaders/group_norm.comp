// Group normalization (+ SiLU), one workgroup per (image, group): x [B, C, S] with the
// group's C/G channels contiguous. Two passes over the group in float32 (the mean,
// then the centred second moment; as exact as torch's Welford), then the affine
// transform per channel: y = (x - mean) * rsqrt(var + eps) * gamma[c] + beta[c].
// Each loop iteration takes UNROLL elements per invocation: lavapipe ends an
// invocation's loops after 65535 iterations in all, and a 2048x2048 SD VAE decode has
// 16 Mi elements per group (3 passes of 65536 iterations at one element each).
#version 460
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "reduce.glsl"

layout(local_size_x = 256) in;
#define UNROLL 8

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    TBuf x;
    TBuf gamma;
    TBuf beta;
    TBuf y;
    uint channels;  // C
    uint channels_per_group;
    uint spatial;   // S
    float eps;
    uint silu;
} pc;

void main() {
    const uint group = GROUP_ID.x;  // b * G + g
    const uint count = pc.channels_per_group * pc.spatial;
    const uint base = group * count;
    const uint tid = gl_LocalInvocationID.x;

    float s = 0.0;
    for (uint i0 = tid; i0 < count; i0 += 256 * UNROLL)
        [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
            const uint i = i0 + u * 256;
            if (i < count) s += float(pc.x.v[base + i]);
        }
    const float mean = workgroup_sum(s) / float(count);
    float q = 0.0;
    for (uint i0 = tid; i0 < count; i0 += 256 * UNROLL)
        [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
            const uint i = i0 + u * 256;
            if (i < count) {
                const float d = float(pc.x.v[base + i]) - mean;
                q = fma(d, d, q);
            }
        }
    const float rstd = inversesqrt(workgroup_sum(q) / float(count) + pc.eps);

    // Channels count on across images: the channel within its image is taken modulo C.
    const uint first_channel = (group * pc.channels_per_group) % pc.channels;
    for (uint i0 = tid; i0 < count; i0 += 256 * UNROLL)
        [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
            const uint i = i0 + u * 256;
            if (i >= count) break;
            const uint c = first_channel + i / pc.spatial;
            const float scale = rstd * float(pc.gamma.v[c]);
            float v = (float(pc.x.v[base + i]) - mean) * scale + float(pc.beta.v[c]);
            if (pc.silu != 0u) v = v / (1.0 + exp(-v));
            pc.y.v[base + i] = T_STORE(v);
        }
}
