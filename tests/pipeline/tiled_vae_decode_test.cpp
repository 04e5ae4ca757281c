// Latents larger than four VAE tiles decode in tiles blended as diffusers'
// enable_tiling() does: on every golden plugin, tiny-sd's VAE (64-pixel tiles) on
// 20x28 latents reproduces diffusers' tiled decode (tests/fixtures/golden/tiled-vae,
// made by tools/references/tiled_vae_decode.py), which differs from a whole decode.
#include "golden_plugins.h"

#include "model/model_folder.h"
#include "model/safetensors.h"
#include "pipeline/plugin_components.h"
#include "pipeline/tiled_vae_decode.h"
#include "plugin/plugin_context.h"
#include "plugin/plugin_library.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace sdw {
namespace {

const std::string kFixtures = SDW_TEST_FIXTURES;

FloatTensor read_f32(const SafetensorsFile &file, const std::string &name) {
    const TensorInfo &info = file.at(name);
    FloatTensor t(info.shape);
    std::memcpy(t.data.data(), info.data, t.numel() * sizeof(float));
    return t;
}

double max_abs_difference(const FloatTensor &a, const FloatTensor &b) {
    double worst = 0;
    for (size_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(double(a.data[i]) - b.data[i]));
    return worst;
}

TEST(VaeTiling, TilesOnlyBeyondFourTiles) {
    const VaeTiling sd15 = VaeTiling::for_vae(512, 8);
    EXPECT_EQ(sd15.latent_tile, 64);
    EXPECT_FALSE(sd15.applies(128, 128));  // 1024x1024: whole, as diffusers without tiling
    EXPECT_TRUE(sd15.applies(128, 136));
    EXPECT_TRUE(sd15.applies(256, 256));
    EXPECT_FALSE(VaeTiling::for_vae(1024, 8).applies(256, 256));  // SDXL at 2048x2048
}

class TiledVaeDecode : public ::testing::TestWithParam<testing::GoldenPlugin> {};

TEST_P(TiledVaeDecode, ReproducesDiffusersTiledDecode) {
    const SafetensorsFile reference = SafetensorsFile::open(kFixtures + "/golden/tiled-vae/tiny-sd.safetensors");
    const FloatTensor latents = read_f32(reference, "latents");
    const FloatTensor tiled = read_f32(reference, "tiled");
    const FloatTensor whole = read_f32(reference, "whole");

    const ModelFolder model = ModelFolder::open(kFixtures + "/models/tiny-sd");
    ASSERT_EQ(reference.metadata().at("tile_latent_min_size"), "8");
    ASSERT_TRUE(VaeTiling::for_vae(model.vae_summary().sample_size, model.vae_summary().downscale_factor)
                    .applies(latents.shape[2], latents.shape[3]));
    PluginContext context = PluginContext::create(PluginLibrary::load(GetParam().file), GetParam().options_json);
    PluginComponents components(context, model);
    const FloatTensor decoded = components.decode(latents, [] { return false; });
    ASSERT_EQ(decoded.shape, tiled.shape);

    EXPECT_LT(max_abs_difference(decoded, tiled), 1e-4);
    // Not a whole decode: the seams' blending shows.
    EXPECT_GT(max_abs_difference(decoded, whole), 0.1);
}

INSTANTIATE_TEST_SUITE_P(Plugins, TiledVaeDecode, ::testing::ValuesIn(testing::golden_plugins()),
                         [](const ::testing::TestParamInfo<testing::GoldenPlugin> &param_info) {
                             return testing::golden_plugin_test_name(param_info.param);
                         });

}  // namespace
}  // namespace sdw
