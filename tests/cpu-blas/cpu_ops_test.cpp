// What is particular to the cpu-blas Ops (every op against its reference runs in the
// conformance suite, tests/conformance): F16 weights kept in half precision, the
// refusals of weight(), the memory report and trim(), thread counts, and the shapes
// that reach the kernels' tiled paths (im2col bands, fused attention tiles).
#include <sdw/cpu/cpu_ops.h>
#include <sdw/nn/component.h>

#include "reference_ops.h"

#include <sdw/tensor_views.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using sdw::conformance::Host;
using sdw::conformance::random_host;
using sdw::nn::DType;
using sdw::nn::Ops;
using sdw::nn::Shape;
using sdw::nn::Tensor;

sdw_tensor_view view_of(const char *name, sdw_dtype dtype, const Shape &shape, const void *data) {
    return sdw::plugin::make_view(name, dtype, shape, data);
}

class CpuOpsTest : public ::testing::Test {
public:
    std::unique_ptr<Ops> ops = sdw::cpu::make_cpu_ops();

    Tensor up(const Host &h) { return up(*ops, h); }
    static Tensor up(Ops &o, const Host &h) {
        Tensor t = o.input(h.shape, DType::F32);
        o.upload(t, h.v.data(), t.bytes());
        return t;
    }
    std::vector<float> down(const Tensor &t) { return down(*ops, t); }
    static std::vector<float> down(Ops &o, const Tensor &t) {
        std::vector<float> out(static_cast<size_t>(t.numel()));
        o.download(t, out.data(), t.bytes());
        return out;
    }
};

// |got - want| <= atol + rtol * |want| everywhere, reporting the worst element.
void expect_close(const std::vector<float> &got, const std::vector<double> &want, double atol, double rtol,
                  const std::string &what) {
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
    EXPECT_LE(worst, 0.0) << what << ": element " << worst_at << " got " << got[worst_at] << " want "
                          << want[worst_at];
}

// Big F16 matrices stay in half precision and are widened inside linear, conv2d and
// gather_rows: each must give exactly what the same values as F32 weights give.
TEST_F(CpuOpsTest, HalfPrecisionWeightsStayHalfAndActLikeTheirFloatValues) {
    std::mt19937 rng(7);
    auto halves = [&](size_t n) {
        std::vector<uint16_t> h(n);
        // Normal halves of magnitude below 2 (exponent 1..15), random sign and mantissa.
        for (uint16_t &v : h)
            v = static_cast<uint16_t>(((rng() & 1u) << 15) | ((1 + rng() % 15) << 10) | (rng() & 0x3ffu));
        return h;
    };
    auto as_float = [&](const std::vector<uint16_t> &h, const Shape &shape) {
        Tensor t = ops->weight(view_of("w", SDW_DTYPE_F16, {static_cast<int64_t>(h.size())}, h.data()), DType::F32);
        EXPECT_EQ(t.dtype, DType::F32) << "a 1-D weight is converted at load";
        std::vector<float> f = down(t);
        return ops->weight(view_of("w32", SDW_DTYPE_F32, shape, f.data()), DType::F32);
    };
    auto same = [](const std::vector<float> &a, const std::vector<float> &b) { return a == b; };
    const Shape lw{300, 256};
    const std::vector<uint16_t> lin = halves(300 * 256);
    Tensor lin16 = ops->weight(view_of("lin", SDW_DTYPE_F16, lw, lin.data()), DType::F32);
    EXPECT_EQ(lin16.dtype, DType::F16);
    Tensor lin32 = as_float(lin, lw);
    Tensor x = up(random_host({5, 256}, 3));
    EXPECT_TRUE(same(down(ops->linear(x, lin16, Tensor{})), down(ops->linear(x, lin32, Tensor{})))) << "linear";

    const Shape cw{64, 128, 3, 3};
    const std::vector<uint16_t> conv = halves(64 * 128 * 9);
    Tensor conv16 = ops->weight(view_of("conv", SDW_DTYPE_F16, cw, conv.data()), DType::F32);
    Tensor img = up(random_host({1, 128, 6, 5}, 4));
    EXPECT_TRUE(same(down(ops->conv2d(img, conv16, Tensor{}, 1, 1)),
                     down(ops->conv2d(img, as_float(conv, cw), Tensor{}, 1, 1))))
        << "conv2d";

    Tensor ids = ops->input({3}, DType::I32);
    const int32_t rows[] = {299, 0, 17};
    ops->upload(ids, rows, sizeof rows);
    EXPECT_TRUE(same(down(ops->gather_rows(lin16, ids)), down(ops->gather_rows(lin32, ids)))) << "gather_rows";
    // Anything else that reads the data refuses rather than misreads it.
    try {
        ops->add(lin16, lin16);
        FAIL() << "an F16 tensor was added";
    } catch (const sdw::plugin::Error &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INTERNAL);
        EXPECT_NE(std::string(e.what()).find("computes in F32"), std::string::npos) << e.what();
    }
}

TEST_F(CpuOpsTest, WeightRefusesNonFloatAndMissizedData) {
    const int32_t ints[] = {1, 2};
    try {
        ops->weight(view_of("ids", SDW_DTYPE_I32, {2}, ints), DType::F32);
        FAIL() << "I32 weight accepted";
    } catch (const sdw::plugin::Error &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("ids"), std::string::npos) << e.what();
    }
    const float f32[] = {1.0f, 2.0f};
    sdw_tensor_view bad = view_of("short", SDW_DTYPE_F32, {3}, f32);
    bad.byte_size = sizeof f32;
    EXPECT_THROW(ops->weight(bad, DType::F32), sdw::plugin::Error);
}

TEST_F(CpuOpsTest, MemoryReportCountsWeightsAndCacheAndTrimEmptiesTheCache) {
    EXPECT_EQ(ops->memory().weights_bytes, 0u);
    std::vector<float> values(1000, 0.5f);
    {
        Tensor w = ops->weight(view_of("w", SDW_DTYPE_F32, {10, 100}, values.data()), DType::F32);
        EXPECT_EQ(ops->memory().weights_bytes, 4000u);
        // Activations go back to the cache when they die (blocks of 256 KiB and more).
        Tensor a = ops->linear(up(random_host({1024, 100}, 1)), w, Tensor{});
    }
    EXPECT_EQ(ops->memory().weights_bytes, 0u) << "a freed weight still counts";
    EXPECT_GT(ops->memory().cache_bytes, 0u);
    ops->trim();
    EXPECT_EQ(ops->memory().cache_bytes, 0u);
    EXPECT_EQ(ops->memory().plans_bytes, 0u) << "eager plans hold nothing";
}

// The kernels split work by thread count; one thread and more threads than cores
// must both give the reference.
TEST(CpuOpsThreads, OneThreadAndOversubscribedAgreeWithReference) {
    for (int threads : {1, 5}) {
        auto ops = sdw::cpu::make_cpu_ops(threads);
        EXPECT_EQ(sdw::cpu::thread_count(*ops), threads);
        Host x = random_host({2, 6, 11, 13}, 140, -2.0f, 3.0f);
        Host g = random_host({6}, 141), b = random_host({6}, 142);
        Tensor y = ops->group_norm(CpuOpsTest::up(*ops, x), 3, CpuOpsTest::up(*ops, g), CpuOpsTest::up(*ops, b),
                                   1e-5f, true);
        expect_close(CpuOpsTest::down(*ops, y), sdw::conformance::group_norm_ref(x, 3, g, b, 1e-5, true), 2e-6, 2e-5,
                     "group_norm threads " + std::to_string(threads));
        Host q = random_host({2, 19, 12}, 143), k = random_host({2, 23, 12}, 144), v = random_host({2, 23, 12}, 145);
        Tensor o = ops->attention(CpuOpsTest::up(*ops, q), CpuOpsTest::up(*ops, k), CpuOpsTest::up(*ops, v), 3, false);
        expect_close(CpuOpsTest::down(*ops, o), sdw::conformance::attention_ref(q, k, v, 3, false), 2e-6, 2e-5,
                     "attention threads " + std::to_string(threads));
    }
}

// Shapes that only large images reach: several im2col bands, several query tiles of the
// fused attention, causal masking across tiles.
TEST_F(CpuOpsTest, TiledKernelPathsMatchReference) {
    Host x = random_host({1, 64, 96, 96}, 10);
    const float ws = 1.0f / std::sqrt(64.0f * 9.0f);
    Host w = random_host({8, 64, 3, 3}, 11, -ws, ws), b = random_host({8}, 12);
    expect_close(down(ops->conv2d(up(x), up(w), up(b), 1, 1)), sdw::conformance::conv2d_ref(x, w, &b, 1, 1), 2e-6,
                 1e-5, "conv2d bands");
    for (const auto &[nq, nk, c, heads, causal] :
         {std::tuple{1100, 4096, 16, 2, false}, std::tuple{2100, 2100, 6, 1, true}}) {
        Host q = random_host({1, nq, c}, 50, -2.0f, 2.0f), k = random_host({1, nk, c}, 51, -2.0f, 2.0f),
             v = random_host({1, nk, c}, 52);
        expect_close(down(ops->attention(up(q), up(k), up(v), heads, causal)),
                     sdw::conformance::attention_ref(q, k, v, heads, causal), 2e-6, 2e-5,
                     "attention " + std::to_string(nq) + "x" + std::to_string(nk));
    }
}

}  // namespace
