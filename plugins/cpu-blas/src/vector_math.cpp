#include "vector_math.h"

#include <sdw/nn/half_convert.h>


#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SDW_X86_DISPATCH 1
// GCC 12's AVX-512 intrinsics start masked operations from _mm512_undefined_ps(),
// which -Wmaybe-uninitialized reports inside the header; and the AVX-512 helpers
// here never cross a call boundary without the target enabled (-Wpsabi).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace sdw::cpu {

using sdw::nn::bf16_to_float;
using sdw::nn::f16_to_float;
using sdw::nn::float_to_bf16;
using sdw::nn::float_to_f16;
namespace {

inline float silu_scalar(float v, float k) { return v / (1.0f + std::exp(-k * v)); }
inline float gelu_scalar(float v) { return 0.5f * v * std::erfc(-v * 0.70710678118654752f); }

#ifdef SDW_X86_DISPATCH
#define SDW_AVX512 __attribute__((target("avx512f,avx512dq")))

// exp(x), x clamped to [-87.3, 88.3] (the result stays a normal float).
SDW_AVX512 inline __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
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

SDW_AVX512 inline __m512 silu512(__m512 v, __m512 k) {
    const __m512 e = exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), k), v));
    return _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// erfc(z) by erfcc: t = 1/(1 + |z|/2), erfc(|z|) = t exp(-z^2 + P(t)), reflected for z < 0.
SDW_AVX512 inline __m512 erfc512(__m512 z) {
    const __m512 az = _mm512_abs_ps(z);
    const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f),
                                   _mm512_fmadd_ps(az, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f)));
    static constexpr float c[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                  -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
    __m512 p = _mm512_set1_ps(c[0]);
    for (int i = 1; i < 10; ++i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c[i]));
    const __m512 e = exp512(_mm512_fnmadd_ps(az, az, p));
    const __m512 pos = _mm512_mul_ps(t, e);
    const __mmask16 negative = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_sub_ps(pos, negative, _mm512_set1_ps(2.0f), pos);
}

SDW_AVX512 inline __m512 gelu512(__m512 v) {
    const __m512 e = erfc512(_mm512_mul_ps(v, _mm512_set1_ps(-0.70710678118654752f)));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), e);
}

// Applies f to whole vectors and a masked tail.
template <typename F>
SDW_AVX512 inline void map512(const float *x, float *y, int64_t n, F f) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, f(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

SDW_AVX512 void scaled_silu_avx512(const float *x, float *y, int64_t n, float k) {
    const __m512 kv = _mm512_set1_ps(k);
    map512(x, y, n, [kv](__m512 v) SDW_AVX512 { return silu512(v, kv); });
}

SDW_AVX512 void gelu_avx512(const float *x, float *y, int64_t n) {
    map512(x, y, n, [](__m512 v) SDW_AVX512 { return gelu512(v); });
}

SDW_AVX512 void gated_gelu_avx512(const float *a, const float *g, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(a + i), gelu512(_mm512_loadu_ps(g + i))));
    if (i < n) {
        const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + i),
                                                      gelu512(_mm512_maskz_loadu_ps(m, g + i))));
    }
}

SDW_AVX512 void half_to_float_avx512(const uint16_t *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(x + i))));
    for (; i < n; ++i) y[i] = f16_to_float(x[i]);
}

bool has_avx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}
const bool kAvx512 = has_avx512();
#endif

}  // namespace

void silu_inplace(float *x, int64_t n) { scaled_silu(x, x, n, 1.0f); }

void scaled_silu(const float *x, float *y, int64_t n, float k) {
#ifdef SDW_X86_DISPATCH
    if (kAvx512) return scaled_silu_avx512(x, y, n, k);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = silu_scalar(x[i], k);
}

void gelu(const float *x, float *y, int64_t n) {
#ifdef SDW_X86_DISPATCH
    if (kAvx512) return gelu_avx512(x, y, n);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = gelu_scalar(x[i]);
}

void half_to_float(const uint16_t *x, float *y, int64_t n) {
#ifdef SDW_X86_DISPATCH
    if (kAvx512) return half_to_float_avx512(x, y, n);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = f16_to_float(x[i]);
}

void gated_gelu(const float *a, const float *g, float *y, int64_t n) {
#ifdef SDW_X86_DISPATCH
    if (kAvx512) return gated_gelu_avx512(a, g, y, n);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = a[i] * gelu_scalar(g[i]);
}

}  // namespace sdw::cpu
