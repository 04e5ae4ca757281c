#include "softmax.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace sdw::cpu {
namespace {

void softmax_scalar(float *row, int64_t n) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) mx = std::max(mx, row[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) sum += (row[j] = std::exp(row[j] - mx));
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < n; ++j) row[j] *= inv;
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

// exp(x) for x <= 0: x = n ln2 + r, |r| <= ln2/2, exp(r) by its degree-7 Taylor
// polynomial, 2^n through the exponent bits. Below -87 the result is flushed to
// ~1e-38, which a softmax sum cannot tell from 0.
__attribute__((target("avx512f"))) inline v16f exp_nonpositive(v16f x) {
    const v16f lo = x < -87.0f ? (v16f{} - 87.0f) : x;
    v16f t = lo * 1.44269504088896341f;
    // Round to nearest by the 1.5 * 2^23 trick (|t| < 2^22).
    const v16f n = (t + 12582912.0f) - 12582912.0f;
    const v16f r = (lo - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
    v16f p = r * (1.0f / 5040) + (1.0f / 720);
    p = p * r + (1.0f / 120);
    p = p * r + (1.0f / 24);
    p = p * r + (1.0f / 6);
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const v16i bits = (__builtin_convertvector(n, v16i) + 127) << 23;
    v16f scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

__attribute__((target("avx512f"))) void softmax_avx512(float *row, int64_t n) {
    const int64_t body = n / 16 * 16;
    float mx = -std::numeric_limits<float>::infinity();
    {
        v16f m = v16f{} - std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < body; j += 16) {
            v16f v;
            std::memcpy(&v, row + j, sizeof v);
            m = v > m ? v : m;
        }
        for (int i = 0; i < 16; ++i) mx = std::max(mx, m[i]);
        for (int64_t j = body; j < n; ++j) mx = std::max(mx, row[j]);
    }
    v16f acc{};
    for (int64_t j = 0; j < body; j += 16) {
        v16f v;
        std::memcpy(&v, row + j, sizeof v);
        v = exp_nonpositive(v - mx);
        std::memcpy(row + j, &v, sizeof v);
        acc += v;
    }
    float sum = 0.0f;
    for (int i = 0; i < 16; ++i) sum += acc[i];
    for (int64_t j = body; j < n; ++j) sum += (row[j] = std::exp(row[j] - mx));
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < body; j += 16) {
        v16f v;
        std::memcpy(&v, row + j, sizeof v);
        v *= inv;
        std::memcpy(row + j, &v, sizeof v);
    }
    for (int64_t j = body; j < n; ++j) row[j] *= inv;
}

bool has_avx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

}  // namespace

void softmax_inplace(float *row, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool avx512 = has_avx512();
    if (avx512) return softmax_avx512(row, n);
#endif
    softmax_scalar(row, n);
}

}  // namespace sdw::cpu
