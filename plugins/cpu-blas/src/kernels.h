// The heavier cpu-blas kernels, each in its own file. Shapes are checked by the
// caller (cpu_ops.cpp); these take dense row-major float buffers.
#pragma once

#include "scratch.h"
#include "thread_pool.h"

#include <cstdint>

namespace sdw::cpu {

struct Conv2dShape {
    int64_t batch, in_channels, height, width;
    int64_t out_channels, kernel;
    int stride, padding;
    int64_t out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
    int64_t out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
};

// y [B, Cout, Ho, Wo] = conv(x [B, Cin, H, W], w [Cout, Cin, k, k]) + bias (may be null).
void conv2d(ThreadPool &pool, Scratch &scratch, const Conv2dShape &s, const float *x,
            const float *w, const float *bias, float *y);

struct AttentionShape {
    int64_t batch, q_len, kv_len, channels, heads;
    bool causal;
};

// out [B, Nq, C] = softmax(q k^T / sqrt(C / heads)) v per head.
void attention(ThreadPool &pool, Scratch &scratch, const AttentionShape &s, const float *q,
               const float *k, const float *v, float *out);

// x [B, C, S]: per (batch, group) normalization, per-channel affine, optional SiLU.
// gamma/beta may be null (identity affine).
void group_norm(ThreadPool &pool, int64_t batch, int64_t channels, int64_t spatial,
                int64_t groups, const float *x, const float *gamma, const float *beta,
                float eps, bool silu, float *y);

// x [rows, dim]: per-row normalization then affine (gamma/beta may be null).
void layer_norm(ThreadPool &pool, int64_t rows, int64_t dim, const float *x,
                const float *gamma, const float *beta, float eps, float *y);

}  // namespace sdw::cpu
