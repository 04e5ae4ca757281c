// Tiled matrix products: BM x BN output tiles per workgroup, BK-deep slices of both
// operands staged in shared memory, TM x TN outputs per invocation in registers.
//   linear (default): y[m, n] = sum_k x[m, k] * w[n, k] + bias[n]; y is [M, N].
//   SDW_CONV: a convolution as an implicit GEMM, one image per z: y[z, m, n] =
//     sum_k w[m, k] * im2col(x[z])[k, n] + bias[m], m = output channel, n = output
//     pixel, k = (input channel, ky, kx); the im2col matrix is never stored. 1x1
//     convolutions with stride 1 read x directly.
// Tile sizes are specialization constants; the host keeps BM*BN / (TM*TN) equal to the
// workgroup size and the shared arrays within the device's limit.
#version 460
#include "common.glsl"

layout(constant_id = 0) const uint BM = 64;
layout(constant_id = 1) const uint BN = 64;
layout(constant_id = 2) const uint BK = 16;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;
layout(local_size_x_id = 5) in;  // (BM / TM) * (BN / TN)

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    TBuf x;
    TBuf w;
    TBuf bias;  // 0 when absent
    TBuf y;
    uint M;
    uint N;
    uint K;
    uint has_bias;
    // SDW_CONV: input [Cin, H, W] per image, kernel size, stride, padding, output width.
    uint cin;
    uint h;
    uint wd;
    uint ksize;
    uint stride;
    uint padding;
    uint wo;
} pc;

shared float As[BK * BM];  // [k][m]
shared float Bs[BK * BN];  // [k][n]

const uint THREADS = (BM / TM) * (BN / TN);
const uint MAX_TM = 8, MAX_TN = 8;

void main() {
    const uvec3 group = GROUP_ID;
    const uint m0 = group.y * BM, n0 = group.x * BN, z = group.z;
    const uint tid = gl_LocalInvocationID.x;
    const uint tm = (tid / (BN / TN)) * TM, tn = (tid % (BN / TN)) * TN;
    const uint M = pc.M, N = pc.N, K = pc.K;
#ifdef SDW_CONV
    const uint image = z * pc.cin * pc.h * pc.wd;
    const uint kk = pc.ksize * pc.ksize;
    const bool pointwise = pc.ksize == 1u && pc.stride == 1u && pc.padding == 0u;
#endif

    float acc[MAX_TM][MAX_TN];
    for (uint i = 0; i < TM; ++i)
        for (uint j = 0; j < TN; ++j) acc[i][j] = 0.0;

    for (uint k0 = 0; k0 < K; k0 += BK) {
        // A: rows m of x (linear) or of w (conv), contiguous in k.
        for (uint e = tid; e < BM * BK; e += THREADS) {
            const uint ml = e / BK, kl = e - ml * BK;
            const uint m = m0 + ml, k = k0 + kl;
            float v = 0.0;
            if (m < M && k < K) {
#ifdef SDW_CONV
                v = float(pc.w.v[m * K + k]);
#else
                v = float(pc.x.v[m * K + k]);
#endif
            }
            As[kl * BM + ml] = v;
        }
#ifdef SDW_CONV
        // B: im2col(x)[k, n], contiguous in n (the output pixels).
        for (uint e = tid; e < BN * BK; e += THREADS) {
            const uint kl = e / BN, nl = e - kl * BN;
            const uint n = n0 + nl, k = k0 + kl;
            float v = 0.0;
            if (n < N && k < K) {
                if (pointwise) {
                    v = float(pc.x.v[image + k * N + n]);
                } else {
                    const uint ci = k / kk, r = k - ci * kk;
                    const uint ky = r / pc.ksize, kx = r - ky * pc.ksize;
                    const uint oy = n / pc.wo, ox = n - oy * pc.wo;
                    const int iy = int(oy * pc.stride + ky) - int(pc.padding);
                    const int ix = int(ox * pc.stride + kx) - int(pc.padding);
                    if (iy >= 0 && ix >= 0 && uint(iy) < pc.h && uint(ix) < pc.wd)
                        v = float(pc.x.v[image + (ci * pc.h + uint(iy)) * pc.wd + uint(ix)]);
                }
            }
            Bs[kl * BN + nl] = v;
        }
#else
        // B: rows n of w, contiguous in k.
        for (uint e = tid; e < BN * BK; e += THREADS) {
            const uint nl = e / BK, kl = e - nl * BK;
            const uint n = n0 + nl, k = k0 + kl;
            Bs[kl * BN + nl] = (n < N && k < K) ? float(pc.w.v[n * K + k]) : 0.0;
        }
#endif
        barrier();
        for (uint kl = 0; kl < BK; ++kl) {
            float a[MAX_TM], b[MAX_TN];
            for (uint i = 0; i < TM; ++i) a[i] = As[kl * BM + tm + i];
            for (uint j = 0; j < TN; ++j) b[j] = Bs[kl * BN + tn + j];
            for (uint i = 0; i < TM; ++i)
                for (uint j = 0; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }

    for (uint i = 0; i < TM; ++i) {
        const uint m = m0 + tm + i;
        if (m >= M) continue;
        for (uint j = 0; j < TN; ++j) {
            const uint n = n0 + tn + j;
            if (n >= N) continue;
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
