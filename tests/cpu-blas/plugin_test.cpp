// The cpu-blas plugin through its C ABI alone, as the host sees it: init and
// version refusal, describe, options, component load errors, and the tiny-sd
// components against the diffusers references in tests/fixtures/golden.
#include "abi_host.h"
#include "safetensors_file.h"

#include <sdw/plugin_api.h>
#include <sdw/tensor_views.hpp>

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using sdw::test::fixture;
using sdw::test::host_api;
using sdw::test::read_text;
using sdw::test::run_args;
using sdw_error_impl = sdw::test::RecordedError;

class CpuBlasPluginTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        handle_ = dlopen(SDW_PLUGIN_DIR "/libsdw_cpu_blas.so", RTLD_NOW | RTLD_LOCAL);
        ASSERT_NE(handle_, nullptr) << dlerror();
        init_ = reinterpret_cast<sdw_plugin_init_fn>(dlsym(handle_, SDW_PLUGIN_INIT_SYMBOL));
        probe_ = reinterpret_cast<sdw_plugin_probe_fn>(dlsym(handle_, SDW_PLUGIN_PROBE_SYMBOL));
        ASSERT_NE(init_, nullptr);
        sdw_error_impl err;
        ASSERT_EQ(init_(&host_, &api_, reinterpret_cast<sdw_error *>(&err)), SDW_STATUS_OK)
            << err.message;
    }

    sdw_error *err() { return reinterpret_cast<sdw_error *>(&err_); }

    sdw_context *make_context(const char *options = "{\"threads\": 2}") {
        sdw_context *ctx = nullptr;
        EXPECT_EQ(api_->context_create(options, &ctx, err()), SDW_STATUS_OK) << err_.message;
        return ctx;
    }

    // Loads tiny-sd's `folder` (config + weights) as component `kind`.
    sdw_component *load(sdw_context *ctx, const char *kind, const std::string &folder,
                        const std::string &weights_file) {
        const std::string config = read_text(fixture("models/tiny-sd/" + folder + "/config.json"));
        const auto weights = sdw::test::read_safetensors(fixture("models/tiny-sd/" + folder + "/" + weights_file));
        std::vector<std::string> names;
        for (const auto &[name, t] : weights) names.push_back(name);
        std::vector<sdw_tensor_view> views;
        for (const std::string &name : names) views.push_back(sdw::test::view_of(name, weights.at(name)));
        const sdw_component_desc desc = sdw::plugin::make_component_desc(kind, config.c_str(), views);
        sdw_component *component = nullptr;
        EXPECT_EQ(api_->component_load(ctx, &desc, &component, err()), SDW_STATUS_OK) << err_.message;
        return component;
    }

    static void *handle_;
    static sdw_plugin_init_fn init_;
    static sdw_plugin_probe_fn probe_;
    static const sdw_plugin_api *api_;
    static sdw_host_api host_;
    sdw_error_impl err_;
};

void *CpuBlasPluginTest::handle_ = nullptr;
sdw_plugin_init_fn CpuBlasPluginTest::init_ = nullptr;
sdw_plugin_probe_fn CpuBlasPluginTest::probe_ = nullptr;
const sdw_plugin_api *CpuBlasPluginTest::api_ = nullptr;
sdw_host_api CpuBlasPluginTest::host_ = host_api(SDW_ABI_VERSION_MAJOR, SDW_ABI_VERSION_MINOR);

void expect_close(const std::vector<float> &got, const std::vector<float> &want, double atol,
                  double rtol, const std::string &what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double excess = std::abs(double(got[i]) - want[i]) - (atol + rtol * std::abs(want[i]));
        if (!(excess <= worst)) {
            worst = std::isnan(got[i]) ? INFINITY : excess;
            at = i;
        }
    }
    EXPECT_LE(worst, 0.0) << what << ": element " << at << " got " << got[at] << " want " << want[at];
}

sdw_tensor_view f32_view(const char *name, std::vector<float> &data, std::initializer_list<int64_t> shape) {
    return sdw::plugin::make_view(name, SDW_DTYPE_F32, shape, data.data());
}

TEST_F(CpuBlasPluginTest, ProbesAndDescribesItself) {
    ASSERT_NE(probe_, nullptr);
    EXPECT_EQ(probe_(&host_, err()), SDW_STATUS_OK);
    EXPECT_EQ(api_->abi_major, SDW_ABI_VERSION_MAJOR);
    sdw_plugin_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(api_->describe(&info, err()), SDW_STATUS_OK) << err_.message;
    EXPECT_STREQ(info.name, "cpu-blas");
    EXPECT_STRNE(info.version, "");
    EXPECT_NE(std::string(info.device).find("thread"), std::string::npos) << info.device;
    EXPECT_NE(std::string(info.device).find("OpenBLAS"), std::string::npos) << info.device;
}

TEST_F(CpuBlasPluginTest, RefusesAnotherAbiMajorNamingBothVersions) {
    sdw_host_api future = host_api(SDW_ABI_VERSION_MAJOR + 1, 0);
    const sdw_plugin_api *table = nullptr;
    EXPECT_EQ(init_(&future, &table, err()), SDW_STATUS_VERSION_MISMATCH);
    EXPECT_EQ(table, nullptr);
    EXPECT_NE(err_.message.find("v2.0"), std::string::npos) << err_.message;
    EXPECT_NE(err_.message.find("v1."), std::string::npos) << err_.message;
    // Re-initialise with the real host so later tests report through it.
    ASSERT_EQ(init_(&host_, &table, err()), SDW_STATUS_OK);
}

TEST_F(CpuBlasPluginTest, ContextOptionsAcceptThreadsAndRefuseUnknownKeys) {
    for (const char *good : {"{}", "{\"threads\": 1}", "{\"threads\": 0}"}) {
        sdw_context *ctx = make_context(good);
        ASSERT_NE(ctx, nullptr) << good;
        api_->context_destroy(ctx);
    }
    sdw_context *ctx = nullptr;
    EXPECT_EQ(api_->context_create("{\"threads\": 1, \"bogus\": true}", &ctx, err()),
              SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(err_.message.find("bogus"), std::string::npos) << err_.message;
    for (const char *bad : {"{\"threads\": -1}", "{\"threads\": \"two\"}", "[1]", "{not json"}) {
        err_ = {};
        EXPECT_EQ(api_->context_create(bad, &ctx, err()), SDW_STATUS_INVALID_ARGUMENT) << bad;
        EXPECT_EQ(err_.calls, 1) << bad;
    }
}

TEST_F(CpuBlasPluginTest, UnknownComponentKindIsUnsupportedWithAMessage) {
    sdw_context *ctx = make_context();
    const sdw_component_desc desc = sdw::plugin::make_component_desc("flux_transformer", "{}", {});
    sdw_component *component = nullptr;
    EXPECT_EQ(api_->component_load(ctx, &desc, &component, err()), SDW_STATUS_UNSUPPORTED);
    EXPECT_EQ(component, nullptr);
    EXPECT_FALSE(err_.message.empty());
    api_->context_destroy(ctx);
}

class CpuBlasGoldenTest : public CpuBlasPluginTest {
protected:
    void SetUp() override { golden = sdw::test::read_safetensors(fixture("golden/tiny-sd/components.safetensors")); }
    std::map<std::string, sdw::test::StoredTensor> golden;
};

TEST_F(CpuBlasGoldenTest, VaeDecoderMatchesDiffusers) {
    sdw_context *ctx = make_context();
    sdw_component *vae = load(ctx, "vae_decoder", "vae", "diffusion_pytorch_model.safetensors");
    ASSERT_NE(vae, nullptr);
    std::vector<float> latents = golden.at("vae.latents").as_f32();
    std::vector<float> image(golden.at("vae.decoded").bytes.size() / 4);
    std::vector<sdw_tensor_view> in = {f32_view("latents", latents, {1, 4, 8, 8})};
    std::vector<sdw_tensor_view> out = {f32_view("image", image, {1, 3, 64, 64})};
    sdw_run_args args = run_args(in, out);
    ASSERT_EQ(api_->component_run(vae, &args, err()), SDW_STATUS_OK) << err_.message;
    expect_close(image, golden.at("vae.decoded").as_f32(), 1e-4, 1e-4, "vae.decoded");
    api_->component_destroy(vae);
    api_->context_destroy(ctx);
}

TEST_F(CpuBlasGoldenTest, TextEncoderMatchesTransformers) {
    sdw_context *ctx = make_context();
    sdw_component *te = load(ctx, "text_encoder", "text_encoder", "model.safetensors");
    ASSERT_NE(te, nullptr);
    std::vector<int32_t> ids;
    for (int64_t id : golden.at("te.input_ids").as_i64()) ids.push_back(static_cast<int32_t>(id));
    std::vector<float> hidden(2 * 77 * 32), pooled(2 * 32);
    std::vector<sdw_tensor_view> in = {sdw::plugin::make_view("input_ids", SDW_DTYPE_I32, {2, 77}, ids.data())};
    std::vector<sdw_tensor_view> out = {f32_view("last_hidden_state", hidden, {2, 77, 32}),
                                        f32_view("pooled", pooled, {2, 32})};
    sdw_run_args args = run_args(in, out);
    ASSERT_EQ(api_->component_run(te, &args, err()), SDW_STATUS_OK) << err_.message;
    expect_close(hidden, golden.at("te.last_hidden_state").as_f32(), 1e-4, 1e-4, "last_hidden_state");
    expect_close(pooled, golden.at("te.pooled").as_f32(), 1e-4, 1e-4, "pooled");
    api_->component_destroy(te);
    api_->context_destroy(ctx);
}

class UnetRun {
public:
    explicit UnetRun(const std::map<std::string, sdw::test::StoredTensor> &golden)
        : sample(golden.at("unet.sample").as_f32()),
          context(golden.at("unet.encoder_hidden_states").as_f32()),
          noise(sample.size()) {
        for (int64_t t : golden.at("unet.timesteps").as_i64()) timesteps.push_back(static_cast<float>(t));
        in = {f32_view("sample", sample, {2, 4, 8, 8}), f32_view("timestep", timesteps, {2}),
              f32_view("encoder_hidden_states", context, {2, 77, 32})};
        out = {f32_view("noise_pred", noise, {2, 4, 8, 8})};
    }
    std::vector<float> sample, context, noise, timesteps;
    std::vector<sdw_tensor_view> in, out;
};

TEST_F(CpuBlasGoldenTest, UnetMatchesDiffusersAndHonoursCancellation) {
    sdw_context *ctx = make_context();
    sdw_component *unet = load(ctx, "unet", "unet", "diffusion_pytorch_model.safetensors");
    ASSERT_NE(unet, nullptr);
    UnetRun run(golden);
    sdw_run_args args = run_args(run.in, run.out);
    ASSERT_EQ(api_->component_run(unet, &args, err()), SDW_STATUS_OK) << err_.message;
    expect_close(run.noise, golden.at("unet.out").as_f32(), 1e-4, 1e-4, "unet.out");

    // A host that says stop gets CANCELLED with a message, and the component stays usable.
    int polls = 0;
    args.should_cancel = [](void *user) -> int32_t { return ++*static_cast<int *>(user) > 0; };
    args.user = &polls;
    err_ = {};
    EXPECT_EQ(api_->component_run(unet, &args, err()), SDW_STATUS_CANCELLED);
    EXPECT_GT(polls, 0);
    EXPECT_EQ(err_.calls, 1);
    args.should_cancel = nullptr;
    ASSERT_EQ(api_->component_run(unet, &args, err()), SDW_STATUS_OK) << err_.message;
    expect_close(run.noise, golden.at("unet.out").as_f32(), 1e-4, 1e-4, "unet.out after cancel");

    // An input the contract does not name is refused.
    std::vector<float> extra(1);
    run.in.push_back(f32_view("guidance", extra, {1}));
    args = run_args(run.in, run.out);
    EXPECT_EQ(api_->component_run(unet, &args, err()), SDW_STATUS_INVALID_ARGUMENT);
    api_->component_destroy(unet);
    api_->context_destroy(ctx);
}

TEST_F(CpuBlasGoldenTest, ContextDescribesItsThreadsAndReportsItsMemory) {
    ASSERT_NE(api_->context_describe, nullptr);
    ASSERT_NE(api_->context_memory, nullptr);
    sdw_context *ctx = make_context("{\"threads\": 1}");
    sdw_context_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(api_->context_describe(ctx, &info, err()), SDW_STATUS_OK) << err_.message;
    EXPECT_NE(std::string(info.device).find("1 thread,"), std::string::npos) << info.device;

    auto memory = [&] {
        sdw_memory_report report{};
        report.struct_size = sizeof report;
        EXPECT_EQ(api_->context_memory(ctx, &report, err()), SDW_STATUS_OK) << err_.message;
        return report;
    };
    EXPECT_EQ(memory().weights_bytes, 0u);
    sdw_component *unet = load(ctx, "unet", "unet", "diffusion_pytorch_model.safetensors");
    ASSERT_NE(unet, nullptr);
    // tiny-sd's UNet is stored in F32: its weights, as floats, are what the context holds.
    uint64_t stored = 0;
    for (const auto &[name, t] : sdw::test::read_safetensors(fixture("models/tiny-sd/unet/diffusion_pytorch_model.safetensors")))
        stored += t.bytes.size();
    EXPECT_EQ(memory().weights_bytes, stored);

    // The host's prepare-then-run path: shapes announced without data, then runs.
    UnetRun run(golden);
    std::vector<sdw_tensor_view> shapes = run.in;
    for (sdw_tensor_view &v : shapes) v.data = nullptr;
    ASSERT_EQ(api_->component_prepare(unet, shapes.data(), shapes.size(), err()), SDW_STATUS_OK) << err_.message;
    sdw_run_args args = run_args(run.in, run.out);
    ASSERT_EQ(api_->component_run(unet, &args, err()), SDW_STATUS_OK) << err_.message;
    expect_close(run.noise, golden.at("unet.out").as_f32(), 1e-4, 1e-4, "unet.out after prepare");
    EXPECT_EQ(memory().plans_bytes, 0u) << "cpu-blas plans are eager";

    api_->component_destroy(unet);
    EXPECT_EQ(memory().weights_bytes, 0u) << "a destroyed component's weights still count";
    EXPECT_EQ(memory().cache_bytes, 0u) << "the UNet's cache outlived it";
    api_->context_destroy(ctx);
}

}  // namespace
