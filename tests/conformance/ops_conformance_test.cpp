// The Ops v2 conformance suite, after ggml's test-backend-ops: every op of every built
// backend, in every dtype it computes in, on random inputs of awkward shapes (odd
// sizes, batch 3, channel counts that are not multiples of 8), against the
// double-precision references of reference_ops.h; then plans: replayed with new input
// values (catching values a capture kept), equal to the eager forward, cancellable
// between segments. Each check prints its worst normwise relative error
// (max |got - want| / max |want|); run the binary directly for the whole table.
#include "conformance_backends.h"
#include "reference_ops.h"

#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>

#include <sdw/tensor_views.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace sdw::conformance {
namespace {

using sdw::nn::DType;
using sdw::nn::Ops;
using sdw::nn::Shape;
using sdw::nn::Tensor;

// ---------------------------------------------------------------------------------
// The table of worst errors, printed when the binary ends.

class ErrorTable : public ::testing::Environment {
public:
    static ErrorTable &instance() {
        static ErrorTable *table = [] {
            auto *t = new ErrorTable;
            ::testing::AddGlobalTestEnvironment(t);  // gtest owns it
            return t;
        }();
        return *table;
    }
    void record(const std::string &column, const std::string &op, double error) {
        std::lock_guard<std::mutex> lock(mutex_);
        double &worst = table_[op][column];
        worst = std::max(worst, error);
        columns_[column] = true;
    }
    void TearDown() override {
        if (table_.empty()) return;
        std::printf("\nconformance: worst normwise relative error per op\n%-22s", "op");
        for (const auto &[column, unused] : columns_) std::printf(" %16s", column.c_str());
        std::printf("\n");
        for (const auto &[op, row] : table_) {
            std::printf("%-22s", op.c_str());
            for (const auto &[column, unused] : columns_) {
                auto it = row.find(column);
                if (it == row.end())
                    std::printf(" %16s", "-");
                else
                    std::printf(" %16.2e", it->second);
            }
            std::printf("\n");
        }
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::map<std::string, double>> table_;
    std::map<std::string, bool> columns_;
};

struct Param {
    size_t backend;
    DType dtype;
};

// "cpu-blas/F32" where ctest lists the parameter.
void PrintTo(const Param &param, std::ostream *os) {
    *os << backends()[param.backend].name << "/" << sdw::nn::dtype_name(param.dtype);
}

std::string param_name(const ::testing::TestParamInfo<Param> &info) {
    std::string name = backends()[info.param.backend].name + "_" + sdw::nn::dtype_name(info.param.dtype);
    for (char &c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

std::vector<Param> all_params() {
    std::vector<Param> params;
    for (size_t b = 0; b < backends().size(); ++b)
        for (DType dtype : backends()[b].compute_dtypes) params.push_back({b, dtype});
    return params;
}

sdw_tensor_view view_of(const char *name, sdw_dtype dtype, const Shape &shape, const void *data) {
    return sdw::plugin::make_view(name, dtype, shape, data);
}

class OpsConformance : public ::testing::TestWithParam<Param> {
protected:
    void SetUp() override {
        const Backend &backend = backends()[GetParam().backend];
        if (const std::string why = backend.unavailable(); !why.empty())
            GTEST_SKIP() << backend.name << " is not usable here: " << why;
        dtype = GetParam().dtype;
        column = backend.name + "/" + sdw::nn::dtype_name(dtype);
        ops = backend.make();
    }

    // Relative tolerances by dtype: elementwise and layout (`simple`) or accumulating ops.
    double tolerance(bool simple) const {
        switch (dtype) {
        case DType::F32: return simple ? 1e-6 : 2e-5;
        case DType::F16: return simple ? 2e-3 : 5e-3;
        case DType::BF16: return simple ? 1.6e-2 : 3e-2;
        case DType::I32: break;
        }
        return 0.0;
    }

    // F32 host data as a device tensor of the dtype under test.
    Tensor up(const Host &h) { return ops->cast(up_f32(h), dtype); }
    Tensor up_f32(const Host &h) {
        Tensor t = ops->input(h.shape, DType::F32);
        ops->upload(t, h.v.data(), t.bytes());
        return t;
    }
    Tensor up_ids(const std::vector<int32_t> &ids) {
        Tensor t = ops->input({static_cast<int64_t>(ids.size())}, DType::I32);
        ops->upload(t, ids.data(), t.bytes());
        return t;
    }
    Tensor up_or_none(const Host &h, bool present) { return present ? up(h) : Tensor{}; }
    // A weight as a network loads it for the dtype under test.
    Tensor weight(const Host &h) { return ops->weight(view_of("w", SDW_DTYPE_F32, h.shape, h.v.data()), dtype); }
    std::vector<float> down(const Tensor &t) {
        Tensor f = ops->cast(t, DType::F32);
        std::vector<float> out(static_cast<size_t>(f.numel()));
        ops->download(f, out.data(), out.size() * sizeof(float));
        return out;
    }
    // h as the dtype under test holds it: the inputs the reference should see.
    Host held(const Host &h) { return Host{h.shape, down(up(h))}; }

    void check(const std::string &op, const Tensor &got_tensor, const Shape &shape, const std::vector<double> &want,
               bool simple) {
        EXPECT_EQ(got_tensor.shape, shape) << op;
        const std::vector<float> got = down(got_tensor);
        ASSERT_EQ(got.size(), want.size()) << op;
        double max_error = 0.0, max_want = 0.0;
        size_t worst_at = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            const double error = std::isnan(got[i]) ? INFINITY : std::abs(got[i] - want[i]);
            if (error > max_error) {
                max_error = error;
                worst_at = i;
            }
            max_want = std::max(max_want, std::abs(want[i]));
        }
        const double relative = max_want > 0 ? max_error / max_want : max_error;
        ErrorTable::instance().record(column, op, relative);
        std::cout << "worst relative error " << op << " " << column << ": " << relative << "\n";
        EXPECT_LE(relative, tolerance(simple))
            << op << ": element " << worst_at << " got " << got[worst_at] << " want " << want[worst_at];
    }

    DType dtype = DType::F32;
    std::string column;
    std::unique_ptr<Ops> ops;
};

std::vector<double> as_double(const std::vector<float> &v) { return std::vector<double>(v.begin(), v.end()); }

// ---------------------------------------------------------------------------------
// data movement and type

TEST_P(OpsConformance, UploadDownloadAndReshapeKeepData) {
    Host h = random_host({3, 5, 7}, 1);
    Tensor t = up_f32(h);
    std::vector<float> back(h.v.size());
    ops->download(t, back.data(), back.size() * 4);
    EXPECT_EQ(back, h.v);
    Tensor r = ops->reshape(up(h), {15, 7});
    check("reshape", r, {15, 7}, as_double(held(h).v), true);
    EXPECT_THROW(ops->reshape(t, {16, 7}), sdw::plugin::Error);
    EXPECT_THROW(ops->upload(t, h.v.data(), t.bytes() - 4), sdw::plugin::Error);

    const std::vector<int32_t> ids{7, -3, 0, 123456789};
    Tensor i = up_ids(ids);
    EXPECT_EQ(i.dtype, DType::I32);
    std::vector<int32_t> ids_back(ids.size());
    ops->download(i, ids_back.data(), ids_back.size() * 4);
    EXPECT_EQ(ids_back, ids);
}

TEST_P(OpsConformance, CastRoundsToNearestEven) {
    Host h = random_host({3, 7, 5}, 2, -70000.0f, 70000.0f);
    // Values that stress rounding: ties, subnormals, overflow, signed zero.
    const float specials[] = {1.0f, -0.0f, 65504.0f, 65519.0f, 65520.0f, 1e-7f, 6e-8f, 3e-5f,
                              1.0009765625f + 0.00048828125f, 3.0e38f, -1.5e-40f, 0.33333334f};
    std::copy(std::begin(specials), std::end(specials), h.v.begin());
    for (DType to : backends()[GetParam().backend].cast_dtypes) {
        Tensor c = ops->cast(up_f32(h), to);
        EXPECT_EQ(c.dtype, to);
        std::vector<double> want;
        for (float v : h.v) want.push_back(to == DType::F16 ? round_to_f16(v) : round_to_bf16(v));
        std::vector<float> got(h.v.size());
        Tensor back = ops->cast(c, DType::F32);
        ops->download(back, got.data(), got.size() * 4);
        for (size_t k = 0; k < got.size(); ++k)
            ASSERT_EQ(got[k], static_cast<float>(want[k]))
                << "cast to " << sdw::nn::dtype_name(to) << " of " << h.v[k] << " (element " << k << ")";
        ErrorTable::instance().record(column, std::string("cast_") + sdw::nn::dtype_name(to), 0.0);
    }
    Tensor same = up(h);
    EXPECT_EQ(ops->cast(same, dtype).storage, same.storage) << "a cast to the same dtype copies";
}

TEST_P(OpsConformance, WeightsConvertFromEveryFloatDtype) {
    // IEEE half: 1, -2, 0.5, max normal, smallest and largest subnormal, -0; bfloat16: the
    // top half of the float bits (1, -2.5, 3.140625).
    const uint16_t f16[] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x03FF, 0x8000, 0x3555};
    const double f16_want[] = {1.0, -2.0, 0.5, 65504.0, std::ldexp(1.0, -24), 1023 * std::ldexp(1.0, -24), -0.0,
                               0x155 / 1024.0 * 0.25 + 0.25};
    const uint16_t bf16[] = {0x3F80, 0xC020, 0x4049};
    const float f32[] = {0.25f, -7.0f, 1.0f / 3.0f};
    auto held_values = [&](const double *v, size_t n) {
        Host h{{static_cast<int64_t>(n)}, std::vector<float>(v, v + n)};
        return as_double(held(h).v);
    };
    check("weight_f16", ops->weight(view_of("a", SDW_DTYPE_F16, {2, 4}, f16), dtype), {2, 4},
          held_values(f16_want, 8), true);
    const double bf16_want[] = {1.0, -2.5, 3.140625};
    check("weight_bf16", ops->weight(view_of("b", SDW_DTYPE_BF16, {3}, bf16), dtype), {3},
          held_values(bf16_want, 3), true);
    const double f32_want[] = {0.25, -7.0, 1.0 / 3.0};
    check("weight_f32", ops->weight(view_of("c", SDW_DTYPE_F32, {3, 1}, f32), dtype), {3, 1},
          held_values(f32_want, 3), true);
}

// ---------------------------------------------------------------------------------
// layers

struct ConvCase {
    int64_t batch, cin, h, w, cout, k;
    int stride, padding;
    bool bias;
};

TEST_P(OpsConformance, Conv2d) {
    for (const ConvCase &c : {ConvCase{3, 5, 9, 7, 3, 3, 1, 1, true},    // 3x3 same padding, batch 3
                              ConvCase{2, 5, 9, 7, 3, 3, 2, 1, true},    // stride 2, odd size
                              ConvCase{2, 4, 9, 10, 6, 3, 2, 0, true},   // VAE downsample (pad 0)
                              ConvCase{2, 3, 10, 9, 6, 3, 1, 0, false},  // valid, no bias
                              ConvCase{1, 13, 8, 11, 7, 1, 1, 0, true},  // 1x1
                              ConvCase{3, 13, 5, 3, 9, 1, 1, 0, false},  // 1x1 batch 3, no bias
                              ConvCase{1, 3, 7, 6, 5, 1, 2, 0, true},    // 1x1 stride 2
                              ConvCase{1, 3, 4, 5, 2, 5, 1, 2, true},    // kernel larger than image
                              ConvCase{1, 36, 40, 44, 8, 3, 1, 1, true},  // several bands / tiles
                              ConvCase{2, 20, 8, 8, 150, 3, 1, 1, true},  // many output channels
                              ConvCase{1, 12, 9, 9, 130, 3, 2, 1, false}}) {
        Host x = held(random_host({c.batch, c.cin, c.h, c.w}, 10));
        const float ws = 1.0f / std::sqrt(float(c.cin * c.k * c.k));
        Host w = held(random_host({c.cout, c.cin, c.k, c.k}, 11, -ws, ws));
        Host b = held(random_host({c.cout}, 12));
        Tensor y = ops->conv2d(up(x), weight(w), c.bias ? weight(b) : Tensor{}, c.stride, c.padding);
        const int64_t ho = (c.h + 2 * c.padding - c.k) / c.stride + 1;
        const int64_t wo = (c.w + 2 * c.padding - c.k) / c.stride + 1;
        check("conv2d", y, {c.batch, c.cout, ho, wo}, conv2d_ref(x, w, c.bias ? &b : nullptr, c.stride, c.padding),
              false);
    }
    EXPECT_THROW(ops->conv2d(up(random_host({1, 4, 5, 5}, 1)), weight(random_host({2, 3, 3, 3}, 2)), Tensor{}, 1, 1),
                 sdw::plugin::Error);
}

TEST_P(OpsConformance, Linear) {
    for (bool with_bias : {true, false})
        for (const Shape &xs : {Shape{3, 7, 13}, Shape{5, 13}, Shape{1, 77, 13}}) {
            Host x = held(random_host(xs, 20));
            Host w = held(random_host({11, 13}, 21, -0.3f, 0.3f));
            Host b = held(random_host({11}, 22));
            Shape want_shape = xs;
            want_shape.back() = 11;
            check("linear", ops->linear(up(x), weight(w), with_bias ? weight(b) : Tensor{}), want_shape,
                  linear_ref(x, w, with_bias ? &b : nullptr), false);
        }
}

TEST_P(OpsConformance, LinearAndConvTakeHalfPrecisionWeights) {
    // A model's F16 weights: a backend may keep them in half; the product must equal
    // the one with the same values as F32 weights.
    std::vector<uint16_t> halves(300 * 70);
    std::mt19937 rng(7);
    for (uint16_t &v : halves) v = static_cast<uint16_t>(((rng() & 1u) << 15) | ((8 + rng() % 7) << 10) | (rng() & 0x3ffu));
    Host as_float{{300, 70}, {}};
    for (uint16_t v : halves) {
        uint32_t bits = (static_cast<uint32_t>(v & 0x8000u) << 16) | ((((v >> 10) & 0x1fu) + 112) << 23) | ((v & 0x3ffu) << 13);
        float f;
        std::memcpy(&f, &bits, 4);
        as_float.v.push_back(f);
    }
    Tensor w16 = ops->weight(view_of("w", SDW_DTYPE_F16, {300, 70}, halves.data()), dtype);
    Host x = held(random_host({3, 70}, 3));
    check("linear_f16_weight", ops->linear(up(x), w16, Tensor{}), {3, 300}, linear_ref(x, held(as_float), nullptr),
          false);
    Tensor c16 = ops->weight(view_of("c", SDW_DTYPE_F16, {300, 70, 1, 1}, halves.data()), dtype);
    Host img = held(random_host({1, 70, 3, 5}, 4));
    Host wc{{300, 70, 1, 1}, held(as_float).v};
    check("conv2d_f16_weight", ops->conv2d(up(img), c16, Tensor{}, 1, 0), {1, 300, 3, 5},
          conv2d_ref(img, wc, nullptr, 1, 0), false);
}

TEST_P(OpsConformance, GroupNorm) {
    struct Case {
        Shape shape;
        int groups;
        bool silu;
        float offset;
    };
    for (const Case &c : {Case{{3, 12, 5, 7}, 4, false, 0.0f}, Case{{2, 12, 5, 7}, 4, true, 0.0f},
                          Case{{1, 6, 9}, 3, true, 0.0f}, Case{{2, 10, 3, 3}, 10, false, 0.0f},
                          Case{{2, 8, 33, 17}, 2, true, 100.0f},  // large mean
                          Case{{1, 8, 96, 96}, 2, false, 30.0f}}) {
        Host x = held(random_host(c.shape, 30, c.offset - 2.0f, c.offset + 2.0f));
        Host g = held(random_host({c.shape[1]}, 31, 0.5f, 1.5f));
        Host b = held(random_host({c.shape[1]}, 32));
        check(c.silu ? "group_norm_silu" : "group_norm", ops->group_norm(up(x), c.groups, weight(g), weight(b), 1e-6f, c.silu),
              c.shape, group_norm_ref(x, c.groups, g, b, 1e-6, c.silu), false);
    }
}

TEST_P(OpsConformance, LayerNorm) {
    for (const Shape &shape : {Shape{3, 7, 19}, Shape{3, 768}, Shape{1, 1, 5}, Shape{2, 3000}}) {
        Host x = held(random_host(shape, 40, -3.0f, 5.0f));
        Host g = held(random_host({shape.back()}, 41));
        Host b = held(random_host({shape.back()}, 42));
        check("layer_norm", ops->layer_norm(up(x), weight(g), weight(b), 1e-5f), shape, layer_norm_ref(x, g, b, 1e-5),
              false);
    }
}

TEST_P(OpsConformance, Attention) {
    struct Case {
        int64_t batch, nq, nk, channels;
        int heads;
        bool causal;
    };
    for (const Case &a : {Case{3, 13, 13, 15, 3, true},     // CLIP-like, causal, batch 3
                          Case{2, 13, 13, 15, 3, false},
                          Case{2, 9, 17, 12, 2, false},     // cross attention Nq != Nk
                          Case{2, 7, 5, 8, 1, true},        // causal, Nq > Nk
                          Case{1, 5, 7, 8, 4, true},        // causal, Nq < Nk
                          Case{1, 600, 1100, 16, 2, false},  // several query tiles
                          Case{2, 70, 300, 80, 2, false},   // ragged key blocks, head dim 40
                          Case{1, 300, 300, 128, 2, true},  // causal, head dim 64
                          Case{1, 33, 200, 34, 2, true},    // head dim 17
                          Case{1, 40, 50, 272, 2, false},   // head dim 136
                          Case{1, 300, 90, 320, 2, false},  // head dim 160 (SD 1.5), several query tiles
                          Case{1, 150, 150, 128, 1, false},  // one 128-wide head (a VAE's)
                          Case{1, 40, 5000, 64, 2, false},   // long keys (split over dispatches on vulkan)
                          Case{1, 4500, 4500, 16, 2, true}}) {  // long and causal
        Host q = held(random_host({a.batch, a.nq, a.channels}, 50, -2.0f, 2.0f));
        Host k = held(random_host({a.batch, a.nk, a.channels}, 51, -2.0f, 2.0f));
        Host v = held(random_host({a.batch, a.nk, a.channels}, 52));
        check(a.causal ? "attention_causal" : "attention", ops->attention(up(q), up(k), up(v), a.heads, a.causal),
              q.shape, attention_ref(q, k, v, a.heads, a.causal), false);
    }
}

TEST_P(OpsConformance, TimestepEmbedding) {
    // Always float32 in and out, whatever the compute dtype.
    const Host t{{5}, {0.0f, 1.0f, 999.0f, 500.5f, 37.0f}};
    for (int dim : {32, 33, 320})
        for (bool flip : {true, false})
            for (float shift : {0.0f, 1.0f}) {
                Tensor y = ops->timestep_embedding(up_f32(t), dim, flip, shift);
                EXPECT_EQ(y.dtype, DType::F32);
                std::vector<float> got(static_cast<size_t>(y.numel()));
                ops->download(y, got.data(), got.size() * 4);
                const std::vector<double> want = timestep_embedding_ref(t.v, dim, flip, shift);
                // An exp within 2 ulp of the correctly rounded one (Sleef's, torch's on the
                // CPU, is within 1) moves sin(t * f) by up to 2.4e-7 * t: the bound per row.
                double worst = 0;
                bool within = true;
                for (size_t i = 0; i < got.size(); ++i) {
                    const double error = std::abs(got[i] - want[i]);
                    worst = std::max(worst, error);
                    within &= error <= 2e-7 + 2.4e-7 * std::abs(t.v[i / static_cast<size_t>(dim)]);
                }
                ErrorTable::instance().record(column, "timestep_embedding", worst);
                EXPECT_EQ(y.shape, (Shape{5, dim}));
                EXPECT_TRUE(within) << "dim " << dim << " flip " << flip << " shift " << shift << ": worst " << worst;
            }
}

// ---------------------------------------------------------------------------------
// element-wise

TEST_P(OpsConformance, ElementwiseOps) {
    const Shape shape{3, 3, 37, 41};
    Host a = held(random_host(shape, 70, -6.0f, 6.0f));
    Host b = held(random_host(shape, 71, -6.0f, 6.0f));
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
    check("add", ops->add(up(a), up(b)), shape, sum, true);
    check("mul", ops->mul(up(a), up(b)), shape, prod, true);
    check("scale", ops->scale(up(a), 0.18215f), shape, map1([](double x) { return x * 0.18215f; }), true);
    check("silu", ops->silu(up(a)), shape, map1(silu_ref), true);
    check("gelu", ops->gelu(up(a)), shape, map1(gelu_ref), true);
    check("quick_gelu", ops->quick_gelu(up(a)), shape, map1([](double x) { return x / (1.0 + std::exp(-1.702 * x)); }),
          true);
    check("clamp", ops->clamp(up(a), -2.5f, 4.0f), shape, map1([](double x) { return std::clamp(x, -2.5, 4.0); }), true);
    EXPECT_THROW(ops->add(up(a), up(random_host({3, 3, 37, 40}, 1))), sdw::plugin::Error);
}

// A tensor past 512 MiB (a 2048x2048 VAE decode's activations: more than lavapipe's
// 128 MiB maxStorageBufferRange, and more workgroups than maxComputeWorkGroupCount's
// 65535 for an element-wise op), checked where the device can hold it.
TEST_P(OpsConformance, ElementwiseOnATensorPast512MiB) {
    if (dtype != DType::F32) GTEST_SKIP() << "once is enough";
    const Shape shape{1, 36, 2048, 2048};  // 576 MiB of float32
    std::vector<float> x(static_cast<size_t>(sdw::nn::shape_numel(shape)));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 4099) - 2049.0f;
    Tensor t = ops->input(shape, DType::F32);
    ops->upload(t, x.data(), t.bytes());
    std::vector<float> y(x.size());
    ops->download(ops->scale(t, 0.5f), y.data(), t.bytes());
    size_t wrong = 0;
    for (size_t i = 0; i < x.size(); ++i) wrong += y[i] != 0.5f * x[i];
    EXPECT_EQ(wrong, 0u) << "of " << x.size() << " elements";
    ErrorTable::instance().record(column, "scale_576MiB", wrong == 0 ? 0.0 : 1.0);
}

TEST_P(OpsConformance, AddChannelBias) {
    Host x = held(random_host({3, 5, 3, 7}, 80));
    Host bias = held(random_host({3, 5}, 81));
    std::vector<double> want(x.v.size());
    for (size_t i = 0; i < x.v.size(); ++i) want[i] = double(x.v[i]) + bias.v[i / 21];
    check("add_channel_bias", ops->add_channel_bias(up(x), up(bias)), x.shape, want, true);
}

TEST_P(OpsConformance, Geglu) {
    Host x = held(random_host({3, 3, 2 * 11}, 90, -4.0f, 4.0f));
    std::vector<double> want;
    for (int r = 0; r < 9; ++r)
        for (int i = 0; i < 11; ++i) want.push_back(x.v[r * 22 + i] * gelu_ref(x.v[r * 22 + 11 + i]));
    check("geglu", ops->geglu(up(x)), {3, 3, 11}, want, true);
}

// ---------------------------------------------------------------------------------
// layout

TEST_P(OpsConformance, UpsampleNearest2x) {
    Host x = held(random_host({3, 3, 5, 7}, 100));
    std::vector<double> want;
    for (int p = 0; p < 9; ++p)
        for (int y = 0; y < 10; ++y)
            for (int xx = 0; xx < 14; ++xx) want.push_back(x.v[(p * 5 + y / 2) * 7 + xx / 2]);
    check("upsample_nearest2x", ops->upsample_nearest2x(up(x)), {3, 3, 10, 14}, want, true);
}

// The element of `shape` at multi-index `idx`, row-major.
int64_t offset(const Shape &shape, const std::vector<int64_t> &idx) {
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d) o = o * shape[d] + idx[d];
    return o;
}

// Calls f(multi-index) for every element of `shape` in row-major order.
template <typename F>
void for_each_index(const Shape &shape, F f) {
    std::vector<int64_t> idx(shape.size(), 0);
    for (int64_t n = 0; n < sdw::nn::shape_numel(shape); ++n) {
        f(idx);
        for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
            if (++idx[static_cast<size_t>(d)] < shape[static_cast<size_t>(d)]) break;
            idx[static_cast<size_t>(d)] = 0;
        }
    }
}

TEST_P(OpsConformance, ConcatAlongEveryDim) {
    const Shape sa{3, 2, 5, 7};
    for (int dim = 0; dim < 4; ++dim) {
        Shape sb = sa;
        sb[static_cast<size_t>(dim)] = 3;
        Host a = held(random_host(sa, 110 + dim)), b = held(random_host(sb, 120 + dim));
        Shape so = sa;
        so[static_cast<size_t>(dim)] += 3;
        std::vector<double> want;
        for_each_index(so, [&](std::vector<int64_t> idx) {
            const int64_t split = sa[static_cast<size_t>(dim)];
            if (idx[static_cast<size_t>(dim)] < split) {
                want.push_back(a.v[static_cast<size_t>(offset(sa, idx))]);
            } else {
                idx[static_cast<size_t>(dim)] -= split;
                want.push_back(b.v[static_cast<size_t>(offset(sb, idx))]);
            }
        });
        check("concat", ops->concat(up(a), up(b), dim), so, want, true);
    }
    EXPECT_THROW(ops->concat(up(random_host({2, 3}, 1)), up(random_host({3, 3}, 2)), 1), sdw::plugin::Error);
}

TEST_P(OpsConformance, NarrowAlongEveryDim) {
    const Shape s{3, 5, 6, 7};
    Host x = held(random_host(s, 130));
    for (int dim = 0; dim < 4; ++dim) {
        const int64_t start = 1, count = s[static_cast<size_t>(dim)] - 2;
        Shape so = s;
        so[static_cast<size_t>(dim)] = count;
        std::vector<double> want;
        for_each_index(so, [&](std::vector<int64_t> idx) {
            idx[static_cast<size_t>(dim)] += start;
            want.push_back(x.v[static_cast<size_t>(offset(s, idx))]);
        });
        check("narrow", ops->narrow(up(x), dim, start, count), so, want, true);
    }
    EXPECT_THROW(ops->narrow(up(x), 1, 3, 3), sdw::plugin::Error);
}

TEST_P(OpsConformance, NchwNlcTransposeBothWays) {
    const int64_t n = 3, c = 37, h = 9, w = 7;
    Host x = held(random_host({n, c, h, w}, 140));
    std::vector<double> want;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t p = 0; p < h * w; ++p)
            for (int64_t ch = 0; ch < c; ++ch) want.push_back(x.v[(b * c + ch) * h * w + p]);
    Tensor nlc = ops->nchw_to_nlc(up(x));
    check("nchw_to_nlc", nlc, {n, h * w, c}, want, true);
    check("nlc_to_nchw", ops->nlc_to_nchw(nlc, h, w), x.shape, as_double(x.v), true);
}

TEST_P(OpsConformance, Pad2d) {
    Host x = held(random_host({3, 3, 4, 5}, 150));
    const int top = 0, bottom = 1, left = 2, right = 1;
    std::vector<double> want;
    for (int p = 0; p < 9; ++p)
        for (int r = -top; r < 4 + bottom; ++r)
            for (int c = -left; c < 5 + right; ++c)
                want.push_back(r >= 0 && r < 4 && c >= 0 && c < 5 ? x.v[(p * 4 + r) * 5 + c] : 0.0);
    check("pad2d", ops->pad2d(up(x), top, bottom, left, right), {3, 3, 5, 8}, want, true);
}

TEST_P(OpsConformance, GatherRows) {
    Host table = held(random_host({9, 6}, 160));
    const std::vector<int32_t> ids = {3, 0, 8, 3, 5};
    std::vector<double> want;
    for (int32_t id : ids)
        for (int c = 0; c < 6; ++c) want.push_back(table.v[static_cast<size_t>(id * 6 + c)]);
    check("gather_rows", ops->gather_rows(weight(table), up_ids(ids)), {5, 6}, want, true);
    check("gather_rows_activation", ops->gather_rows(up(table), up_ids(ids)), {5, 6}, want, true);
    if (backends()[GetParam().backend].checks_indices) {
        EXPECT_THROW(ops->gather_rows(weight(table), up_ids({1, 9})), sdw::plugin::Error);
    }
}

// ---------------------------------------------------------------------------------
// plans

// A forward over three fixed inputs that touches most ops and ends three segments: a
// resnet-like block with a time embedding, cross attention on tokens, layout ops.
struct PlanFixture {
    Tensor x, context, t;  // inputs: [3, 8, 6, 5], [3, 4, 8], F32 [3]
    Tensor conv_w, conv_b, gamma, beta, time_w, q_w, k_w, norm_g, norm_b;

    std::vector<Tensor> forward(Ops &ops, DType dtype, sdw::nn::SegmentBoundary &segments) const {
        Tensor emb = ops.cast(ops.timestep_embedding(t, 16, true, 1.0f), dtype);
        Tensor h = ops.group_norm(ops.conv2d(ops.cast(x, dtype), conv_w, conv_b, 1, 1), 4, gamma, beta, 1e-5f, true);
        h = ops.add_channel_bias(h, ops.linear(emb, time_w, Tensor{}));
        segments.end_segment();
        Tensor tokens = ops.nchw_to_nlc(h);
        Tensor c = ops.cast(context, dtype);
        Tensor attended = ops.attention(ops.linear(tokens, q_w, Tensor{}), ops.linear(c, k_w, Tensor{}), c, 2, false);
        tokens = ops.layer_norm(ops.add(tokens, attended), norm_g, norm_b, 1e-5f);
        segments.end_segment();
        Tensor image = ops.nlc_to_nchw(ops.geglu(ops.concat(tokens, tokens, 2)), 6, 5);
        image = ops.narrow(ops.pad2d(ops.upsample_nearest2x(image), 0, 1, 0, 1), 2, 1, 12);
        segments.end_segment();
        return {ops.cast(ops.scale(image, 0.5f), DType::F32), ops.cast(ops.clamp(tokens, -1.0f, 1.0f), DType::F32)};
    }
};

struct CountingBoundary final : sdw::nn::SegmentBoundary {
    void end_segment() override { ++count; }
    int count = 0;
};

class PlanConformance : public OpsConformance {
protected:
    void SetUp() override {
        OpsConformance::SetUp();
        if (IsSkipped()) return;
        p.x = ops->input({3, 8, 6, 5}, DType::F32);
        p.context = ops->input({3, 4, 8}, DType::F32);
        p.t = ops->input({3}, DType::F32);
        p.conv_w = weight(random_host({8, 8, 3, 3}, 200, -0.2f, 0.2f));
        p.conv_b = weight(random_host({8}, 201));
        p.gamma = weight(random_host({8}, 202, 0.5f, 1.5f));
        p.beta = weight(random_host({8}, 203));
        p.time_w = weight(random_host({8, 16}, 204, -0.3f, 0.3f));
        p.q_w = weight(random_host({8, 8}, 205, -0.3f, 0.3f));
        p.k_w = weight(random_host({8, 8}, 206, -0.3f, 0.3f));
        p.norm_g = weight(random_host({8}, 207, 0.5f, 1.5f));
        p.norm_b = weight(random_host({8}, 208));
    }

    void fill(uint32_t seed) {
        Host x = random_host({3, 8, 6, 5}, seed), c = random_host({3, 4, 8}, seed + 1),
             t = random_host({3}, seed + 2, 0.0f, 999.0f);
        ops->upload(p.x, x.v.data(), p.x.bytes());
        ops->upload(p.context, c.v.data(), p.context.bytes());
        ops->upload(p.t, t.v.data(), p.t.bytes());
    }

    std::vector<std::vector<float>> eager() {
        CountingBoundary boundary;
        std::vector<std::vector<float>> out;
        for (const Tensor &t : p.forward(*ops, dtype, boundary)) out.push_back(down(t));
        EXPECT_EQ(boundary.count, 3);
        return out;
    }

    std::unique_ptr<sdw::nn::Plan> make_plan() {
        return ops->plan([this](sdw::nn::SegmentBoundary &segments) { return p.forward(*ops, dtype, segments); });
    }

    void expect_equal_outputs(const std::vector<Tensor> &planned, const std::vector<std::vector<float>> &want,
                              const std::string &what) {
        ASSERT_EQ(planned.size(), want.size()) << what;
        for (size_t i = 0; i < want.size(); ++i) {
            const std::vector<float> got = down(planned[i]);
            ASSERT_EQ(got.size(), want[i].size()) << what;
            double worst = 0, scale = 0;
            for (size_t k = 0; k < got.size(); ++k) {
                worst = std::max(worst, std::isnan(got[k]) ? INFINITY : std::abs(double(got[k]) - want[i][k]));
                scale = std::max(scale, std::abs(double(want[i][k])));
            }
            ErrorTable::instance().record(column, "plan_vs_eager", worst / scale);
            EXPECT_LE(worst / scale, 1e-6) << what << " output " << i;
        }
    }

    PlanFixture p;
};

TEST_P(PlanConformance, ReplaysWithNewInputsAndEqualsEager) {
    std::unique_ptr<sdw::nn::Plan> plan = make_plan();
    int between = 0;
    auto count = [&between] { ++between; };

    fill(300);
    const auto want_a = eager();
    expect_equal_outputs(plan->run(count), want_a, "first run");
    EXPECT_EQ(between, 3);

    // New values in the same input buffers: a replay must see them.
    fill(400);
    const auto want_b = eager();
    ASSERT_NE(want_a[0], want_b[0]) << "the two input sets give the same output";
    expect_equal_outputs(plan->run(count), want_b, "replay with new inputs");
    expect_equal_outputs(plan->run(count), want_b, "replay with the same inputs");
    EXPECT_EQ(between, 9);
}

TEST_P(PlanConformance, ThrowingBetweenSegmentsStopsTheRunAndLeavesThePlanUsable) {
    std::unique_ptr<sdw::nn::Plan> plan = make_plan();
    fill(500);
    int between = 0;
    EXPECT_THROW(plan->run([&between] {
        if (++between == 2) throw sdw::plugin::Error(SDW_STATUS_CANCELLED, "cancelled");
    }),
                 sdw::plugin::Error);
    EXPECT_EQ(between, 2) << "segments ran past the cancellation";
    const auto want = eager();
    expect_equal_outputs(plan->run({}), want, "run after a cancelled one");
}

TEST_P(PlanConformance, TrimKeepsWeightsAndLiveTensors) {
    fill(600);
    const auto before = eager();
    ops->trim();
    EXPECT_EQ(ops->memory().cache_bytes, 0u);
    EXPECT_GT(ops->memory().weights_bytes, 0u);
    const auto after = eager();
    EXPECT_EQ(before, after);
}

INSTANTIATE_TEST_SUITE_P(conformance, OpsConformance, ::testing::ValuesIn(all_params()), param_name);
INSTANTIATE_TEST_SUITE_P(conformance, PlanConformance, ::testing::ValuesIn(all_params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OpsConformance);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PlanConformance);

}  // namespace
}  // namespace sdw::conformance
