#include "gemm.h"

#include "blas.h"

#include <algorithm>

namespace sdw::cpu {
namespace {

// Rows or columns per part are rounded to a multiple of this (the width of the
// AVX-512 micro-kernels), so no part ends in a ragged edge it need not have.
constexpr int64_t kAlign = 16;

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
           int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    blas().sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                 trans_b ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), blasint(k), alpha, a,
                 blasint(lda), b, blasint(ldb), beta, c, blasint(ldc));
}

void sgemm_parallel(ThreadPool &pool, bool trans_a, bool trans_b, int64_t m, int64_t n,
                    int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    const int threads = pool.size();
    const bool split_rows = m >= threads * 4 * kAlign || m >= n;
    const int64_t extent = split_rows ? m : n;
    const int64_t blocks = (extent + kAlign - 1) / kAlign;
    const int parts = static_cast<int>(std::min<int64_t>(threads, blocks));
    if (parts <= 1 || 2.0 * double(m) * double(n) * double(k) < 2e6) {
        sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    pool.run_parts(parts, [&](int part, int count) {
        const int64_t begin = std::min(extent, blocks * part / count * kAlign);
        const int64_t end = std::min(extent, blocks * (part + 1) / count * kAlign);
        if (begin >= end) return;
        if (split_rows) {
            const float *ap = trans_a ? a + begin : a + begin * lda;
            sgemm(trans_a, trans_b, end - begin, n, k, alpha, ap, lda, b, ldb, beta, c + begin * ldc, ldc);
        } else {
            const float *bp = trans_b ? b + begin * ldb : b + begin;
            sgemm(trans_a, trans_b, m, end - begin, k, alpha, a, lda, bp, ldb, beta, c + begin, ldc);
        }
    });
}

}  // namespace sdw::cpu
