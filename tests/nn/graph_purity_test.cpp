// The networks' forwards are graph-pure, which is what lets a backend capture them: run
// through an Ops that records every call, each forward (1) makes no upload, download,
// input or weight call, and (2) makes the same sequence of ops with the same shapes for
// other input values, i.e. no host branching on data. A capture-based backend relies
// on both; this checks them for every network on the CPU.
#include "component_fixture.h"

#include <gtest/gtest.h>

#include <sdw/cpu/cpu_ops.h>

#include <string>
#include <vector>

namespace sdw::nn::test {
namespace {

// Forwards every call to the cpu-blas Ops, recording the op and its result's shape, and
// counting the calls a forward must not make.
class TracingOps final : public Ops {
public:
    std::vector<std::string> trace;
    int forbidden_in_forward = 0;

    DType compute_dtype() const override { return inner_->compute_dtype(); }
    MemoryUse memory() const override { return inner_->memory(); }
    void trim() override { inner_->trim(); }

    Tensor input(const Shape &shape, DType dtype) override {
        forbid("input");
        return inner_->input(shape, dtype);
    }
    void upload(const Tensor &dst, const void *data, uint64_t bytes) override {
        forbid("upload");
        inner_->upload(dst, data, bytes);
    }
    void download(const Tensor &src, void *data, uint64_t bytes) override {
        forbid("download");
        inner_->download(src, data, bytes);
    }
    Tensor weight(const sdw_tensor_view &view, DType compute) override {
        forbid("weight");
        return inner_->weight(view, compute);
    }
    std::unique_ptr<Plan> plan(Forward forward) override {
        return std::make_unique<EagerPlan>([this, forward](SegmentBoundary &segments) {
            in_forward_ = true;
            trace.push_back("begin");
            std::vector<Tensor> out = forward(segments);
            in_forward_ = false;
            return out;
        });
    }

#define SDW_TRACE(call, ...)                      \
    Tensor result = inner_->call(__VA_ARGS__);    \
    trace.push_back(#call + shape_str(result.shape)); \
    return result
    Tensor reshape(const Tensor &x, const Shape &s) override { SDW_TRACE(reshape, x, s); }
    Tensor cast(const Tensor &x, DType d) override { SDW_TRACE(cast, x, d); }
    Tensor narrow(const Tensor &x, int d, int64_t a, int64_t n) override { SDW_TRACE(narrow, x, d, a, n); }
    Tensor concat(const Tensor &a, const Tensor &b, int d) override { SDW_TRACE(concat, a, b, d); }
    Tensor nchw_to_nlc(const Tensor &x) override { SDW_TRACE(nchw_to_nlc, x); }
    Tensor nlc_to_nchw(const Tensor &x, int64_t h, int64_t w) override { SDW_TRACE(nlc_to_nchw, x, h, w); }
    Tensor upsample_nearest2x(const Tensor &x) override { SDW_TRACE(upsample_nearest2x, x); }
    Tensor pad2d(const Tensor &x, int t, int b, int l, int r) override { SDW_TRACE(pad2d, x, t, b, l, r); }
    Tensor gather_rows(const Tensor &t, const Tensor &i) override { SDW_TRACE(gather_rows, t, i); }
    Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &b, int s, int p) override {
        SDW_TRACE(conv2d, x, w, b, s, p);
    }
    Tensor linear(const Tensor &x, const Tensor &w, const Tensor &b) override { SDW_TRACE(linear, x, w, b); }
    Tensor group_norm(const Tensor &x, int g, const Tensor &w, const Tensor &b, float e, bool s) override {
        SDW_TRACE(group_norm, x, g, w, b, e, s);
    }
    Tensor layer_norm(const Tensor &x, const Tensor &w, const Tensor &b, float e) override {
        SDW_TRACE(layer_norm, x, w, b, e);
    }
    Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v, int h, bool c) override {
        SDW_TRACE(attention, q, k, v, h, c);
    }
    Tensor timestep_embedding(const Tensor &t, int d, bool f, float s) override {
        SDW_TRACE(timestep_embedding, t, d, f, s);
    }
    Tensor add(const Tensor &a, const Tensor &b) override { SDW_TRACE(add, a, b); }
    Tensor mul(const Tensor &a, const Tensor &b) override { SDW_TRACE(mul, a, b); }
    Tensor scale(const Tensor &x, float s) override { SDW_TRACE(scale, x, s); }
    Tensor add_channel_bias(const Tensor &x, const Tensor &b) override { SDW_TRACE(add_channel_bias, x, b); }
    Tensor clamp(const Tensor &x, float lo, float hi) override { SDW_TRACE(clamp, x, lo, hi); }
    Tensor silu(const Tensor &x) override { SDW_TRACE(silu, x); }
    Tensor gelu(const Tensor &x) override { SDW_TRACE(gelu, x); }
    Tensor quick_gelu(const Tensor &x) override { SDW_TRACE(quick_gelu, x); }
    Tensor geglu(const Tensor &x) override { SDW_TRACE(geglu, x); }
#undef SDW_TRACE

private:
    void forbid(const char *what) {
        if (!in_forward_) return;
        ++forbidden_in_forward;
        trace.push_back(std::string("FORBIDDEN ") + what);
    }

    std::unique_ptr<Ops> inner_ = sdw::cpu::make_cpu_ops(2);
    bool in_forward_ = false;
};

struct Case {
    std::string model, folder, kind;
    std::vector<HostTensor> (*inputs)(float value);
    std::vector<HostTensor> outputs;
};

std::vector<float> filled(size_t n, float value) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = value * static_cast<float>((i % 7) + 1) / 7.0f;
    return v;
}

std::vector<HostTensor> unet_inputs(float value) {
    return {{"sample", {2, 4, 8, 8}, filled(512, value)},
            {"timestep", {1}, {value * 900.0f}},
            {"encoder_hidden_states", {2, 77, 32}, filled(2 * 77 * 32, value)}};
}
std::vector<HostTensor> sdxl_unet_inputs(float value) {
    std::vector<HostTensor> in = unet_inputs(value);
    in[2] = {"encoder_hidden_states", {2, 77, 64}, filled(2 * 77 * 64, value)};
    in.push_back({"text_embeds", {2, 32}, filled(64, value)});
    in.push_back({"time_ids", {2, 6}, filled(12, value * 500.0f)});
    return in;
}
std::vector<HostTensor> latents(float value) { return {{"latents", {1, 4, 8, 8}, filled(256, value)}}; }
std::vector<HostTensor> image(float value) { return {{"image", {1, 3, 64, 64}, filled(3 * 64 * 64, value)}}; }

class GraphPurity : public ::testing::TestWithParam<Case> {};

TEST_P(GraphPurity, ForwardMakesNoHostCallAndTheSameOpsForOtherValues) {
    const Case &c = GetParam();
    TracingOps ops;
    ComponentFiles files = ComponentFiles::open(fixtures_dir() + "/models/" + c.model + "/" + c.folder);
    std::unique_ptr<PlannedComponent> component = load_component(ops, files.desc(c.kind.c_str()));
    std::vector<std::vector<std::string>> traces;
    std::vector<std::vector<float>> results;
    for (float value : {0.25f, -0.6f}) {
        ops.trace.clear();
        std::vector<HostTensor> inputs = c.inputs(value), outputs = c.outputs;
        run(*component, inputs, outputs);
        traces.push_back(ops.trace);
        results.push_back(outputs[0].values);
    }
    EXPECT_EQ(ops.forbidden_in_forward, 0);
    ASSERT_GT(traces[0].size(), 10u);
    EXPECT_EQ(traces[0], traces[1]) << "the ops differ with the input values";
    EXPECT_NE(results[0], results[1]) << "the second run did not see its inputs";
    EXPECT_EQ(component->plan_count(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Networks, GraphPurity,
    ::testing::Values(Case{"tiny-sd", "unet", "unet", unet_inputs, {{"noise_pred", {2, 4, 8, 8}}}},
                      Case{"tiny-sdxl", "unet", "unet", sdxl_unet_inputs, {{"noise_pred", {2, 4, 8, 8}}}},
                      Case{"tiny-sd", "vae", "vae_decoder", latents, {{"image", {1, 3, 64, 64}}}},
                      Case{"tiny-sd", "vae", "vae_encoder", image, {{"mean", {1, 4, 8, 8}}, {"logvar", {1, 4, 8, 8}}}}),
    [](const auto &param_info) {
        std::string name = param_info.param.model + "_" + param_info.param.kind;
        for (char &ch : name)
            if (ch == '-') ch = '_';
        return name;
    });

TEST(GraphPurity, TextEncoderMakesNoHostCallAndTheSameOpsForOtherTokens) {
    TracingOps ops;
    ComponentFiles files = ComponentFiles::open(fixtures_dir() + "/models/tiny-sd/text_encoder");
    std::unique_ptr<PlannedComponent> encoder = load_component(ops, files.desc("text_encoder"));
    std::vector<std::vector<std::string>> traces;
    std::vector<std::vector<float>> pooled;
    // EOS (the largest id) at different positions: the pooling rows differ, the ops do not.
    for (int eos_at : {5, 40}) {
        std::vector<int32_t> ids(2 * 77, 0);
        for (int b = 0; b < 2; ++b) {
            ids[static_cast<size_t>(b * 77)] = 49406;
            for (int i = 1; i < eos_at; ++i) ids[static_cast<size_t>(b * 77 + i)] = 320 + i + b;
            for (int i = eos_at; i < 77; ++i) ids[static_cast<size_t>(b * 77 + i)] = 49407;
        }
        std::vector<HostTensor> outputs{{"last_hidden_state", {2, 77, 32}},
                                        {"hidden_state_normed", {2, 77, 32}},
                                        {"pooled", {2, 32}}};
        std::vector<sdw_tensor_view> in{make_view("input_ids", SDW_DTYPE_I32, {2, 77}, ids.data())};
        std::vector<sdw_tensor_view> out;
        for (HostTensor &t : outputs) out.push_back(t.view());
        ops.trace.clear();
        RunOptions options;
        options.clip_skip = 2;
        encoder->run(in.data(), in.size(), out.data(), out.size(), options);
        traces.push_back(ops.trace);
        pooled.push_back(outputs[2].values);
    }
    EXPECT_EQ(ops.forbidden_in_forward, 0);
    EXPECT_EQ(traces[0], traces[1]);
    EXPECT_NE(pooled[0], pooled[1]);
}

}  // namespace
}  // namespace sdw::nn::test
