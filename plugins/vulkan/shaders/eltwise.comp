// Element-wise ops on tensors of type T, selected by the specialization constant OP:
//   0 add a + b           1 mul a * b            2 scale a * p0
//   3 clamp(a, p0, p1)    4 silu                 5 gelu (erf)
//   6 quick_gelu          7 add_channel_bias: a + b[i / inner] (b holds [B*C], inner = H*W)
//   8 geglu: out [rows, F] from a [rows, 2F]: a[.., :F] * gelu(a[.., F:]), inner = F
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint OP = 0;

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    TBuf a;
    TBuf b;
    TBuf y;
    uint n;      // output elements
    uint inner;  // add_channel_bias: H*W; geglu: F
    float p0;
    float p1;
} pc;

// erf(x) = 1 - erfc(x), erfc by the Chebyshev fit of Numerical Recipes (erfcc):
// fractional error below 1.2e-7 everywhere, i.e. float32 precision for gelu.
float erf_approx(float x) {
    precise float z = abs(x);
    precise float t = 1.0 / (1.0 + 0.5 * z);
    precise float poly = -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    precise float erfc = t * exp(poly);
    return x >= 0.0 ? 1.0 - erfc : erfc - 1.0;
}

float gelu(float x) { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }
float sigmoid(float x) { return 1.0 / (1.0 + exp(-x)); }

void main() {
    const uint i = GROUP_ID.x * 256 + gl_LocalInvocationID.x;
    if (i >= pc.n) return;
    float r;
    if (OP == 8) {
        const uint row = i / pc.inner, col = i - row * pc.inner;
        const float a = float(pc.a.v[row * 2 * pc.inner + col]);
        const float g = float(pc.a.v[row * 2 * pc.inner + pc.inner + col]);
        r = a * gelu(g);
    } else {
        const float a = float(pc.a.v[i]);
        if (OP == 0) r = a + float(pc.b.v[i]);
        else if (OP == 1) r = a * float(pc.b.v[i]);
        else if (OP == 2) r = a * pc.p0;
        else if (OP == 3) r = min(max(a, pc.p0), pc.p1);
        else if (OP == 4) r = a * sigmoid(a);
        else if (OP == 5) r = gelu(a);
        else if (OP == 6) r = a * sigmoid(1.702 * a);
        else r = a + float(pc.b.v[i / pc.inner]);
    }
    pc.y.v[i] = T_STORE(r);
}
