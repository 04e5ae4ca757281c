// The VAE decodes a batch one image at a time (PluginComponents::decode, so that the
// backend holds one image's activations; batch_decode_memory_test.cpp): on every golden
// plugin each image of a batch comes out exactly as it does decoded alone.
#include "golden_plugins.h"

#include "model/model_folder.h"
#include "pipeline/plugin_components.h"
#include "plugin/plugin_context.h"
#include "plugin/plugin_library.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace sdw {
namespace {

const std::string kTinySd = std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd";

FloatTensor random_latents(int64_t batch, int64_t channels, int64_t side) {
    FloatTensor t({batch, channels, side, side});
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    for (float &v : t.data) v = normal(rng);
    return t;
}

FloatTensor item(const FloatTensor &t, int64_t b) {
    std::vector<int64_t> shape = t.shape;
    shape[0] = 1;
    FloatTensor one(shape);
    std::copy_n(t.data.begin() + b * t.item_size(), t.item_size(), one.data.begin());
    return one;
}

class BatchedDecode : public ::testing::TestWithParam<testing::GoldenPlugin> {};

TEST_P(BatchedDecode, EachImageOfABatchIsDecodedAsItWouldBeAlone) {
    const ModelFolder model = ModelFolder::open(kTinySd);
    const int64_t latent_channels = model.vae_summary().latent_channels;
    const FloatTensor batch = random_latents(3, latent_channels, 16);

    PluginContext context = PluginContext::create(PluginLibrary::load(GetParam().file), GetParam().options_json);
    PluginComponents components(context, model);
    auto decode = [&](const FloatTensor &latents) { return components.decode(latents, [] { return false; }); };
    const FloatTensor decoded = decode(batch);
    ASSERT_EQ(decoded.shape, (std::vector<int64_t>{3, 3, 128, 128}));
    for (int64_t b = 0; b < 3; ++b) {
        const FloatTensor alone = decode(item(batch, b));
        const FloatTensor from_batch = item(decoded, b);
        for (size_t i = 0; i < alone.numel(); ++i)
            ASSERT_EQ(from_batch.data[i], alone.data[i]) << "image " << b << " element " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Plugins, BatchedDecode, ::testing::ValuesIn(testing::golden_plugins()),
                         [](const ::testing::TestParamInfo<testing::GoldenPlugin> &param_info) {
                             return testing::golden_plugin_test_name(param_info.param);
                         });

}  // namespace
}  // namespace sdw
