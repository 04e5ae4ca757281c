// Convolution as matrix products. A 1x1 stride-1 unpadded convolution is one sgemm
// per image straight on the input. Anything else goes through im2col, but over a
// band of output rows at a time so the column buffer stays within a fixed budget
// (a whole 512x512 VAE layer would need over a gigabyte of columns).
#include "kernels.h"

#include "gemm.h"

#include <algorithm>
#include <cstring>

namespace sdw::cpu {
namespace {

// Floats of im2col columns per band: 16 MiB.
constexpr int64_t kColumnBudget = int64_t{4} << 20;

void fill_bias(ThreadPool &pool, const float *bias, int64_t channels, int64_t plane, float *y) {
    pool.parallel_for(channels, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) std::fill_n(y + c * plane, plane, bias[c]);
    });
}

// cols [Cin*k*k, rows*Wo] for output rows [oy0, oy0 + rows) of one image.
void im2col_band(ThreadPool &pool, const Conv2dShape &s, const float *x, int64_t oy0,
                 int64_t rows, float *cols) {
    const int64_t k = s.kernel, wo = s.out_width(), n = rows * wo;
    pool.parallel_for(s.in_channels * k * k, 4, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t ci = r / (k * k), ky = (r / k) % k, kx = r % k;
            const float *plane = x + ci * s.height * s.width;
            float *dst = cols + r * n;
            for (int64_t oy = oy0; oy < oy0 + rows; ++oy, dst += wo) {
                const int64_t iy = oy * s.stride - s.padding + ky;
                if (iy < 0 || iy >= s.height) {
                    std::fill_n(dst, wo, 0.0f);
                    continue;
                }
                const float *src = plane + iy * s.width;
                if (s.stride == 1) {
                    // Valid ox: 0 <= ox - padding + kx < width.
                    const int64_t lo = std::clamp<int64_t>(s.padding - kx, 0, wo);
                    const int64_t hi = std::clamp<int64_t>(s.width + s.padding - kx, lo, wo);
                    std::fill_n(dst, lo, 0.0f);
                    std::memcpy(dst + lo, src + lo - s.padding + kx,
                                static_cast<size_t>(hi - lo) * sizeof(float));
                    std::fill_n(dst + hi, wo - hi, 0.0f);
                } else {
                    for (int64_t ox = 0; ox < wo; ++ox) {
                        const int64_t ix = ox * s.stride - s.padding + kx;
                        dst[ox] = (ix >= 0 && ix < s.width) ? src[ix] : 0.0f;
                    }
                }
            }
        }
    });
}

}  // namespace

void conv2d(ThreadPool &pool, Scratch &scratch, const Conv2dShape &s, const float *x,
            const float *w, const float *bias, float *y) {
    const int64_t ho = s.out_height(), wo = s.out_width(), plane = ho * wo;
    const int64_t kdim = s.in_channels * s.kernel * s.kernel;
    const float beta = bias ? 1.0f : 0.0f;
    for (int64_t b = 0; b < s.batch; ++b) {
        const float *xb = x + b * s.in_channels * s.height * s.width;
        float *yb = y + b * s.out_channels * plane;
        if (bias) fill_bias(pool, bias, s.out_channels, plane, yb);
        if (s.kernel == 1 && s.stride == 1 && s.padding == 0) {
            sgemm_parallel(pool, false, false, s.out_channels, plane, s.in_channels, 1.0f, w,
                           s.in_channels, xb, plane, beta, yb, plane);
            continue;
        }
        const int64_t band = std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(kdim * wo, 1), 1, ho);
        float *cols = scratch.get(kdim * band * wo);
        for (int64_t oy0 = 0; oy0 < ho; oy0 += band) {
            const int64_t rows = std::min(band, ho - oy0), n = rows * wo;
            im2col_band(pool, s, xb, oy0, rows, cols);
            sgemm_parallel(pool, false, false, s.out_channels, n, kdim, 1.0f, w, kdim, cols, n,
                           beta, yb + oy0 * wo, plane);
        }
    }
}

}  // namespace sdw::cpu
