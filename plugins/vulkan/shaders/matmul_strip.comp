// The matrix products of matmul.comp for devices whose invocations are SIMD lanes of a
// CPU (lavapipe): no shared memory and no barriers (a barrier there is a switch between
// the workgroup's lanes, and shared memory is just more cache). Such a device loads
// memory lane by lane, so what counts is loads per multiply-add: each invocation owns a
// TM x TN block (TM rows, the same for the whole workgroup; TN columns 64 apart, so
// neighbouring lanes read neighbouring columns) and makes TM + TN loads per TM * TN
// multiply-adds.
//   linear (default): y[m, n] = sum_k x[m, k] * w[n, k] + bias[n]
//   SDW_CONV: y[z, m, n] = sum_k w[m, k] * im2col(x[z])[k, n] + bias[m], the input
//     pixels walked per (channel, ky, kx) with the pixel's coordinates computed once.
// Same push block as matmul.comp.
#version 460
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

// Measured on lavapipe (2 cores, SD 1.5 shapes): 8x8 6.3 GFLOP/s for a 3x3
// convolution, 16x16 7.6; linear layers peak at 16x8 (5.8, against 4.4 at 16x16).
// The host lowers TN for narrow outputs (an 8x8 latent has 64 pixels): columns past
// the end are computed and thrown away.
#define TM 16
layout(constant_id = 0) const uint TN = 16;
layout(local_size_x = 64) in;

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    TBuf x;
    TBuf w;
    TBuf bias;
    TBuf y;
    uint M;
    uint N;
    uint K;
    uint has_bias;
    uint cin;
    uint h;
    uint wd;
    uint ksize;
    uint stride;
    uint padding;
    uint wo;
} pc;

void main() {
    const uvec3 group = GROUP_ID;
    const uint n0 = group.x * 64 * TN + gl_LocalInvocationID.x;
    const uint m0 = group.y * TM, z = group.z;
    const uint M = pc.M, N = pc.N, K = pc.K;
    uint rows[TM];
    [[unroll]] for (uint i = 0; i < TM; ++i) rows[i] = min(m0 + i, M - 1) * K;
    uint cols[TN];  // columns past the end compute a copy of the last one
    [[unroll]] for (uint j = 0; j < TN; ++j) cols[j] = min(n0 + j * 64, N - 1);
    float acc[TM][TN];
    [[unroll]] for (uint i = 0; i < TM; ++i)
        [[unroll]] for (uint j = 0; j < TN; ++j) acc[i][j] = 0.0;

#ifdef SDW_CONV
    const uint image = z * pc.cin * pc.h * pc.wd;
    int iy0[TN], ix0[TN];
    [[unroll]] for (uint j = 0; j < TN; ++j) {
        const uint oy = cols[j] / pc.wo, ox = cols[j] - oy * pc.wo;
        iy0[j] = int(oy * pc.stride) - int(pc.padding);
        ix0[j] = int(ox * pc.stride) - int(pc.padding);
    }
    const uint ks = pc.ksize;
    uint k = 0;
    for (uint ci = 0; ci < pc.cin; ++ci) {
        const uint plane = image + ci * pc.h * pc.wd;
        for (uint ky = 0; ky < ks; ++ky) {
            for (uint kx = 0; kx < ks; ++kx, ++k) {
                float b[TN];
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    const int iy = iy0[j] + int(ky), ix = ix0[j] + int(kx);
                    const bool inside = iy >= 0 && uint(iy) < pc.h && ix >= 0 && uint(ix) < pc.wd;
                    b[j] = inside ? float(pc.x.v[plane + uint(iy) * pc.wd + uint(ix)]) : 0.0;
                }
                [[unroll]] for (uint i = 0; i < TM; ++i) {
                    const float a = float(pc.w.v[rows[i] + k]);
                    [[unroll]] for (uint j = 0; j < TN; ++j) acc[i][j] = fma(a, b[j], acc[i][j]);
                }
            }
        }
    }
#else
    for (uint k = 0; k < K; ++k) {
        float b[TN];
        [[unroll]] for (uint j = 0; j < TN; ++j) b[j] = float(pc.w.v[cols[j] * K + k]);
        [[unroll]] for (uint i = 0; i < TM; ++i) {
            const float a = float(pc.x.v[rows[i] + k]);
            [[unroll]] for (uint j = 0; j < TN; ++j) acc[i][j] = fma(a, b[j], acc[i][j]);
        }
    }
#endif

    [[unroll]] for (uint j = 0; j < TN; ++j) {
        const uint n = n0 + j * 64;
        if (n >= N) break;
        [[unroll]] for (uint i = 0; i < TM; ++i) {
            const uint m = m0 + i;
            if (m >= M) break;
            float v = acc[i][j];
#ifdef SDW_CONV
            if (pc.has_bias != 0u) v += float(pc.bias.v[m]);
            pc.y.v[z * M * N + m * N + n] = T_STORE(v);
#else
            if (pc.has_bias != 0u) v += float(pc.bias.v[n]);
            pc.y.v[m * N + n] = T_STORE(v);
#endif
        }
    }
}
