// Matrix products on the plugin's own threads. OpenBLAS runs single-threaded (see
// CpuOps): its pthread workers spin in sched_yield between calls, and on a small
// machine they then fight the plugin's pool for the same cores (most of the system
// time of a run was that spinning). Splitting a product across the pool instead
// keeps one set of threads, and lets the attention and convolution kernels run
// independent single-threaded products side by side.
#pragma once

#include "thread_pool.h"

#include <cstdint>

namespace sdw::cpu {

// Row-major C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C on the calling
// thread only (op = transpose when the flag is set).
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
           int64_t ldc);

// The same, split over the pool: along m when there are enough rows for every
// thread, else along n. Each part packs its own copy of the other operand, which
// costs k*n (or m*k) copies against m*n*k/threads multiply-adds.
void sgemm_parallel(ThreadPool &pool, bool trans_a, bool trans_b, int64_t m, int64_t n,
                    int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc);

}  // namespace sdw::cpu
