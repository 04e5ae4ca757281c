// Group and layer normalization. Statistics are accumulated in double in two passes
// (mean, then the centred second moment) so they match torch's float results to
// rounding even on 8 x 64 x 64 element groups with a large mean.
#include "kernels.h"
#include "vector_math.h"

#include <cmath>

namespace sdw::cpu {
namespace {

// The mean as a float pair (hi + lo): x - hi is exact for x near the mean
// (Sterbenz), so a group with a large mean loses nothing to cancellation.
struct Moments {
    float mean_hi, mean_lo, inv_std;
};

Moments moments(const float *x, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const double mean = sum / static_cast<double>(n);
    double sq = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const double dlt = x[i] - mean;
        sq += dlt * dlt;
    }
    const double var = sq / static_cast<double>(n);
    const float hi = static_cast<float>(mean);
    return {hi, static_cast<float>(mean - hi), static_cast<float>(1.0 / std::sqrt(var + eps))};
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
                const float *src = x + base + ci * spatial;
                float *dst = y + base + ci * spatial;
                for (int64_t i = 0; i < spatial; ++i)
                    dst[i] = ((src[i] - m.mean_hi) - m.mean_lo) * a + shift;
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
