// sdw_test_arith through the host loader: its arithmetic (which host and server
// tests predict), its contract checks, cancellation and its failure options.
#include "plugin/plugin_context.h"
#include "plugin/plugin_errors.h"
#include "plugin/plugin_library.h"

#include <gtest/gtest.h>
#include <sdw/tensor_views.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace sdw {
namespace {

using plugin::OwnedTensor;
using plugin::views_of;

std::string read_text(const std::string &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string tiny_sd_config(const std::string &component) {
    return read_text(std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd/" + component + "/config.json");
}

std::shared_ptr<PluginLibrary> arith() {
    return PluginLibrary::load(std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so");
}

PluginCallError run_failure(LoadedComponent &component, std::vector<OwnedTensor> &inputs,
                            std::vector<OwnedTensor> &outputs,
                            const std::function<bool()> &cancel = {}) {
    auto in = views_of(inputs);
    auto out = views_of(outputs);
    try {
        component.run(in, out, 0, cancel);
    } catch (const PluginCallError &e) {
        return e;
    }
    ADD_FAILURE() << "run did not fail";
    return PluginCallError(SDW_STATUS_OK, "", "", false, "");
}

std::vector<OwnedTensor> unet_inputs(int64_t batch = 1) {
    std::vector<float> sample(static_cast<size_t>(batch * 4 * 8 * 8));
    for (size_t i = 0; i < sample.size(); ++i) sample[i] = static_cast<float>(i) * 0.5f;
    std::vector<OwnedTensor> in;
    in.push_back(OwnedTensor("sample", {batch, 4, 8, 8}, sample));
    in.push_back(OwnedTensor("timestep", {batch}, std::vector<float>(batch, 500.0f)));
    in.push_back(OwnedTensor("encoder_hidden_states", {batch, 77, 32},
                             std::vector<float>(batch * 77 * 32, 3.0f)));
    return in;
}

TEST(TestArith, TextEncoderFollowsItsFormula) {
    PluginContext context = PluginContext::create(arith());
    LoadedComponent te = context.load_component("text_encoder", tiny_sd_config("text_encoder"), {});
    std::vector<OwnedTensor> in = {
        OwnedTensor("input_ids", {1, 3}, std::vector<int32_t>{49406, 320, 49407})};
    std::vector<OwnedTensor> out = {OwnedTensor("last_hidden_state", SDW_DTYPE_F32, {1, 3, 32}),
                                    OwnedTensor("hidden_state", SDW_DTYPE_F32, {1, 3, 32}),
                                    OwnedTensor("pooled", SDW_DTYPE_F32, {1, 32})};
    auto in_views = views_of(in);
    auto out_views = views_of(out);
    te.run(in_views, out_views, /*clip_skip=*/2);
    EXPECT_FLOAT_EQ(out[0].f32()[1 * 32 + 5], 320 * 0.001f + 5 * 0.01f);
    // 3 layers, clip_skip 2: + 0.1 * (3 - 2)
    EXPECT_FLOAT_EQ(out[1].f32()[1 * 32 + 5], 320 * 0.001f + 5 * 0.01f + 0.1f);
    EXPECT_FLOAT_EQ(out[2].f32()[7], 49407 * 0.001f + 7 * 0.01f);  // at the EOS (largest id)
}

TEST(TestArith, UnetFollowsItsFormula) {
    PluginContext context = PluginContext::create(arith());
    LoadedComponent unet = context.load_component("unet", tiny_sd_config("unet"), {});
    auto in = unet_inputs(2);
    std::vector<OwnedTensor> out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {2, 4, 8, 8})};
    auto in_views = views_of(in);
    auto out_views = views_of(out);
    unet.prepare(in_views);
    unet.run(in_views, out_views);
    for (int64_t i : {0L, 17L, 300L, 511L}) {
        EXPECT_FLOAT_EQ(out[0].f32()[i], 0.1f * (i * 0.5f) + 0.01f * 500.0f / 1000.0f) << i;
    }
}

TEST(TestArith, VaeDecoderUpsamplesTanh) {
    PluginContext context = PluginContext::create(arith());
    LoadedComponent vae = context.load_component("vae_decoder", tiny_sd_config("vae"), {});
    std::vector<float> latents(1 * 4 * 2 * 2);
    for (size_t i = 0; i < latents.size(); ++i) latents[i] = static_cast<float>(i) * 0.1f - 0.5f;
    std::vector<OwnedTensor> in = {OwnedTensor("latents", {1, 4, 2, 2}, latents)};
    std::vector<OwnedTensor> out = {OwnedTensor("image", SDW_DTYPE_F32, {1, 3, 16, 16})};
    auto in_views = views_of(in);
    auto out_views = views_of(out);
    vae.run(in_views, out_views);
    // channel 2, pixel (y=9, x=3) comes from latent channel 2, cell (1, 0)
    EXPECT_FLOAT_EQ(out[0].f32()[2 * 256 + 9 * 16 + 3], std::tanh(latents[2 * 4 + 1 * 2 + 0]));
}

TEST(TestArith, VaeEncoderAveragesBlocks) {
    PluginContext context = PluginContext::create(arith());
    LoadedComponent vae = context.load_component("vae_encoder", tiny_sd_config("vae"), {});
    std::vector<float> image(3 * 16 * 8);
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i % 7) * 0.1f;
    std::vector<OwnedTensor> in = {OwnedTensor("image", {1, 3, 16, 8}, image)};
    std::vector<OwnedTensor> out = {OwnedTensor("mean", SDW_DTYPE_F32, {1, 4, 2, 1}),
                                    OwnedTensor("logvar", SDW_DTYPE_F32, {1, 4, 2, 1})};
    auto in_views = views_of(in);
    auto out_views = views_of(out);
    vae.run(in_views, out_views);
    float sum = 0;  // channel 1, block row 1
    for (int y = 8; y < 16; ++y) {
        for (int x = 0; x < 8; ++x) sum += image[1 * 128 + y * 8 + x];
    }
    EXPECT_FLOAT_EQ(out[0].f32()[1 * 2 + 1], sum / 64);
    EXPECT_FLOAT_EQ(out[1].f32()[5], -2.0f);
}

TEST(TestArith, RefusesUnknownInputAndWrongShape) {
    PluginContext context = PluginContext::create(arith());
    LoadedComponent unet = context.load_component("unet", tiny_sd_config("unet"), {});
    auto in = unet_inputs();
    in.push_back(OwnedTensor("mystery", SDW_DTYPE_F32, {1}));
    std::vector<OwnedTensor> out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {1, 4, 8, 8})};
    PluginCallError unknown = run_failure(unet, in, out);
    EXPECT_EQ(unknown.status(), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(unknown.plugin_message(),
              "unknown input 'mystery' (expected: sample, timestep, encoder_hidden_states)");

    in.pop_back();
    out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {1, 4, 8, 9})};
    PluginCallError shape = run_failure(unet, in, out);
    EXPECT_EQ(shape.status(), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(shape.plugin_message(), "tensor 'noise_pred' has shape [1, 4, 8, 9], expected [1, 4, 8, 8]");

    out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {1, 4, 8, 8})};
    in.erase(in.begin() + 1);
    PluginCallError missing = run_failure(unet, in, out);
    EXPECT_EQ(missing.plugin_message(), "missing input 'timestep' (given: sample, encoder_hidden_states)");
}

TEST(TestArith, UnknownKindIsUnsupported) {
    PluginContext context = PluginContext::create(arith());
    try {
        context.load_component("safety_checker", "{}", {});
        FAIL();
    } catch (const PluginCallError &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_UNSUPPORTED);
        EXPECT_EQ(std::string(e.what()), "component_load(safety_checker) failed (UNSUPPORTED): "
                                         "unknown component kind 'safety_checker'");
    }
}

TEST(TestArith, FailOnStepFailsThatUnetCallOnly) {
    PluginContext context = PluginContext::create(arith(), R"({"fail_on_step": 2})");
    LoadedComponent unet = context.load_component("unet", tiny_sd_config("unet"), {});
    auto in = unet_inputs();
    std::vector<OwnedTensor> out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {1, 4, 8, 8})};
    auto in_views = views_of(in);
    auto out_views = views_of(out);
    unet.run(in_views, out_views);
    PluginCallError second = run_failure(unet, in, out);
    EXPECT_EQ(second.status(), SDW_STATUS_DEVICE_ERROR);
    EXPECT_EQ(second.plugin_message(), "test-arith: unet call 2 fails as configured by fail_on_step");
    unet.run(in_views, out_views);
}

TEST(TestArith, DelayedRunStopsPromptlyWhenCancelled) {
    PluginContext context = PluginContext::create(arith(), R"({"delay_ms": 10000})");
    LoadedComponent unet = context.load_component("unet", tiny_sd_config("unet"), {});
    auto in = unet_inputs();
    std::vector<OwnedTensor> out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {1, 4, 8, 8})};
    const auto start = std::chrono::steady_clock::now();
    std::atomic<int> polls{0};
    PluginCallError cancelled = run_failure(unet, in, out, [&] { return ++polls > 20; });
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(cancelled.cancelled());
    EXPECT_FALSE(cancelled.plugin_bug());
    EXPECT_LT(elapsed, std::chrono::seconds(5));
    EXPECT_GT(polls.load(), 20);
}

TEST(TestArith, ProgressIsReportedPerBatchItem) {
    PluginContext context = PluginContext::create(arith());
    LoadedComponent unet = context.load_component("unet", tiny_sd_config("unet"), {});
    auto in = unet_inputs(3);
    std::vector<OwnedTensor> out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {3, 4, 8, 8})};
    auto in_views = views_of(in);
    auto out_views = views_of(out);
    std::vector<std::pair<uint32_t, uint32_t>> seen;
    unet.run(in_views, out_views, 0, {}, [&](uint32_t done, uint32_t total) {
        seen.emplace_back(done, total);
    });
    EXPECT_EQ(seen, (std::vector<std::pair<uint32_t, uint32_t>>{{1, 3}, {2, 3}, {3, 3}}));
}

}  // namespace
}  // namespace sdw
