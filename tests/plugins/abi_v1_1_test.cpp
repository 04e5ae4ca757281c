// ABI v1.1 through the host loader: a v1.0 plugin (test-arith built with a table
// that ends at component_run) still loads and runs, with no context device or memory
// report; the v1.1 test-arith reports both through PluginContext.
#include "plugin/plugin_context.h"
#include "plugin/plugin_errors.h"
#include "plugin/plugin_library.h"

#include <gtest/gtest.h>
#include <sdw/tensor_views.hpp>

#include <fstream>
#include <sstream>

namespace sdw {
namespace {

using plugin::OwnedTensor;
using plugin::views_of;

const std::string kArithDevice = "CPU (deterministic arithmetic for tests)";

std::string tiny_sd_config(const std::string &component) {
    std::ifstream in(std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd/" + component +
                     "/config.json");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::shared_ptr<PluginLibrary> load(const std::string &file) {
    return PluginLibrary::load(std::string(SDW_PLUGIN_DIR) + "/" + file);
}

std::vector<OwnedTensor> unet_inputs() {
    std::vector<OwnedTensor> in;
    in.push_back(OwnedTensor("sample", {1, 4, 8, 8}, std::vector<float>(256, 2.0f)));
    in.push_back(OwnedTensor("timestep", {1}, std::vector<float>{500.0f}));
    in.push_back(OwnedTensor("encoder_hidden_states", SDW_DTYPE_F32, {1, 77, 32}));
    return in;
}

// Runs the unet once; noise_pred = 0.1 * sample + 0.01 * timestep / 1000.
float run_unet(LoadedComponent &unet) {
    auto in = unet_inputs();
    std::vector<OwnedTensor> out = {OwnedTensor("noise_pred", SDW_DTYPE_F32, {1, 4, 8, 8})};
    auto in_views = views_of(in);
    auto out_views = views_of(out);
    unet.prepare(in_views);
    unet.run(in_views, out_views);
    return out[0].f32()[100];
}

TEST(AbiV1_1, AV1_0PluginLoadsRunsAndReportsNoMemory) {
    auto library = load("libsdw_test_arith_v1_0.so");
    const PluginInfo &info = library->info();
    EXPECT_EQ(info.name, "test-arith");
    EXPECT_EQ(info.abi_major, 1u);
    EXPECT_EQ(info.abi_minor, 0u);
    EXPECT_EQ(info.table_minor, 0u);
    EXPECT_EQ(info.abi_version(), "1.0");
    EXPECT_EQ(library->api().struct_size, offsetof(sdw_plugin_api, context_describe));
    // Its table's 1.1 slots hold functions that fail: the loader must not have read them.
    EXPECT_EQ(library->context_describe_fn(), nullptr);
    EXPECT_EQ(library->context_memory_fn(), nullptr);

    PluginContext context = PluginContext::create(library, R"({"device": "ignored by a v1.0 host"})");
    LoadedComponent unet = context.load_component("unet", tiny_sd_config("unet"), {});
    EXPECT_FLOAT_EQ(run_unet(unet), 0.1f * 2.0f + 0.01f * 0.5f);
    EXPECT_EQ(context.device(), kArithDevice);  // the plugin-wide device
    EXPECT_FALSE(context.memory().has_value());
}

TEST(AbiV1_1, TheV1_1PluginHasTheNewFunctions) {
    auto library = load("libsdw_test_arith.so");
    const PluginInfo &info = library->info();
    EXPECT_EQ(info.abi_minor, static_cast<uint32_t>(SDW_ABI_VERSION_MINOR));
    EXPECT_EQ(info.table_minor, 1u);
    EXPECT_EQ(info.abi_version(), "1.1");
    EXPECT_EQ(library->api().struct_size, sizeof(sdw_plugin_api));
    EXPECT_NE(library->context_describe_fn(), nullptr);
    EXPECT_NE(library->context_memory_fn(), nullptr);
}

TEST(AbiV1_1, ContextDeviceComesFromContextDescribe) {
    auto library = load("libsdw_test_arith.so");
    PluginContext chosen = PluginContext::create(library, R"js({"device": "CPU:3 (4 threads)"})js");
    EXPECT_EQ(chosen.device(), "CPU:3 (4 threads)");
    EXPECT_EQ(chosen.device(), "CPU:3 (4 threads)");  // asked again: same answer
    // A context that names no device falls back to the plugin's.
    PluginContext plain = PluginContext::create(library);
    EXPECT_EQ(plain.device(), kArithDevice);
}

TEST(AbiV1_1, MemoryReportFollowsLoadsPreparesRunsAndDestroys) {
    PluginContext context = PluginContext::create(load("libsdw_test_arith.so"));
    std::optional<PluginMemoryReport> empty = context.memory();
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->weights_bytes, 0u);
    EXPECT_EQ(empty->plans_bytes, 0u);
    EXPECT_EQ(empty->cache_bytes, 0u);

    std::vector<OwnedTensor> weights = {OwnedTensor("conv_in.weight", SDW_DTYPE_F32, {8, 4, 3, 3}),
                                        OwnedTensor("conv_in.bias", SDW_DTYPE_F16, {8})};
    auto weight_views = views_of(weights);
    const uint64_t weight_bytes = 8 * 4 * 3 * 3 * 4 + 8 * 2;
    {
        LoadedComponent unet = context.load_component("unet", tiny_sd_config("unet"), weight_views);
        LoadedComponent vae = context.load_component("vae_decoder", tiny_sd_config("vae"), {});
        std::optional<PluginMemoryReport> loaded = context.memory();
        ASSERT_TRUE(loaded.has_value());
        EXPECT_EQ(loaded->weights_bytes, weight_bytes);
        EXPECT_EQ(loaded->plans_bytes, 0u);

        run_unet(unet);  // prepares, then runs
        run_unet(unet);  // prepared already: still one plan
        std::optional<PluginMemoryReport> ran = context.memory();
        ASSERT_TRUE(ran.has_value());
        EXPECT_EQ(ran->weights_bytes, weight_bytes);
        EXPECT_EQ(ran->plans_bytes, 4096u);
        EXPECT_EQ(ran->cache_bytes, 2u);  // one byte per unet call
    }
    std::optional<PluginMemoryReport> released = context.memory();
    ASSERT_TRUE(released.has_value());
    EXPECT_EQ(released->weights_bytes, 0u);
    EXPECT_EQ(released->plans_bytes, 0u);
}

}  // namespace
}  // namespace sdw
