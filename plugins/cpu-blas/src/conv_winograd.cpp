// 3x3 stride-1 "same" convolutions by Winograd's F(2x2, 3x3): every 2x2 output tile
// comes from a 4x4 input tile through 16 element-wise products in a transformed
// space, so the multiply-adds drop from 36 to 16 per tile and channel pair (2.25x).
// The 16 products over all channel pairs are 16 sgemms [Cout, Cin] x [Cin, tiles],
// run per band of tile rows on one thread (as conv2d.cpp runs im2col bands). The
// transforms only add, subtract and halve, so the result stays within a few float
// roundings of the direct sum.
//
//   input  V = B^T d B,  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   weight U = G g G^T,  G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   output Y = A^T M A,  A^T = [1 1 1 0; 0 1 -1 -1]
#include "conv_winograd.h"

#include "gemm.h"

#include <algorithm>

namespace sdw::cpu {
namespace {

constexpr int64_t kPoints = 16;  // 4 x 4 transformed points per tile
// Tiles per band: the 16 products [Cout, Cin] x [Cin, tiles] want a few hundred
// columns each (each packs the weights of its point once per band) ...
constexpr int64_t kBandTiles = 512;
// ... but a band's transformed input and products, 16 (Cin + Cout) floats per
// tile, stay within 16 MiB per thread.
constexpr int64_t kBandFloats = int64_t{4} << 20;
// Fewer tiles per band run the products too thin to gain on im2col (the UNet's
// 32x32 level, 640 channels: 99 against 123 GFLOP/s per core at 48 tiles).
constexpr int64_t kMinBandTiles = 128;

struct Tiles {
    int64_t rows, cols;  // tiles down and across one image
};

// U[p][co][ci] for the 16 points p, for the weight pairs i0 <= co * cin + ci < i1.
inline void transform_weights(const float *w, int64_t plane, int64_t i0, int64_t i1, float *u) {
    for (int64_t i = i0; i < i1; ++i) {
        const float *g = w + i * 9;
        float t[4][3];  // G g
        for (int c = 0; c < 3; ++c) {
            t[0][c] = g[c];
            t[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
            t[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
            t[3][c] = g[6 + c];
        }
        for (int r = 0; r < 4; ++r) {  // (G g) G^T
            u[(r * 4 + 0) * plane + i] = t[r][0];
            u[(r * 4 + 1) * plane + i] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
            u[(r * 4 + 2) * plane + i] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
            u[(r * 4 + 3) * plane + i] = t[r][2];
        }
    }
}

// V[p][ci][t] for the tiles t of tile rows [ty0, ty0 + rows) of one image, from a
// copy of each input row padded by one zero column on the left and enough on the
// right, so every tile reads four whole columns.
inline void transform_input(const Conv2dShape &s, const Tiles &tiles, const float *x,
                            int64_t ty0, int64_t rows, float *v, int64_t ld, float *padded_rows) {
    const int64_t cin = s.in_channels, width = 2 * tiles.cols + 2;
    for (int64_t ci = 0; ci < cin; ++ci) {
        const float *plane = x + ci * s.height * s.width;
        for (int64_t r = 0; r < rows; ++r) {
            // Input rows iy = 2 ty - 1 .. 2 ty + 2, zero outside the image.
            float *d[4];
            for (int i = 0; i < 4; ++i) {
                d[i] = padded_rows + i * width;
                const int64_t iy = 2 * (ty0 + r) - 1 + i;
                std::fill_n(d[i], width, 0.0f);
                if (iy >= 0 && iy < s.height) std::copy_n(plane + iy * s.width, s.width, d[i] + 1);
            }
            // Columns of B^T d: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3.
            float *t0 = padded_rows + 4 * width, *t1 = t0 + width, *t2 = t1 + width, *t3 = t2 + width;
            for (int64_t j = 0; j < width; ++j) {
                t0[j] = d[0][j] - d[2][j];
                t1[j] = d[1][j] + d[2][j];
                t2[j] = d[2][j] - d[1][j];
                t3[j] = d[1][j] - d[3][j];
            }
            const float *t[4] = {t0, t1, t2, t3};
            float *out = v + ci * ld + r * tiles.cols;
            for (int i = 0; i < 4; ++i) {  // (B^T d) B, row i
                float *o0 = out + (i * 4 + 0) * cin * ld, *o1 = out + (i * 4 + 1) * cin * ld;
                float *o2 = out + (i * 4 + 2) * cin * ld, *o3 = out + (i * 4 + 3) * cin * ld;
                const float *ti = t[i];
                for (int64_t tx = 0; tx < tiles.cols; ++tx) {
                    const float a = ti[2 * tx], b = ti[2 * tx + 1], c = ti[2 * tx + 2], e = ti[2 * tx + 3];
                    o0[tx] = a - c;
                    o1[tx] = b + c;
                    o2[tx] = c - b;
                    o3[tx] = b - e;
                }
            }
        }
    }
}

// y (one image) for the band's tiles from M[p][co][t], plus bias.
inline void transform_output(const Conv2dShape &s, const Tiles &tiles, const float *m,
                             int64_t ld, int64_t ty0, int64_t rows, const float *bias, float *y) {
    const int64_t cout = s.out_channels, plane = cout * ld;
    const int64_t ho = s.height, wo = s.width;
    for (int64_t co = 0; co < cout; ++co) {
        const float b = bias ? bias[co] : 0.0f;
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t oy = 2 * (ty0 + r);
            float *y0 = y + (co * ho + oy) * wo;
            float *y1 = oy + 1 < ho ? y0 + wo : nullptr;
            const float *mp[16];
            for (int p = 0; p < 16; ++p) mp[p] = m + p * plane + co * ld + r * tiles.cols;
            for (int64_t tx = 0; tx < tiles.cols; ++tx) {
                // A^T M: rows s (sum) and d (difference) of each column.
                float sc[4], dc[4];
                for (int c = 0; c < 4; ++c) {
                    sc[c] = mp[c][tx] + mp[4 + c][tx] + mp[8 + c][tx];
                    dc[c] = mp[4 + c][tx] - mp[8 + c][tx] - mp[12 + c][tx];
                }
                const int64_t ox = 2 * tx;
                y0[ox] = sc[0] + sc[1] + sc[2] + b;
                if (ox + 1 < wo) y0[ox + 1] = sc[1] - sc[2] - sc[3] + b;
                if (y1) {
                    y1[ox] = dc[0] + dc[1] + dc[2] + b;
                    if (ox + 1 < wo) y1[ox + 1] = dc[1] - dc[2] - dc[3] + b;
                }
            }
        }
    }
}

// The transforms are a third of the work at 128 channels; built for AVX-512 they
// vectorize 16 tiles at a time (picked at run time, as in vector_math.cpp).
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// GCC 12's AVX-512 intrinsics trip -Wmaybe-uninitialized inside the header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define SDW_AVX512 __attribute__((target("avx512f,avx512dq")))
// 16 weight pairs at a time: their 3x3 kernels gathered at stride 9, then G g G^T
// on vectors (the scalar loop's 16 stride-`plane` stores per pair made it a few
// percent of a UNet call).
SDW_AVX512 void transform_weights_avx512(const float *w, int64_t plane, int64_t i0, int64_t i1,
                                         float *u) {
    const __m512i stride9 = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(9));
    const __m512 half = _mm512_set1_ps(0.5f);
    int64_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        __m512 g[9];
        for (int k = 0; k < 9; ++k) g[k] = _mm512_i32gather_ps(stride9, w + i * 9 + k, 4);
        __m512 t[4][3];  // G g
        for (int c = 0; c < 3; ++c) {
            t[0][c] = g[c];
            t[1][c] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(g[c], g[3 + c]), g[6 + c]));
            t[2][c] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(g[c], g[3 + c]), g[6 + c]));
            t[3][c] = g[6 + c];
        }
        for (int r = 0; r < 4; ++r) {  // (G g) G^T
            const __m512 a = t[r][0], b = t[r][1], c = t[r][2];
            _mm512_storeu_ps(u + (r * 4 + 0) * plane + i, a);
            _mm512_storeu_ps(u + (r * 4 + 1) * plane + i,
                             _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(a, b), c)));
            _mm512_storeu_ps(u + (r * 4 + 2) * plane + i,
                             _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(a, b), c)));
            _mm512_storeu_ps(u + (r * 4 + 3) * plane + i, c);
        }
    }
    transform_weights(w, plane, i, i1, u);
}
SDW_AVX512 void transform_input_avx512(const Conv2dShape &s, const Tiles &tiles, const float *x,
                                       int64_t ty0, int64_t rows, float *v, int64_t ld,
                                       float *padded_rows) {
    transform_input(s, tiles, x, ty0, rows, v, ld, padded_rows);
}
SDW_AVX512 void transform_output_avx512(const Conv2dShape &s, const Tiles &tiles, const float *m,
                                        int64_t ld, int64_t ty0, int64_t rows, const float *bias,
                                        float *y) {
    transform_output(s, tiles, m, ld, ty0, rows, bias, y);
}
bool has_avx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}
const bool kAvx512 = has_avx512();
#else
const bool kAvx512 = false;
#endif

void weights_part(const float *w, int64_t plane, int64_t i0, int64_t i1, float *u) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (kAvx512) return transform_weights_avx512(w, plane, i0, i1, u);
#endif
    transform_weights(w, plane, i0, i1, u);
}

// V (columns [0, rows * tiles.cols) of matrices with ld columns) for tile rows
// [ty0, ty0 + rows) of one image.
void input_band(const Conv2dShape &s, const Tiles &tiles, const float *x, int64_t ty0,
                int64_t rows, float *v, int64_t ld, float *padded_rows) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (kAvx512) return transform_input_avx512(s, tiles, x, ty0, rows, v, ld, padded_rows);
#endif
    transform_input(s, tiles, x, ty0, rows, v, ld, padded_rows);
}

void output_band(const Conv2dShape &s, const Tiles &tiles, const float *m, int64_t ld,
                 int64_t ty0, int64_t rows, const float *bias, float *y) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (kAvx512) return transform_output_avx512(s, tiles, m, ld, ty0, rows, bias, y);
#endif
    transform_output(s, tiles, m, ld, ty0, rows, bias, y);
}

// Small images with many channels (the UNet's 16x16 level at 1280 channels): bands
// would give each product only a few dozen tiles and pack a 1280 x 1280 weight per
// point for them. Instead all tiles of the batch form one matrix per point, and each
// of the 16 products is split over the pool along the output channels.
// The scratch floats it needs after the transformed weights.
int64_t by_channels_floats(const Conv2dShape &s, const Tiles &tiles, int threads) {
    return kPoints * (s.in_channels + s.out_channels) * s.batch * tiles.rows * tiles.cols +
           threads * 8 * (2 * tiles.cols + 2);
}

// u: the transformed weights, followed by by_channels_floats() of scratch.
void winograd_by_channels(ThreadPool &pool, const Conv2dShape &s, const Tiles &tiles,
                          const float *x, const float *u, const float *bias, float *y) {
    const int64_t cin = s.in_channels, cout = s.out_channels;
    const int64_t per_image = tiles.rows * tiles.cols, n = s.batch * per_image;
    const int64_t row_floats = 8 * (2 * tiles.cols + 2);
    float *v = const_cast<float *>(u) + kPoints * cout * cin;
    float *m = v + kPoints * cin * n;
    float *rows_all = m + kPoints * cout * n;
    pool.run_parts(pool.size(), [&](int part, int count) {
        const int64_t tasks = s.batch * tiles.rows;
        for (int64_t t = tasks * part / count; t < tasks * (part + 1) / count; ++t) {
            const int64_t b = t / tiles.rows, ty = t % tiles.rows;
            input_band(s, tiles, x + b * cin * s.height * s.width, ty, 1,
                       v + b * per_image + ty * tiles.cols, n, rows_all + part * row_floats);
        }
    });
    for (int64_t p = 0; p < kPoints; ++p)
        sgemm_parallel(pool, false, false, cout, n, cin, 1.0f, u + p * cout * cin, cin,
                       v + p * cin * n, n, 0.0f, m + p * cout * n, n);
    pool.parallel_for(s.batch * tiles.rows, 1, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t b = t / tiles.rows, ty = t % tiles.rows;
            output_band(s, tiles, m + b * per_image + ty * tiles.cols, n, ty, 1, bias,
                        y + b * cout * s.height * s.width);
        }
    });
}

// Tiles below which the products run split by output channels (winograd_by_channels).
bool by_channels(const Conv2dShape &s, int64_t tiles, int threads) {
    return tiles < threads * kBandTiles && s.out_channels >= 128 * threads;
}

}  // namespace

bool winograd_applies(const Conv2dShape &s, int threads) {
    const int64_t tiles = s.batch * ((s.height + 1) / 2) * ((s.width + 1) / 2);
    return s.kernel == 3 && s.stride == 1 && s.padding == 1 && s.in_channels >= 16 &&
           s.out_channels >= 16 &&
           (tiles >= threads * 2 * kMinBandTiles || (by_channels(s, tiles, threads) && tiles >= 64));
}

void conv3x3_winograd(ThreadPool &pool, Scratch &scratch, const Conv2dShape &s, const float *x,
                      const float *w, const float *bias, float *y) {
    const Tiles tiles{(s.height + 1) / 2, (s.width + 1) / 2};
    const int64_t cin = s.in_channels, cout = s.out_channels;
    const int threads = pool.size();
    if (by_channels(s, s.batch * tiles.rows * tiles.cols, threads)) {
        float *u = scratch.get(kPoints * cout * cin + by_channels_floats(s, tiles, threads));
        pool.parallel_for(cout * cin, 256,
                          [&](int64_t i0, int64_t i1) { weights_part(w, cout * cin, i0, i1, u); });
        winograd_by_channels(pool, s, tiles, x, u, bias, y);
        return;
    }
    const int64_t band_tiles =
        std::clamp<int64_t>(kBandFloats / (kPoints * (cin + cout)), kMinBandTiles, kBandTiles);
    int64_t band = std::clamp<int64_t>((band_tiles + tiles.cols - 1) / tiles.cols, 1, tiles.rows);
    // Bands are split statically over the threads, so one per thread is enough;
    // more would only pack the weights more often.
    const int64_t min_bands = threads;
    if (s.batch * ((tiles.rows + band - 1) / band) < min_bands)
        band = std::max<int64_t>((kMinBandTiles + tiles.cols - 1) / tiles.cols,
                                 (s.batch * tiles.rows + min_bands - 1) / min_bands);
    band = std::clamp<int64_t>(band, 1, tiles.rows);
    const int64_t bands_per_image = (tiles.rows + band - 1) / band;
    const int64_t tasks = s.batch * bands_per_image;
    const int parts = static_cast<int>(std::min<int64_t>(threads, tasks));
    const int64_t band_n = band * tiles.cols;
    const int64_t row_floats = 8 * (2 * tiles.cols + 2);
    const int64_t per_part = kPoints * (cin + cout) * band_n + row_floats;
    float *u = scratch.get(kPoints * cout * cin + parts * per_part);
    pool.parallel_for(cout * cin, 256,
                      [&](int64_t i0, int64_t i1) { weights_part(w, cout * cin, i0, i1, u); });

    pool.run_parts(parts, [&](int part, int count) {
        float *v = u + kPoints * cout * cin + part * per_part;
        float *m = v + kPoints * cin * band_n;
        float *rows_buf = m + kPoints * cout * band_n;
        const int64_t t0 = tasks * part / count, t1 = tasks * (part + 1) / count;
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t b = t / bands_per_image, ty0 = (t % bands_per_image) * band;
            const int64_t rows = std::min(band, tiles.rows - ty0), n = rows * tiles.cols;
            input_band(s, tiles, x + b * cin * s.height * s.width, ty0, rows, v, n, rows_buf);
            for (int64_t p = 0; p < kPoints; ++p)
                sgemm(false, false, cout, n, cin, 1.0f, u + p * cout * cin, cin, v + p * cin * n, n,
                      0.0f, m + p * cout * n, n);
            output_band(s, tiles, m, n, ty0, rows, bias, y + b * cout * s.height * s.width);
        }
    });
}

}  // namespace sdw::cpu
