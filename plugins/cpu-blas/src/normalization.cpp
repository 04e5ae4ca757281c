// Group and layer normalization. Statistics take two passes (mean, then the centred
// second moment) so they match torch's float results to rounding even on 8 x 64 x 64
// element groups with a large mean. Each pass sums 16 float lanes over blocks of
// kBlock elements and adds the block sums in double: a float lane sums only
// kBlock / 16 values (relative error ~ 64 x 2^-24 at worst), the double combine
// keeps a 1M-element group exact to float rounding, and the lanes vectorize (the
// double-only scalar loop was latency bound: 4 cycles per element and pass).
#include "kernels.h"
#include "vector_math.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#define SDW_X86_DISPATCH 1
#define SDW_AVX512 __attribute__((target("avx512f,avx512dq")))
#endif

namespace sdw::cpu {
namespace {

constexpr int64_t kLanes = 16;
constexpr int64_t kBlock = 1024;

// Sum of (x[i] - hi) - lo, or of its squares.
template <bool kSquares>
inline double lane_sum(const float *x, int64_t n, float hi, float lo) {
    double total = 0.0;
    int64_t i = 0;
    while (i + kLanes <= n) {
        float acc[kLanes] = {};
        const int64_t end = std::min(n, i + kBlock) / kLanes * kLanes;
        for (; i < end; i += kLanes)
            for (int64_t l = 0; l < kLanes; ++l) {
                const float v = x[i + l];
                if constexpr (kSquares) {
                    const float d = (v - hi) - lo;
                    acc[l] += d * d;
                } else {
                    acc[l] += (v - hi) - lo;
                }
            }
        for (int64_t l = 0; l < kLanes; ++l) total += acc[l];
    }
    for (; i < n; ++i) {
        if constexpr (kSquares) {
            const double d = (double(x[i]) - hi) - lo;
            total += d * d;
        } else {
            total += (double(x[i]) - hi) - lo;
        }
    }
    return total;
}

// dst[i] = ((src[i] - hi) - lo) * a + shift
inline void normalize(const float *src, float *dst, int64_t n, float hi, float lo, float a,
                      float shift) {
    for (int64_t i = 0; i < n; ++i) dst[i] = ((src[i] - hi) - lo) * a + shift;
}

#ifdef SDW_X86_DISPATCH
SDW_AVX512 double centred_sum_avx512(const float *x, int64_t n, float centre) {
    return lane_sum<false>(x, n, centre, 0);
}
SDW_AVX512 double centred_squares_avx512(const float *x, int64_t n, float hi, float lo) {
    return lane_sum<true>(x, n, hi, lo);
}
SDW_AVX512 void normalize_avx512(const float *src, float *dst, int64_t n, float hi, float lo,
                                 float a, float shift) {
    normalize(src, dst, n, hi, lo, a, shift);
}
bool has_avx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}
const bool kAvx512 = has_avx512();
#endif

double centred_sum(const float *x, int64_t n, float centre) {
#ifdef SDW_X86_DISPATCH
    if (kAvx512) return centred_sum_avx512(x, n, centre);
#endif
    return lane_sum<false>(x, n, centre, 0);
}

double centred_squares(const float *x, int64_t n, float hi, float lo) {
#ifdef SDW_X86_DISPATCH
    if (kAvx512) return centred_squares_avx512(x, n, hi, lo);
#endif
    return lane_sum<true>(x, n, hi, lo);
}

void normalize_array(const float *src, float *dst, int64_t n, float hi, float lo, float a,
                     float shift) {
#ifdef SDW_X86_DISPATCH
    if (kAvx512) return normalize_avx512(src, dst, n, hi, lo, a, shift);
#endif
    normalize(src, dst, n, hi, lo, a, shift);
}

// The mean as a float pair (hi + lo): x - hi is exact for x near the mean
// (Sterbenz), so a group with a large mean loses nothing to cancellation.
struct Moments {
    float mean_hi, mean_lo, inv_std;
};

Moments moments(const float *x, int64_t n, float eps) {
    // Summing x - x[0] keeps the float lane sums at the size of the spread, not of
    // the mean (a group of values 300 +- 2 would otherwise lose ~1e-8 relative).
    const float centre = n > 0 ? x[0] : 0.0f;
    const double mean = centre + centred_sum(x, n, centre) / static_cast<double>(n);
    const float hi = static_cast<float>(mean), lo = static_cast<float>(mean - hi);
    const double var = centred_squares(x, n, hi, lo) / static_cast<double>(n);
    return {hi, lo, static_cast<float>(1.0 / std::sqrt(var + eps))};
}

}  // namespace

void group_norm(ThreadPool &pool, int64_t batch, int64_t channels, int64_t spatial,
                int64_t groups, const float *x, const float *gamma, const float *beta,
                float eps, bool silu, float *y) {
    const int64_t per_group = channels / groups;
    pool.parallel_for(batch * groups, 1, [&](int64_t g0, int64_t g1) {
        for (int64_t bg = g0; bg < g1; ++bg) {
            const int64_t base = bg * per_group * spatial;
            const Moments m = moments(x + base, per_group * spatial, eps);
            const int64_t c0 = (bg % groups) * per_group;
            for (int64_t ci = 0; ci < per_group; ++ci) {
                const int64_t c = c0 + ci;
                const float a = m.inv_std * (gamma ? gamma[c] : 1.0f);
                const float shift = beta ? beta[c] : 0.0f;
                float *dst = y + base + ci * spatial;
                normalize_array(x + base + ci * spatial, dst, spatial, m.mean_hi, m.mean_lo, a, shift);
                if (silu) silu_inplace(dst, spatial);
            }
        }
    });
}

void layer_norm(ThreadPool &pool, int64_t rows, int64_t dim, const float *x,
                const float *gamma, const float *beta, float eps, float *y) {
    pool.parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float *src = x + r * dim;
            float *dst = y + r * dim;
            const Moments m = moments(src, dim, eps);
            for (int64_t i = 0; i < dim; ++i) {
                const float n = ((src[i] - m.mean_hi) - m.mean_lo) * m.inv_std;
                dst[i] = n * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f);
            }
        }
    });
}

}  // namespace sdw::cpu
