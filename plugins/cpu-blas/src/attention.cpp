// Scaled dot-product attention: the fused AVX-512 kernel (attention_fused.cpp) where
// it is faster, else as independent tasks, one per (batch, head, tile of
// query rows), spread over the pool; each thread runs its tasks' two products
// single-threaded (QK^T, then PV after a row softmax) on its own score tile. The
// tile is sized so that its scores stay in the core's L2 between the three passes
// over them (4096 x 4096 scores of one head would be 64 MiB). Heads are read in
// place through the leading dimension C: OpenBLAS packs its operands anyway.
#include "attention_fused.h"
#include "gemm.h"
#include "kernels.h"
#include "softmax.h"

#include <algorithm>
#include <cmath>

namespace sdw::cpu {
namespace {

// Floats of scores per thread: 1 MiB, half of this machine's L2.
constexpr int64_t kScoreBudget = int64_t{256} << 10;

}  // namespace

void attention(ThreadPool &pool, Scratch &scratch, const AttentionShape &a, const float *q,
               const float *k, const float *v, float *out) {
    const int64_t c = a.channels, d = c / a.heads;
    if (a.batch <= 0 || a.q_len <= 0 || d <= 0) return;
    // The fused kernel wins where the two products are thin (head dim up to 128:
    // SD 1.5's 40, 64 and 80 ran 1.1-1.4x faster) and on long sequences (the VAE's
    // 4096 tokens of dim 512); on SD 1.5's 8 heads of 160 over 64-256 tokens
    // OpenBLAS's products were faster.
    static const bool fused_available = fused_attention_available();
    if (fused_available && (d <= 128 || a.kv_len >= 1024))
        return fused_attention(pool, a, q, k, v, out);
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const int64_t kv = std::max<int64_t>(a.kv_len, 1);
    int64_t tile = std::clamp<int64_t>(kScoreBudget / kv, 16, a.q_len);
    const int64_t tiles_per_head = (a.q_len + tile - 1) / tile;
    const int64_t tasks = a.batch * a.heads * tiles_per_head;
    const int parts = static_cast<int>(std::min<int64_t>(pool.size(), tasks));
    float *scores_all = scratch.get(parts * tile * kv);

    pool.run_parts(parts, [&](int part, int count) {
        float *scores = scores_all + part * tile * kv;
        const int64_t t0 = tasks * part / count, t1 = tasks * (part + 1) / count;
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t b = t / (a.heads * tiles_per_head);
            const int64_t h = (t / tiles_per_head) % a.heads;
            const int64_t r0 = (t % tiles_per_head) * tile;
            const int64_t rows = std::min(tile, a.q_len - r0);
            const float *qb = q + (b * a.q_len + r0) * c + h * d;
            const float *kb = k + b * a.kv_len * c + h * d;
            const float *vb = v + b * a.kv_len * c + h * d;
            float *ob = out + (b * a.q_len + r0) * c + h * d;
            // Causal: row r0 + i sees keys j <= r0 + i, so the tile needs keys < r0 + rows.
            const int64_t keys = a.causal ? std::min(a.kv_len, r0 + rows) : a.kv_len;
            if (keys == 0) {
                for (int64_t r = 0; r < rows; ++r) std::fill_n(ob + r * c, d, 0.0f);
                continue;
            }
            sgemm(false, true, rows, keys, d, scale, qb, c, kb, c, 0.0f, scores, keys);
            for (int64_t r = 0; r < rows; ++r) {
                float *row = scores + r * keys;
                const int64_t valid = a.causal ? std::min(keys, r0 + r + 1) : keys;
                softmax_inplace(row, valid);
                std::fill(row + valid, row + keys, 0.0f);
            }
            sgemm(false, false, rows, d, keys, 1.0f, scores, keys, vb, c, 0.0f, ob, c);
        }
    });
}

}  // namespace sdw::cpu
