// Convolution as matrix products. A 1x1 stride-1 unpadded convolution is an sgemm
// straight on the input. Anything else goes through im2col, but over a band of
// output rows at a time so the column buffer stays within a fixed budget (a whole
// 512x512 VAE layer would need over a gigabyte of columns).
#include "kernels.h"

#include "conv_winograd.h"
#include "gemm.h"

#include <algorithm>
#include <cstring>

namespace sdw::cpu {
namespace {

// Columns (output pixels) per band: a band's product packs the weights once and the
// band's columns once, so its cost per multiply-add is about 1/Cout + 1/columns;
// columns = 4 x Cout measured best (SD's VAE at 512x512, Cout 128: 512 columns ran
// at 110 GFLOP/s per core, 4096 at 91, the columns then fall out of L2 before
// they are packed; Cout 256 and 512 gain up to 1024 and 2048 columns).
constexpr int64_t kColumnsPerOutputChannel = 4;
// At most this many floats of im2col columns per band and thread (16 MiB).
constexpr int64_t kColumnBudget = int64_t{4} << 20;

// y[c, 0:n] = bias[c] for rows c of length `plane`.
void fill_bias(const float *bias, int64_t channels, int64_t plane, int64_t n, float *y) {
    for (int64_t c = 0; c < channels; ++c) std::fill_n(y + c * plane, n, bias[c]);
}

// cols [Cin*k*k, rows*Wo] for output rows [oy0, oy0 + rows) of one image.
void im2col_band(const Conv2dShape &s, const float *x, int64_t oy0, int64_t rows, float *cols) {
    const int64_t k = s.kernel, wo = s.out_width(), n = rows * wo;
    for (int64_t r = 0; r < s.in_channels * k * k; ++r) {
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
}

// Columns per band below which a band's product is too thin to run well alone.
constexpr int64_t kMinBandColumns = 512;

// Small images (the UNet's 8x8 and 16x16 levels): bands would be products of a
// few dozen columns, so instead each image is one band whose product is split over
// the pool along the output channels.
void conv2d_by_channels(ThreadPool &pool, Scratch &scratch, const Conv2dShape &s,
                        const float *x, const float *w, const float *bias, float *y) {
    const int64_t ho = s.out_height(), wo = s.out_width(), plane = ho * wo;
    const int64_t kdim = s.in_channels * s.kernel * s.kernel;
    const bool pointwise = s.kernel == 1 && s.stride == 1 && s.padding == 0;
    float *cols = pointwise ? nullptr : scratch.get(kdim * plane);
    for (int64_t b = 0; b < s.batch; ++b) {
        const float *xb = x + b * s.in_channels * s.height * s.width;
        float *yb = y + b * s.out_channels * plane;
        if (bias)
            pool.parallel_for(s.out_channels, 16, [&](int64_t c0, int64_t c1) {
                fill_bias(bias + c0, c1 - c0, plane, plane, yb + c0 * plane);
            });
        if (!pointwise) {
            const int64_t per_channel = s.kernel * s.kernel;
            pool.parallel_for(s.in_channels, 4, [&](int64_t c0, int64_t c1) {
                Conv2dShape part = s;
                part.in_channels = c1 - c0;
                im2col_band(part, xb + c0 * s.height * s.width, 0, ho, cols + c0 * per_channel * plane);
            });
        }
        sgemm_parallel(pool, false, false, s.out_channels, plane, pointwise ? s.in_channels : kdim,
                       1.0f, w, pointwise ? s.in_channels : kdim, pointwise ? xb : cols, plane,
                       bias ? 1.0f : 0.0f, yb, plane);
    }
}

}  // namespace

// Every output row band is an independent task: its im2col and its single-threaded
// product run on one thread, so the columns go from that thread's im2col straight
// into its own packing while still in cache, no thread waits between the two, and
// each product sees all Cout rows (a band split across threads by rows would pack
// the same columns once per thread for half the multiply-adds each).
void conv2d(ThreadPool &pool, Scratch &scratch, const Conv2dShape &s, const float *x,
            const float *w, const float *bias, float *y) {
    if (winograd_applies(s, pool.size())) return conv3x3_winograd(pool, scratch, s, x, w, bias, y);
    const int64_t ho = s.out_height(), wo = s.out_width(), plane = ho * wo;
    const int64_t kdim = s.in_channels * s.kernel * s.kernel;
    const float beta = bias ? 1.0f : 0.0f;
    const bool pointwise = s.kernel == 1 && s.stride == 1 && s.padding == 0;
    const int threads = pool.size();
    // Rows per band: within the column budget, and small enough that every thread
    // gets a few bands (the last band of a thread is the imbalance).
    const int64_t columns = std::max<int64_t>(kMinBandColumns, kColumnsPerOutputChannel * s.out_channels);
    int64_t band = std::clamp<int64_t>(
        std::min((columns + wo - 1) / wo, kColumnBudget / std::max<int64_t>(kdim * wo, 1)), 1, ho);
    const int64_t min_bands = threads * 3;
    if (s.batch * ((ho + band - 1) / band) < min_bands)
        band = std::max<int64_t>(1, (s.batch * ho + min_bands - 1) / min_bands);
    if (band * wo < kMinBandColumns && s.out_channels >= 64 * threads) {
        conv2d_by_channels(pool, scratch, s, x, w, bias, y);
        return;
    }
    const int64_t bands_per_image = (ho + band - 1) / band;
    const int64_t tasks = s.batch * bands_per_image;
    const int parts = static_cast<int>(std::min<int64_t>(threads, tasks));
    float *cols_all = pointwise ? nullptr : scratch.get(parts * kdim * band * wo);

    pool.run_parts(parts, [&](int part, int count) {
        float *cols = pointwise ? nullptr : cols_all + part * kdim * band * wo;
        const int64_t t0 = tasks * part / count, t1 = tasks * (part + 1) / count;
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t b = t / bands_per_image, oy0 = (t % bands_per_image) * band;
            const int64_t rows = std::min(band, ho - oy0), n = rows * wo;
            const float *xb = x + b * s.in_channels * s.height * s.width;
            float *yb = y + b * s.out_channels * plane + oy0 * wo;
            if (bias) fill_bias(bias, s.out_channels, plane, n, yb);
            if (pointwise) {
                sgemm(false, false, s.out_channels, n, s.in_channels, 1.0f, w, s.in_channels,
                      xb + oy0 * wo, plane, beta, yb, plane);
                continue;
            }
            im2col_band(s, xb, oy0, rows, cols);
            sgemm(false, false, s.out_channels, n, kdim, 1.0f, w, kdim, cols, n, beta, yb, plane);
        }
    });
}

}  // namespace sdw::cpu
