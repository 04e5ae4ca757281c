// Scaled dot-product attention per (batch, head) as two sgemms over a tile of query
// rows, so the score matrix never exceeds one tile (4096 x 4096 scores would be
// 64 MiB per head). Heads are read in place through the leading dimension C.
#include "kernels.h"
#include "softmax.h"

#include "blas.h"

#include <algorithm>
#include <cmath>

namespace sdw::cpu {
namespace {

// Floats of scores per tile: 8 MiB.
constexpr int64_t kScoreBudget = int64_t{2} << 20;

// Softmax of each row of s [rows, ld] over its first valid(row) entries; the
// entries after them are set to 0 so the second product may span all columns.
template <typename Valid>
void softmax_rows(ThreadPool &pool, float *s, int64_t rows, int64_t ld, int64_t cols, Valid valid) {
    pool.parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            float *row = s + r * ld;
            const int64_t n = valid(r);
            if (n > 0) softmax_inplace(row, n);
            std::fill(row + std::max<int64_t>(n, 0), row + cols, 0.0f);
        }
    });
}

}  // namespace

void attention(ThreadPool &pool, Scratch &scratch, const AttentionShape &a, const float *q,
               const float *k, const float *v, float *out) {
    const int64_t c = a.channels, d = c / a.heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const int64_t tile = std::clamp<int64_t>(kScoreBudget / std::max<int64_t>(a.kv_len, 1), 1, a.q_len);
    float *scores = scratch.get(tile * std::max<int64_t>(a.kv_len, 1));
    for (int64_t b = 0; b < a.batch; ++b) {
        for (int64_t h = 0; h < a.heads; ++h) {
            const float *qb = q + b * a.q_len * c + h * d;
            const float *kb = k + b * a.kv_len * c + h * d;
            const float *vb = v + b * a.kv_len * c + h * d;
            float *ob = out + b * a.q_len * c + h * d;
            for (int64_t r0 = 0; r0 < a.q_len; r0 += tile) {
                const int64_t rows = std::min(tile, a.q_len - r0);
                // Causal: row i sees keys j <= i, so the tile needs keys < r0 + rows only.
                const int64_t keys = a.causal ? std::min(a.kv_len, r0 + rows) : a.kv_len;
                if (keys == 0) {
                    for (int64_t r = 0; r < rows; ++r) std::fill_n(ob + (r0 + r) * c, d, 0.0f);
                    continue;
                }
                blas().sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(keys), int(d),
                            scale, qb + r0 * c, int(c), kb, int(c), 0.0f, scores, int(keys));
                if (a.causal)
                    softmax_rows(pool, scores, rows, keys, keys,
                                 [&](int64_t r) { return std::min(keys, r0 + r + 1); });
                else
                    softmax_rows(pool, scores, rows, keys, keys, [&](int64_t) { return keys; });
                blas().sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(d), int(keys),
                            1.0f, scores, int(keys), vb, int(c), 0.0f, ob + r0 * c, int(c));
            }
        }
    }
}

}  // namespace sdw::cpu
