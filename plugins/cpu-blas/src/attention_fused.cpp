// Fused attention for AVX-512 (flash-attention style): per (batch, head, query tile)
// the scores of one block of keys at a time are computed into an L1-sized buffer by
// an 8-row x 32-key register kernel, folded into a running (online) softmax, and
// multiplied into the tile's output accumulators at once, so no score ever leaves
// the cache and nothing is packed twice. The two-sgemm version (attention.cpp) spent
// ~30% of its time in OpenBLAS's packing copies and C zeroing at SD's head dim 40 (a
// product with K = 40, or N = 40, packs as much as it multiplies).
#include "attention_fused.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

// GCC 12's AVX-512 intrinsics start masked operations from _mm512_undefined_ps(),
// which -Wmaybe-uninitialized reports inside the header; the AVX-512 helpers never
// cross a call boundary without the target enabled (-Wpsabi).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wpsabi"

#define SDW_AVX512 __attribute__((target("avx512f,avx512dq")))

namespace sdw::cpu {
namespace {

constexpr int64_t kRows = 8;         // query rows per register block
constexpr int64_t kKeyBlock = 128;   // keys per score block (8 x 128 floats = 4 KiB)
constexpr int64_t kKeyStep = 32;     // keys per QK register block (two vectors)
constexpr int64_t kTileRows = 64;    // query rows per task
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// exp(x) for x <= 0 (x = -inf gives a denormal-free ~1e-38; masked scores are
// zeroed separately). Cody-Waite reduction and a degree-7 polynomial, as in softmax.cpp.
SDW_AVX512 inline __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

// s[8][kKeyBlock] = q[8][d] . kt[d][0:keys] for keys a multiple of kKeyStep
// (q rows contiguous, stride d; kt rows of kKeyBlock floats).
SDW_AVX512 void scores_block(const float *q, const float *kt, int64_t d, int64_t keys, float *s) {
    for (int64_t j = 0; j < keys; j += kKeyStep) {
        __m512 a0[kRows], a1[kRows];
#pragma GCC unroll 8
        for (int64_t r = 0; r < kRows; ++r) a0[r] = a1[r] = _mm512_setzero_ps();
        const float *k = kt + j;
        for (int64_t e = 0; e < d; ++e, k += kKeyBlock) {
            const __m512 k0 = _mm512_loadu_ps(k), k1 = _mm512_loadu_ps(k + 16);
#pragma GCC unroll 8
            for (int64_t r = 0; r < kRows; ++r) {
                const __m512 qv = _mm512_set1_ps(q[r * d + e]);
                a0[r] = _mm512_fmadd_ps(qv, k0, a0[r]);
                a1[r] = _mm512_fmadd_ps(qv, k1, a1[r]);
            }
        }
#pragma GCC unroll 8
        for (int64_t r = 0; r < kRows; ++r) {
            _mm512_storeu_ps(s + r * kKeyBlock + j, a0[r]);
            _mm512_storeu_ps(s + r * kKeyBlock + j + 16, a1[r]);
        }
    }
}

// acc[r][c0 : c0 + 16 NV] = alpha[r] acc[r][...] + p[r][0:keys] . v[0:keys][c0 : ...]
// for the 8 rows r, the last vector masked by `tail` (v rows of stride ldv, acc rows
// of stride d).
template <int NV>
SDW_AVX512 void accumulate_values(const float *p, int64_t keys, const float *v, int64_t ldv,
                                  const float *alpha, float *acc, int64_t d, __mmask16 tail) {
    __m512 a[kRows][NV];
#pragma GCC unroll 8
    for (int64_t r = 0; r < kRows; ++r)
#pragma GCC unroll 4
        for (int n = 0; n < NV; ++n)
            a[r][n] = _mm512_mul_ps(_mm512_set1_ps(alpha[r]),
                                    _mm512_maskz_loadu_ps(n == NV - 1 ? tail : 0xffff, acc + r * d + 16 * n));
    for (int64_t k = 0; k < keys; ++k) {
        __m512 vv[NV];
#pragma GCC unroll 4
        for (int n = 0; n < NV; ++n)
            vv[n] = _mm512_maskz_loadu_ps(n == NV - 1 ? tail : 0xffff, v + k * ldv + 16 * n);
#pragma GCC unroll 8
        for (int64_t r = 0; r < kRows; ++r) {
            const __m512 pb = _mm512_set1_ps(p[r * kKeyBlock + k]);
#pragma GCC unroll 4
            for (int n = 0; n < NV; ++n) a[r][n] = _mm512_fmadd_ps(pb, vv[n], a[r][n]);
        }
    }
#pragma GCC unroll 8
    for (int64_t r = 0; r < kRows; ++r)
#pragma GCC unroll 4
        for (int n = 0; n < NV; ++n)
            _mm512_mask_storeu_ps(acc + r * d + 16 * n, n == NV - 1 ? tail : 0xffff, a[r][n]);
}

// acc[8][0:d] = alpha acc + p . v over all of d, three vectors (48 columns) at a time.
SDW_AVX512 void accumulate_all_values(const float *p, int64_t keys, const float *v, int64_t ldv,
                                      const float *alpha, float *acc, int64_t d) {
    for (int64_t c0 = 0; c0 < d; c0 += 48) {
        const int64_t width = std::min<int64_t>(48, d - c0);
        const int nv = static_cast<int>((width + 15) / 16);
        const int last = static_cast<int>(width - 16 * (nv - 1));
        const __mmask16 tail = static_cast<__mmask16>(last == 16 ? 0xffff : (1u << last) - 1);
        if (nv == 3) accumulate_values<3>(p, keys, v + c0, ldv, alpha, acc + c0, d, tail);
        else if (nv == 2) accumulate_values<2>(p, keys, v + c0, ldv, alpha, acc + c0, d, tail);
        else accumulate_values<1>(p, keys, v + c0, ldv, alpha, acc + c0, d, tail);
    }
}

// One row of a score block into the running softmax: masks keys >= valid, turns
// the scores into p = exp(s - new max), returns the factor that rescales what the
// row accumulated so far (0 when nothing was, 1 when the max did not move).
SDW_AVX512 float online_softmax_row(float *s, int64_t keys, int64_t valid, float &max, float &sum) {
    for (int64_t j = std::max<int64_t>(valid, 0); j < keys; ++j) s[j] = kMinusInf;
    __m512 mv = _mm512_set1_ps(max);
    for (int64_t j = 0; j < keys; j += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(s + j));
    const float new_max = _mm512_reduce_max_ps(mv);
    if (new_max == kMinusInf) {  // every key so far masked: nothing to add
        std::fill_n(s, keys, 0.0f);
        return 1.0f;
    }
    const float alpha = max == kMinusInf ? 0.0f : std::exp(max - new_max);
    const __m512 m = _mm512_set1_ps(new_max);
    __m512 total = _mm512_setzero_ps();
    for (int64_t j = 0; j < keys; j += 16) {
        const __m512 x = _mm512_loadu_ps(s + j);
        const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kMinusInf), _CMP_NEQ_OQ);
        const __m512 e = _mm512_maskz_mov_ps(live, exp_nonpositive(_mm512_sub_ps(x, m)));
        _mm512_storeu_ps(s + j, e);
        total = _mm512_add_ps(total, e);
    }
    sum = sum * alpha + _mm512_reduce_add_ps(total);
    max = new_max;
    return alpha;
}

struct TileBuffers {
    std::vector<float> q, kt, scores, acc, max, sum;
    const float *kt_of = nullptr;  // the key rows kt holds, packed for every tile of a head
};

// kt = k^T of one head in blocks of kKeyBlock keys: block i at i * d * kKeyBlock holds
// [d][kKeyBlock], keys past kv_len zero. Packed once per head and thread, then read
// by every query tile of that head.
void pack_keys(const float *kb, int64_t keys, int64_t c, int64_t d, std::vector<float> &kt) {
    const int64_t blocks = (keys + kKeyBlock - 1) / kKeyBlock;
    kt.assign(static_cast<size_t>(std::max<int64_t>(blocks, 1) * d * kKeyBlock), 0.0f);
    for (int64_t j = 0; j < keys; ++j) {
        float *dst = kt.data() + (j / kKeyBlock) * d * kKeyBlock + j % kKeyBlock;
        const float *src = kb + j * c;
        for (int64_t e = 0; e < d; ++e) dst[e * kKeyBlock] = src[e];
    }
}

SDW_AVX512 void attention_tile(const AttentionShape &a, int64_t d, float scale, const float *qb,
                               const float *vb, float *ob, int64_t r0, int64_t rows,
                               TileBuffers &buf) {
    const int64_t c = a.channels;
    const int64_t groups = (rows + kRows - 1) / kRows;
    // Scaled query rows, zero rows up to a whole register block.
    std::fill(buf.q.begin(), buf.q.end(), 0.0f);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t e = 0; e < d; ++e) buf.q[r * d + e] = qb[r * c + e] * scale;
    std::fill_n(buf.acc.begin(), groups * kRows * d, 0.0f);
    std::fill(buf.max.begin(), buf.max.end(), kMinusInf);
    std::fill(buf.sum.begin(), buf.sum.end(), 0.0f);
    // Causal: row r0 + i sees keys j <= r0 + i, so the tile needs keys < r0 + rows.
    const int64_t keys_total = a.causal ? std::min(a.kv_len, r0 + rows) : a.kv_len;
    for (int64_t k0 = 0; k0 < keys_total; k0 += kKeyBlock) {
        const int64_t keys = std::min(kKeyBlock, keys_total - k0);
        const int64_t padded = (keys + kKeyStep - 1) / kKeyStep * kKeyStep;
        const float *kt = buf.kt.data() + (k0 / kKeyBlock) * d * kKeyBlock;
        for (int64_t g = 0; g < groups; ++g) {
            float *s = buf.scores.data();
            scores_block(buf.q.data() + g * kRows * d, kt, d, padded, s);
            float alpha[kRows];
            for (int64_t r = 0; r < kRows; ++r) {
                const int64_t row = g * kRows + r;
                const int64_t valid = a.causal ? std::min(keys, r0 + row + 1 - k0) : keys;
                alpha[r] = online_softmax_row(s + r * kKeyBlock, padded, valid, buf.max[row],
                                              buf.sum[row]);
            }
            accumulate_all_values(s, keys, vb + k0 * c, c, alpha, buf.acc.data() + g * kRows * d, d);
        }
    }
    for (int64_t r = 0; r < rows; ++r) {
        const float inv = buf.sum[r] > 0.0f ? 1.0f / buf.sum[r] : 0.0f;
        for (int64_t e = 0; e < d; ++e) ob[r * c + e] = buf.acc[r * d + e] * inv;
    }
}

}  // namespace

bool fused_attention_available() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

void fused_attention(ThreadPool &pool, const AttentionShape &a, const float *q, const float *k,
                     const float *v, float *out) {
    const int64_t c = a.channels, d = c / a.heads;
    if (a.batch <= 0 || a.q_len <= 0 || d <= 0) return;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    // Enough tasks for every thread even with a single head (the VAE's mid block).
    int64_t tile = kTileRows;
    while (tile > kRows && a.batch * a.heads * ((a.q_len + tile - 1) / tile) < 4 * pool.size())
        tile /= 2;
    const int64_t tiles_per_head = (a.q_len + tile - 1) / tile;
    const int64_t tasks = a.batch * a.heads * tiles_per_head;
    const int parts = static_cast<int>(std::min<int64_t>(pool.size(), tasks));
    pool.run_parts(parts, [&](int part, int count) {
        TileBuffers buf;
        const int64_t tile_groups = (tile + kRows - 1) / kRows;
        buf.q.resize(tile_groups * kRows * d);
        buf.scores.resize(kRows * kKeyBlock);
        buf.acc.resize(tile_groups * kRows * d);
        buf.max.resize(tile_groups * kRows);
        buf.sum.resize(tile_groups * kRows);
        const int64_t t0 = tasks * part / count, t1 = tasks * (part + 1) / count;
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t b = t / (a.heads * tiles_per_head);
            const int64_t h = (t / tiles_per_head) % a.heads;
            const int64_t r0 = (t % tiles_per_head) * tile;
            const int64_t rows = std::min(tile, a.q_len - r0);
            const float *kb = k + b * a.kv_len * c + h * d;
            if (buf.kt_of != kb) {
                pack_keys(kb, a.kv_len, c, d, buf.kt);
                buf.kt_of = kb;
            }
            attention_tile(a, d, scale, q + (b * a.q_len + r0) * c + h * d,
                           v + b * a.kv_len * c + h * d, out + (b * a.q_len + r0) * c + h * d,
                           r0, rows, buf);
        }
    });
}

}  // namespace sdw::cpu

#else

namespace sdw::cpu {
bool fused_attention_available() { return false; }
void fused_attention(ThreadPool &, const AttentionShape &, const float *, const float *,
                     const float *, float *) {}
}  // namespace sdw::cpu

#endif
