// test-backend-ops style checks of the cpu-blas sdw::nn::Ops: every op on random
// inputs of awkward shapes against a naive double-precision reference written here.
#include <sdw/cpu/cpu_ops.h>
#include <sdw/nn/component.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using sdw::nn::Ops;
using sdw::nn::Shape;
using sdw::nn::Tensor;

struct Host {
    Shape shape;
    std::vector<float> v;
    int64_t numel() const { return sdw::nn::shape_numel(shape); }
};

Host random_host(const Shape &shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    Host h{shape, std::vector<float>(static_cast<size_t>(sdw::nn::shape_numel(shape)))};
    for (float &x : h.v) x = dist(rng);
    return h;
}

class CpuOpsTest : public ::testing::Test {
protected:
    std::unique_ptr<Ops> ops = sdw::cpu::make_cpu_ops();

    Tensor up(const Host &h) { return ops->from_host(h.v.data(), h.shape); }
    Tensor up_or_none(const Host &h, bool present) { return present ? up(h) : Tensor{}; }
    std::vector<float> down(const Tensor &t) {
        std::vector<float> out(static_cast<size_t>(t.numel()));
        ops->to_host(t, out.data());
        return out;
    }
};

// |got - want| <= atol + rtol * |want| everywhere, reporting the worst element.
void expect_close(const std::vector<float> &got, const std::vector<double> &want, double atol,
                  double rtol, const std::string &what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double excess = std::abs(got[i] - want[i]) - (atol + rtol * std::abs(want[i]));
        if (excess > worst || std::isnan(got[i])) {
            worst = std::isnan(got[i]) ? INFINITY : excess;
            worst_at = i;
        }
    }
    EXPECT_LE(worst, 0.0) << what << ": element " << worst_at << " got " << got[worst_at]
                          << " want " << want[worst_at];
}

void expect_equal(const std::vector<float> &got, const std::vector<double> &want,
                  const std::string &what) {
    expect_close(got, want, 0.0, 0.0, what);
}

double silu_ref(double v) { return v / (1.0 + std::exp(-v)); }
double gelu_ref(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

// ---------------------------------------------------------------------------------
// data movement

TEST_F(CpuOpsTest, FromHostToHostRoundTripsAndReshapeKeepsData) {
    Host h = random_host({2, 3, 5}, 1);
    Tensor t = up(h);
    EXPECT_EQ(t.shape, (Shape{2, 3, 5}));
    Tensor r = ops->reshape(t, {6, 5});
    EXPECT_EQ(r.shape, (Shape{6, 5}));
    std::vector<double> want(h.v.begin(), h.v.end());
    expect_equal(down(t), want, "round trip");
    expect_equal(down(r), want, "reshape");
    EXPECT_THROW(ops->reshape(t, {7, 5}), sdw::nn::ComponentError);
}

sdw_tensor_view view_of(const char *name, sdw_dtype dtype, const Shape &shape, const void *data) {
    sdw_tensor_view v{};
    v.struct_size = sizeof v;
    v.name = name;
    v.dtype = dtype;
    v.ndim = static_cast<uint32_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) v.shape[i] = shape[i];
    v.data = const_cast<void *>(data);
    v.byte_size = sdw::nn::shape_numel(shape) * sdw_dtype_size(dtype);
    return v;
}

// Big F16 matrices are kept in half precision and widened inside linear, conv2d and
// embedding: each must give exactly what the same values as F32 weights give.
TEST_F(CpuOpsTest, HalfPrecisionWeightsActLikeTheirFloatValues) {
    std::mt19937 rng(7);
    auto halves = [&](size_t n) {
        std::vector<uint16_t> h(n);
        // Normal halves of magnitude below 2 (exponent 1..15), random sign and mantissa.
        for (uint16_t &v : h)
            v = static_cast<uint16_t>(((rng() & 1u) << 15) | ((1 + rng() % 15) << 10) | (rng() & 0x3ffu));
        return h;
    };
    auto as_float = [&](const std::vector<uint16_t> &h, const Shape &shape) {
        Tensor t = ops->weight(view_of("w", SDW_DTYPE_F16, {static_cast<int64_t>(h.size())}, h.data()));
        std::vector<float> f = down(t);  // 1-D: converted at load, exactly
        return ops->weight(view_of("w32", SDW_DTYPE_F32, shape, f.data()));
    };
    const Shape lw{300, 256};
    const std::vector<uint16_t> lin = halves(300 * 256);
    Tensor lin16 = ops->weight(view_of("lin", SDW_DTYPE_F16, lw, lin.data()));
    Tensor lin32 = as_float(lin, lw);
    Tensor x = up(random_host({5, 256}, 3));
    const std::vector<float> want_linear = down(ops->linear(x, lin32, Tensor{}));
    expect_equal(down(ops->linear(x, lin16, Tensor{})),
                 std::vector<double>(want_linear.begin(), want_linear.end()), "linear");

    const Shape cw{64, 128, 3, 3};
    const std::vector<uint16_t> conv = halves(64 * 128 * 9);
    Tensor conv16 = ops->weight(view_of("conv", SDW_DTYPE_F16, cw, conv.data()));
    Tensor conv32 = as_float(conv, cw);
    Tensor img = up(random_host({1, 128, 6, 5}, 4));
    const std::vector<float> want_conv = down(ops->conv2d(img, conv32, Tensor{}, 1, 1));
    expect_equal(down(ops->conv2d(img, conv16, Tensor{}, 1, 1)),
                 std::vector<double>(want_conv.begin(), want_conv.end()), "conv2d");

    const std::vector<int32_t> ids{299, 0, 17};
    const std::vector<float> want_rows = down(ops->embedding(ids, lin32));
    expect_equal(down(ops->embedding(ids, lin16)), std::vector<double>(want_rows.begin(), want_rows.end()),
                 "embedding");
    // Anything else that reads the data refuses rather than misreads it.
    EXPECT_THROW(ops->add(lin16, lin16), sdw::nn::ComponentError);
}

TEST_F(CpuOpsTest, WeightConvertsF16AndBF16Exactly) {
    // IEEE half: 1, -2, 0.5, max normal 65504, smallest subnormal 2^-24, largest
    // subnormal 1023 * 2^-24, -0, +inf.
    const uint16_t f16[] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x03FF, 0x8000, 0x7C00};
    const double f16_want[] = {1.0, -2.0, 0.5, 65504.0, std::ldexp(1.0, -24),
                               1023 * std::ldexp(1.0, -24), -0.0, INFINITY};
    Tensor a = ops->weight(view_of("a", SDW_DTYPE_F16, {2, 4}, f16));
    EXPECT_EQ(a.shape, (Shape{2, 4}));
    expect_equal(down(a), std::vector<double>(std::begin(f16_want), std::end(f16_want)), "f16");

    // bfloat16: the top half of the float bits (1, -2.5, 3.140625).
    const uint16_t bf16[] = {0x3F80, 0xC020, 0x4049};
    Tensor b = ops->weight(view_of("b", SDW_DTYPE_BF16, {3}, bf16));
    expect_equal(down(b), {1.0, -2.5, 3.140625}, "bf16");

    const float f32[] = {0.25f, -7.0f};
    expect_equal(down(ops->weight(view_of("c", SDW_DTYPE_F32, {1, 2}, f32))), {0.25, -7.0}, "f32");
}

TEST_F(CpuOpsTest, WeightRefusesNonFloatAndMissizedData) {
    const int32_t ints[] = {1, 2};
    try {
        ops->weight(view_of("ids", SDW_DTYPE_I32, {2}, ints));
        FAIL() << "I32 weight accepted";
    } catch (const sdw::nn::ComponentError &e) {
        EXPECT_EQ(e.status, SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("ids"), std::string::npos) << e.what();
    }
    const float f32[] = {1.0f, 2.0f};
    sdw_tensor_view bad = view_of("short", SDW_DTYPE_F32, {3}, f32);
    bad.byte_size = sizeof f32;
    EXPECT_THROW(ops->weight(bad), sdw::nn::ComponentError);
}

// ---------------------------------------------------------------------------------
// conv2d

struct ConvCase {
    int64_t batch, cin, h, w, cout, k;
    int stride, padding;
    bool bias;
};

std::vector<double> conv2d_ref(const Host &x, const Host &w, const Host *bias, int stride,
                               int pad) {
    const int64_t n = x.shape[0], cin = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const int64_t cout = w.shape[0], k = w.shape[2];
    const int64_t ho = (h + 2 * pad - k) / stride + 1, wo = (wd + 2 * pad - k) / stride + 1;
    std::vector<double> y(static_cast<size_t>(n * cout * ho * wo));
    for (int64_t b = 0; b < n; ++b)
        for (int64_t co = 0; co < cout; ++co)
            for (int64_t oy = 0; oy < ho; ++oy)
                for (int64_t ox = 0; ox < wo; ++ox) {
                    double acc = bias ? bias->v[co] : 0.0;
                    for (int64_t ci = 0; ci < cin; ++ci)
                        for (int64_t ky = 0; ky < k; ++ky)
                            for (int64_t kx = 0; kx < k; ++kx) {
                                const int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                acc += double(x.v[((b * cin + ci) * h + iy) * wd + ix]) *
                                       w.v[((co * cin + ci) * k + ky) * k + kx];
                            }
                    y[((b * cout + co) * ho + oy) * wo + ox] = acc;
                }
    return y;
}

class Conv2dTest : public CpuOpsTest, public ::testing::WithParamInterface<ConvCase> {};

TEST_P(Conv2dTest, MatchesReference) {
    const ConvCase c = GetParam();
    Host x = random_host({c.batch, c.cin, c.h, c.w}, 10);
    const float ws = 1.0f / std::sqrt(float(c.cin * c.k * c.k));
    Host w = random_host({c.cout, c.cin, c.k, c.k}, 11, -ws, ws);
    Host b = random_host({c.cout}, 12);
    Tensor y = ops->conv2d(up(x), up(w), up_or_none(b, c.bias), c.stride, c.padding);
    const int64_t ho = (c.h + 2 * c.padding - c.k) / c.stride + 1;
    const int64_t wo = (c.w + 2 * c.padding - c.k) / c.stride + 1;
    EXPECT_EQ(y.shape, (Shape{c.batch, c.cout, ho, wo}));
    expect_close(down(y), conv2d_ref(x, w, c.bias ? &b : nullptr, c.stride, c.padding), 2e-6,
                 1e-5, "conv2d");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2dTest,
    ::testing::Values(ConvCase{2, 5, 9, 7, 3, 3, 1, 1, true},     // 3x3 same padding
                      ConvCase{2, 5, 9, 7, 3, 3, 2, 1, true},     // stride 2, odd size
                      ConvCase{2, 4, 9, 10, 6, 3, 2, 0, true},    // VAE downsample (pad 0)
                      ConvCase{2, 3, 10, 9, 6, 3, 1, 0, false},   // valid, no bias
                      ConvCase{1, 13, 8, 11, 7, 1, 1, 0, true},   // 1x1: direct sgemm
                      ConvCase{2, 13, 5, 3, 9, 1, 1, 0, false},   // 1x1 batch 2, no bias
                      ConvCase{1, 3, 7, 6, 5, 1, 2, 0, true},     // 1x1 stride 2
                      ConvCase{1, 2, 6, 6, 3, 1, 1, 1, true},     // 1x1 with padding
                      ConvCase{1, 3, 4, 5, 2, 5, 1, 2, true},     // kernel larger than image
                      ConvCase{1, 64, 96, 96, 8, 3, 1, 1, true},  // several im2col bands
                      ConvCase{3, 5, 40, 13, 6, 3, 1, 1, true},   // bands of several rows, batch 3
                      // Small images with many output channels: split by channels.
                      ConvCase{2, 16, 8, 8, 160, 3, 1, 1, true},
                      ConvCase{1, 8, 9, 9, 136, 3, 2, 1, false},
                      ConvCase{2, 24, 6, 6, 130, 1, 1, 0, true}),
    [](const auto &param_info) {
        const ConvCase &c = param_info.param;
        return "b" + std::to_string(c.batch) + "c" + std::to_string(c.cin) + "_" +
               std::to_string(c.h) + "x" + std::to_string(c.w) + "o" + std::to_string(c.cout) +
               "k" + std::to_string(c.k) + "s" + std::to_string(c.stride) + "p" +
               std::to_string(c.padding) + (c.bias ? "bias" : "");
    });

TEST_F(CpuOpsTest, Conv2dRefusesChannelMismatch) {
    Host x = random_host({1, 4, 5, 5}, 1);
    Host w = random_host({2, 3, 3, 3}, 2);
    try {
        ops->conv2d(up(x), up(w), Tensor{}, 1, 1);
        FAIL() << "mismatched conv accepted";
    } catch (const sdw::nn::ComponentError &e) {
        EXPECT_EQ(e.status, SDW_STATUS_INTERNAL);
    }
}

// ---------------------------------------------------------------------------------
// linear

std::vector<double> linear_ref(const Host &x, const Host &w, const Host *bias) {
    const int64_t in = w.shape[1], out = w.shape[0], rows = x.numel() / in;
    std::vector<double> y(static_cast<size_t>(rows * out));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out; ++o) {
            double acc = bias ? bias->v[o] : 0.0;
            for (int64_t i = 0; i < in; ++i) acc += double(x.v[r * in + i]) * w.v[o * in + i];
            y[r * out + o] = acc;
        }
    return y;
}

TEST_F(CpuOpsTest, LinearMatchesReference) {
    for (bool with_bias : {true, false}) {
        for (const Shape &xs : {Shape{2, 7, 13}, Shape{5, 13}, Shape{1, 77, 13}}) {
            Host x = random_host(xs, 20);
            Host w = random_host({11, 13}, 21, -0.3f, 0.3f);
            Host b = random_host({11}, 22);
            Tensor y = ops->linear(up(x), up(w), up_or_none(b, with_bias));
            Shape want_shape = xs;
            want_shape.back() = 11;
            EXPECT_EQ(y.shape, want_shape);
            expect_close(down(y), linear_ref(x, w, with_bias ? &b : nullptr), 1e-6, 1e-5,
                         "linear " + sdw::nn::shape_str(xs));
        }
    }
}

// ---------------------------------------------------------------------------------
// normalization

std::vector<double> group_norm_ref(const Host &x, int groups, const Host &g, const Host &b,
                                   double eps, bool silu) {
    const int64_t n = x.shape[0], c = x.shape[1], s = x.numel() / (n * c), cg = c / groups;
    std::vector<double> y(x.v.size());
    for (int64_t bi = 0; bi < n; ++bi)
        for (int64_t gi = 0; gi < groups; ++gi) {
            const int64_t base = (bi * c + gi * cg) * s, cnt = cg * s;
            double mean = 0, var = 0;
            for (int64_t i = 0; i < cnt; ++i) mean += x.v[base + i];
            mean /= cnt;
            for (int64_t i = 0; i < cnt; ++i) var += (x.v[base + i] - mean) * (x.v[base + i] - mean);
            var /= cnt;
            for (int64_t i = 0; i < cnt; ++i) {
                const int64_t ch = gi * cg + i / s;
                double v = (x.v[base + i] - mean) / std::sqrt(var + eps) * g.v[ch] + b.v[ch];
                y[base + i] = silu ? silu_ref(v) : v;
            }
        }
    return y;
}

TEST_F(CpuOpsTest, GroupNormMatchesReference) {
    struct Case {
        Shape shape;
        int groups;
        bool silu;
        float offset;
    };
    for (const Case &c : {Case{{2, 12, 5, 7}, 4, false, 0.0f}, Case{{2, 12, 5, 7}, 4, true, 0.0f},
                          Case{{1, 6, 9}, 3, true, 0.0f}, Case{{2, 10, 3, 3}, 10, false, 0.0f},
                          Case{{2, 8, 33, 17}, 2, true, 100.0f},   // large mean
                          Case{{1, 8, 96, 96}, 2, false, 300.0f}}) {  // many summation blocks
        Host x = random_host(c.shape, 30, c.offset - 2.0f, c.offset + 2.0f);
        Host g = random_host({c.shape[1]}, 31, 0.5f, 1.5f);
        Host b = random_host({c.shape[1]}, 32);
        Tensor y = ops->group_norm(up(x), c.groups, up(g), up(b), 1e-6f, c.silu);
        EXPECT_EQ(y.shape, c.shape);
        expect_close(down(y), group_norm_ref(x, c.groups, g, b, 1e-6, c.silu), 2e-6, 2e-5,
                     "group_norm " + sdw::nn::shape_str(c.shape));
    }
}

TEST_F(CpuOpsTest, LayerNormMatchesReference) {
    for (const Shape &shape : {Shape{2, 7, 19}, Shape{3, 768}, Shape{1, 1, 5}, Shape{2, 3000}}) {
        Host x = random_host(shape, 40, -3.0f, 5.0f);
        const int64_t d = shape.back();
        Host g = random_host({d}, 41);
        Host b = random_host({d}, 42);
        Tensor y = ops->layer_norm(up(x), up(g), up(b), 1e-5f);
        std::vector<double> want(x.v.size());
        for (int64_t r = 0; r < x.numel() / d; ++r) {
            double mean = 0, var = 0;
            for (int64_t i = 0; i < d; ++i) mean += x.v[r * d + i];
            mean /= d;
            for (int64_t i = 0; i < d; ++i) var += std::pow(x.v[r * d + i] - mean, 2);
            var /= d;
            for (int64_t i = 0; i < d; ++i)
                want[r * d + i] = (x.v[r * d + i] - mean) / std::sqrt(var + 1e-5) * g.v[i] + b.v[i];
        }
        expect_close(down(y), want, 2e-6, 2e-5, "layer_norm " + sdw::nn::shape_str(shape));
    }
}

// ---------------------------------------------------------------------------------
// attention

std::vector<double> attention_ref(const Host &q, const Host &k, const Host &v, int heads,
                                  bool causal) {
    const int64_t n = q.shape[0], nq = q.shape[1], nk = k.shape[1], c = q.shape[2], d = c / heads;
    std::vector<double> out(q.v.size(), 0.0), p(static_cast<size_t>(nk));
    for (int64_t b = 0; b < n; ++b)
        for (int64_t h = 0; h < heads; ++h)
            for (int64_t i = 0; i < nq; ++i) {
                double mx = -INFINITY;
                for (int64_t j = 0; j < nk; ++j) {
                    double s = 0;
                    for (int64_t e = 0; e < d; ++e)
                        s += double(q.v[(b * nq + i) * c + h * d + e]) * k.v[(b * nk + j) * c + h * d + e];
                    p[j] = (causal && j > i) ? -INFINITY : s / std::sqrt(double(d));
                    mx = std::max(mx, p[j]);
                }
                double sum = 0;
                for (int64_t j = 0; j < nk; ++j) sum += (p[j] = std::exp(p[j] - mx));
                for (int64_t j = 0; j < nk; ++j)
                    for (int64_t e = 0; e < d; ++e)
                        out[(b * nq + i) * c + h * d + e] += p[j] / sum * v.v[(b * nk + j) * c + h * d + e];
            }
    return out;
}

struct AttentionCase {
    int64_t batch, nq, nk, channels;
    int heads;
    bool causal;
};

class AttentionTest : public CpuOpsTest, public ::testing::WithParamInterface<AttentionCase> {};

TEST_P(AttentionTest, MatchesReference) {
    const AttentionCase a = GetParam();
    Host q = random_host({a.batch, a.nq, a.channels}, 50, -2.0f, 2.0f);
    Host k = random_host({a.batch, a.nk, a.channels}, 51, -2.0f, 2.0f);
    Host v = random_host({a.batch, a.nk, a.channels}, 52);
    Tensor y = ops->attention(up(q), up(k), up(v), a.heads, a.causal);
    EXPECT_EQ(y.shape, q.shape);
    expect_close(down(y), attention_ref(q, k, v, a.heads, a.causal), 2e-6, 2e-5, "attention");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(AttentionCase{2, 13, 13, 15, 3, true},     // CLIP-like, causal
                      AttentionCase{2, 13, 13, 15, 3, false},
                      AttentionCase{2, 9, 17, 12, 2, false},     // cross attention Nq != Nk
                      AttentionCase{2, 7, 5, 8, 1, true},        // causal, Nq > Nk
                      AttentionCase{1, 5, 7, 8, 4, true},        // causal, Nq < Nk
                      AttentionCase{1, 1100, 4096, 16, 2, false},  // several query tiles
                      AttentionCase{1, 2100, 2100, 6, 1, true},    // causal over tiles
                      // Several key blocks with a ragged last one, SD's head dim 40.
                      AttentionCase{2, 70, 300, 80, 2, false},
                      AttentionCase{1, 300, 300, 128, 2, true},  // causal, head dim 64
                      AttentionCase{1, 33, 200, 34, 2, true},    // head dim 17: masked lanes
                      AttentionCase{1, 40, 50, 272, 2, false}),  // head dim 136: two products
    [](const auto &param_info) {
        const AttentionCase &a = param_info.param;
        return "b" + std::to_string(a.batch) + "q" + std::to_string(a.nq) + "k" +
               std::to_string(a.nk) + "c" + std::to_string(a.channels) + "h" +
               std::to_string(a.heads) + (a.causal ? "causal" : "");
    });

// ---------------------------------------------------------------------------------
// embedding and element-wise

TEST_F(CpuOpsTest, EmbeddingGathersRowsAndRefusesOutOfRangeIds) {
    Host table = random_host({9, 6}, 60);
    const std::vector<int32_t> ids = {3, 0, 8, 3};
    Tensor y = ops->embedding(ids, up(table));
    EXPECT_EQ(y.shape, (Shape{4, 6}));
    std::vector<double> want;
    for (int32_t id : ids)
        for (int c = 0; c < 6; ++c) want.push_back(table.v[id * 6 + c]);
    expect_equal(down(y), want, "embedding");
    try {
        ops->embedding({1, 9}, up(table));
        FAIL() << "id 9 of a 9-row table accepted";
    } catch (const sdw::nn::ComponentError &e) {
        EXPECT_EQ(e.status, SDW_STATUS_INVALID_ARGUMENT);
    }
}

TEST_F(CpuOpsTest, ElementwiseOpsMatchReference) {
    const Shape shape{2, 3, 37, 41};  // > one parallel chunk
    Host a = random_host(shape, 70, -6.0f, 6.0f);
    Host b = random_host(shape, 71, -6.0f, 6.0f);
    auto map1 = [&](auto f) {
        std::vector<double> r;
        for (float x : a.v) r.push_back(f(double(x)));
        return r;
    };
    std::vector<double> sum, prod;
    for (size_t i = 0; i < a.v.size(); ++i) {
        sum.push_back(double(a.v[i]) + b.v[i]);
        prod.push_back(double(a.v[i]) * b.v[i]);
    }
    expect_close(down(ops->add(up(a), up(b))), sum, 0, 1e-7, "add");
    expect_close(down(ops->mul(up(a), up(b))), prod, 0, 1e-7, "mul");
    expect_close(down(ops->scale(up(a), 0.18215f)), map1([](double x) { return x * 0.18215f; }), 0,
                 1e-7, "scale");
    expect_close(down(ops->silu(up(a))), map1(silu_ref), 1e-6, 1e-6, "silu");
    expect_close(down(ops->gelu(up(a))), map1(gelu_ref), 1e-6, 1e-6, "gelu");
    expect_close(down(ops->quick_gelu(up(a))),
                 map1([](double x) { return x / (1.0 + std::exp(-1.702 * x)); }), 1e-6, 1e-6,
                 "quick_gelu");
    EXPECT_THROW(ops->add(up(a), up(random_host({2, 3, 37, 40}, 1))), sdw::nn::ComponentError);
}

TEST_F(CpuOpsTest, AddChannelBiasBroadcastsOverPixels) {
    Host x = random_host({2, 5, 3, 7}, 80);
    Host bias = random_host({2, 5}, 81);
    std::vector<double> want(x.v.size());
    for (size_t i = 0; i < x.v.size(); ++i) want[i] = double(x.v[i]) + bias.v[i / 21];
    expect_close(down(ops->add_channel_bias(up(x), up(bias))), want, 0, 1e-7, "add_channel_bias");
}

TEST_F(CpuOpsTest, GegluGatesFirstHalfWithGeluOfSecond) {
    Host x = random_host({2, 3, 2 * 11}, 90, -4.0f, 4.0f);
    std::vector<double> want;
    for (int r = 0; r < 6; ++r)
        for (int i = 0; i < 11; ++i) want.push_back(x.v[r * 22 + i] * gelu_ref(x.v[r * 22 + 11 + i]));
    Tensor y = ops->geglu(up(x));
    EXPECT_EQ(y.shape, (Shape{2, 3, 11}));
    expect_close(down(y), want, 1e-6, 1e-6, "geglu");
}

// ---------------------------------------------------------------------------------
// layout

TEST_F(CpuOpsTest, UpsampleNearest2xRepeatsEachPixel) {
    Host x = random_host({2, 3, 5, 7}, 100);
    std::vector<double> want;
    for (int p = 0; p < 6; ++p)
        for (int y = 0; y < 10; ++y)
            for (int xx = 0; xx < 14; ++xx) want.push_back(x.v[(p * 5 + y / 2) * 7 + xx / 2]);
    Tensor y = ops->upsample_nearest2x(up(x));
    EXPECT_EQ(y.shape, (Shape{2, 3, 10, 14}));
    expect_equal(down(y), want, "upsample");
}

TEST_F(CpuOpsTest, ConcatChannelsStacksPerImage) {
    Host a = random_host({2, 3, 4, 5}, 110);
    Host b = random_host({2, 2, 4, 5}, 111);
    std::vector<double> want;
    for (int n = 0; n < 2; ++n) {
        for (int i = 0; i < 60; ++i) want.push_back(a.v[n * 60 + i]);
        for (int i = 0; i < 40; ++i) want.push_back(b.v[n * 40 + i]);
    }
    Tensor y = ops->concat_channels(up(a), up(b));
    EXPECT_EQ(y.shape, (Shape{2, 5, 4, 5}));
    expect_equal(down(y), want, "concat");
}

TEST_F(CpuOpsTest, NchwNlcTransposesBothWays) {
    const int64_t n = 2, c = 37, h = 9, w = 7;  // not multiples of the 32 block
    Host x = random_host({n, c, h, w}, 120);
    std::vector<double> want;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t p = 0; p < h * w; ++p)
            for (int64_t ch = 0; ch < c; ++ch) want.push_back(x.v[(b * c + ch) * h * w + p]);
    Tensor nlc = ops->nchw_to_nlc(up(x));
    EXPECT_EQ(nlc.shape, (Shape{n, h * w, c}));
    expect_equal(down(nlc), want, "nchw_to_nlc");
    Tensor back = ops->nlc_to_nchw(nlc, h, w);
    EXPECT_EQ(back.shape, x.shape);
    expect_equal(down(back), std::vector<double>(x.v.begin(), x.v.end()), "nlc_to_nchw");
}

TEST_F(CpuOpsTest, SliceRowsTakesRowRangeOfEveryBatch) {
    Host x = random_host({2, 9, 4}, 130);
    std::vector<double> want;
    for (int b = 0; b < 2; ++b)
        for (int r = 3; r < 8; ++r)
            for (int c = 0; c < 4; ++c) want.push_back(x.v[(b * 9 + r) * 4 + c]);
    Tensor y = ops->slice_rows(up(x), 3, 5);
    EXPECT_EQ(y.shape, (Shape{2, 5, 4}));
    expect_equal(down(y), want, "slice_rows");
    EXPECT_THROW(ops->slice_rows(up(x), 5, 5), sdw::nn::ComponentError);
}

TEST_F(CpuOpsTest, Pad2dSurroundsEachPlaneWithZeros) {
    Host x = random_host({2, 3, 4, 5}, 150);
    const int top = 0, bottom = 1, left = 2, right = 1;  // asymmetric, like the VAE's (0, 1, 0, 1)
    std::vector<double> want;
    for (int p = 0; p < 6; ++p)
        for (int r = -top; r < 4 + bottom; ++r)
            for (int c = -left; c < 5 + right; ++c)
                want.push_back(r >= 0 && r < 4 && c >= 0 && c < 5 ? x.v[(p * 4 + r) * 5 + c] : 0.0);
    Tensor y = ops->pad2d(up(x), top, bottom, left, right);
    EXPECT_EQ(y.shape, (Shape{2, 3, 5, 8}));
    expect_equal(down(y), want, "pad2d");
}

// The kernels split work by thread count; one thread and more threads than cores
// must both give the reference.
TEST(CpuOpsThreads, OneThreadAndOversubscribedAgreeWithReference) {
    for (int threads : {1, 5}) {
        auto ops = sdw::cpu::make_cpu_ops(threads);
        Host x = random_host({2, 6, 11, 13}, 140, -2.0f, 3.0f);
        Host g = random_host({6}, 141), b = random_host({6}, 142);
        Tensor xt = ops->from_host(x.v.data(), x.shape);
        Tensor y = ops->group_norm(xt, 3, ops->from_host(g.v.data(), g.shape),
                                   ops->from_host(b.v.data(), b.shape), 1e-5f, true);
        std::vector<float> got(static_cast<size_t>(y.numel()));
        ops->to_host(y, got.data());
        expect_close(got, group_norm_ref(x, 3, g, b, 1e-5, true), 2e-6, 2e-5,
                     "group_norm threads " + std::to_string(threads));
        Host q = random_host({2, 19, 12}, 143), k = random_host({2, 23, 12}, 144),
             v = random_host({2, 23, 12}, 145);
        Tensor o = ops->attention(ops->from_host(q.v.data(), q.shape),
                                  ops->from_host(k.v.data(), k.shape),
                                  ops->from_host(v.v.data(), v.shape), 3, false);
        got.resize(static_cast<size_t>(o.numel()));
        ops->to_host(o, got.data());
        expect_close(got, attention_ref(q, k, v, 3, false), 2e-6, 2e-5,
                     "attention threads " + std::to_string(threads));
    }
}

}  // namespace
