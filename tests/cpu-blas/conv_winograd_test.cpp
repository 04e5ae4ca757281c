// Winograd F(2x2, 3x3) straight against a double-precision direct convolution, on
// shapes the Ops only route to it at full size: odd heights and widths (a last
// tile half outside the image), batches, with and without bias, one and several
// bands per image, products split by output channels, one and two threads.
#include "conv_winograd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    return v;
}

std::vector<double> direct(const sdw::cpu::Conv2dShape &s, const std::vector<float> &x,
                           const std::vector<float> &w, const float *bias) {
    const int64_t h = s.height, wd = s.width;
    std::vector<double> y(static_cast<size_t>(s.batch * s.out_channels * h * wd));
    for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t co = 0; co < s.out_channels; ++co)
            for (int64_t oy = 0; oy < h; ++oy)
                for (int64_t ox = 0; ox < wd; ++ox) {
                    double acc = bias ? bias[co] : 0.0;
                    for (int64_t ci = 0; ci < s.in_channels; ++ci)
                        for (int64_t ky = 0; ky < 3; ++ky)
                            for (int64_t kx = 0; kx < 3; ++kx) {
                                const int64_t iy = oy - 1 + ky, ix = ox - 1 + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                acc += double(x[((b * s.in_channels + ci) * h + iy) * wd + ix]) *
                                       double(w[((co * s.in_channels + ci) * 3 + ky) * 3 + kx]);
                            }
                    y[((b * s.out_channels + co) * h + oy) * wd + ox] = acc;
                }
    return y;
}

struct Case {
    int64_t batch, cin, h, w, cout;
    bool bias;
    int threads;
};

class WinogradTest : public ::testing::TestWithParam<Case> {};

TEST_P(WinogradTest, MatchesDirectConvolution) {
    const Case c = GetParam();
    const sdw::cpu::Conv2dShape s{c.batch, c.cin, c.h, c.w, c.cout, 3, 1, 1};
    const auto x = random_floats(size_t(c.batch * c.cin * c.h * c.w), 1);
    const auto w = random_floats(size_t(c.cout * c.cin * 9), 2);
    const auto bias = random_floats(size_t(c.cout), 3);
    std::vector<float> y(size_t(c.batch * c.cout * c.h * c.w), -7.0f);
    sdw::cpu::ThreadPool pool(c.threads);
    sdw::cpu::Scratch scratch;
    sdw::cpu::conv3x3_winograd(pool, scratch, s, x.data(), w.data(), c.bias ? bias.data() : nullptr,
                               y.data());
    const auto want = direct(s, x, w, c.bias ? bias.data() : nullptr);
    for (size_t i = 0; i < y.size(); ++i) {
        ASSERT_LT(std::abs(y[i] - want[i]), 2e-5 + 1e-5 * std::abs(want[i])) << "element " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, WinogradTest,
                         ::testing::Values(Case{1, 3, 5, 7, 2, true, 1},       // odd sizes
                                           Case{2, 16, 9, 8, 5, false, 2},     // batch, no bias
                                           Case{1, 8, 40, 33, 6, true, 2},     // several bands
                                           Case{1, 4, 1, 1, 3, true, 1},       // a single pixel
                                           Case{1, 7, 6, 6, 5, true, 2},       // 35 weight pairs: 2 x 16 + 3
                                           Case{3, 32, 34, 30, 20, true, 2},   // bands, batch 3
                                           // Few tiles, many output channels: split by channels.
                                           Case{2, 16, 10, 12, 256, true, 2},
                                           Case{1, 16, 7, 9, 128, false, 1}));

}  // namespace
