// diffusers' get_timestep_embedding: y[i, :] = [sin(t_i * f_j) | cos(t_i * f_j)] (cos
// first when flip), f_j = exp(-ln(10000) * j / (half - shift)) computed by the host in
// float32 as torch does. sin and cos are evaluated accurately (not the device's fast
// intrinsics): t_i * f_j reaches 1000, where a fast sin is off in the third digit.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    F32Buf t;
    F32Buf freqs;
    F32Buf y;
    uint n;     // timesteps
    uint half_dim;
    uint dim;   // 2 * half_dim, + 1 (a zero column) when odd
    uint flip;
} pc;

// Cephes' sinf/cosf: reduction by multiples of pi/4 with a three-part constant (exact
// for |x| < 8192), then minimax polynomials on [-pi/4, pi/4]; `precise` keeps the
// reduction's operations unfused and in order.
float cephes_sin_poly(float x, float z) {
    precise float p = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * x + x;
    return p;
}
float cephes_cos_poly(float z) {
    precise float p = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z -
                      0.5 * z + 1.0;
    return p;
}

void reduce_quarter_pi(float ax, out uint j, out float r) {
    j = uint(ax * 1.27323954473516);
    precise float y = float(j);
    if ((j & 1u) != 0u) {
        j += 1u;
        y += 1.0;
    }
    j &= 7u;
    precise float reduced = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
    r = reduced;
}

float accurate_sin(float x) {
    float sign = x < 0.0 ? -1.0 : 1.0;
    uint j;
    float r;
    reduce_quarter_pi(abs(x), j, r);
    if (j > 3u) {
        sign = -sign;
        j -= 4u;
    }
    precise float z = r * r;
    const float v = (j == 1u || j == 2u) ? cephes_cos_poly(z) : cephes_sin_poly(r, z);
    return sign * v;
}

float accurate_cos(float x) {
    float sign = 1.0;
    uint j;
    float r;
    reduce_quarter_pi(abs(x), j, r);
    if (j > 3u) {
        sign = -sign;
        j -= 4u;
    }
    if (j > 1u) sign = -sign;
    precise float z = r * r;
    const float v = (j == 1u || j == 2u) ? cephes_sin_poly(r, z) : cephes_cos_poly(z);
    return sign * v;
}

void main() {
    const uint i = GROUP_ID.x * 256 + gl_LocalInvocationID.x;
    if (i >= pc.n * pc.dim) return;
    const uint row = i / pc.dim, col = i - row * pc.dim;
    if (col >= 2u * pc.half_dim) {
        pc.y.v[i] = 0.0;
        return;
    }
    const bool second = col >= pc.half_dim;
    const uint j = second ? col - pc.half_dim : col;
    precise float arg = pc.t.v[row] * pc.freqs.v[j];
    const bool want_cos = second != (pc.flip != 0u);
    pc.y.v[i] = want_cos ? accurate_cos(arg) : accurate_sin(arg);
}
