// The embedded default model (float16 weights) loads and runs every component; it has
// no per-component reference, so this checks shapes and finiteness.
#include "component_fixture.h"

#include <gtest/gtest.h>

namespace sdw::nn::test {
namespace {

std::string component_dir(const char *name) { return std::string(SDW_DEFAULT_MODEL) + "/" + name; }

TEST(SdShapes, TextEncoderRunsOnHalfWeights) {
    ComponentFiles files = ComponentFiles::open(component_dir("text_encoder"));
    auto encoder = load_component(cpu_ops(), files.desc("text_encoder"));
    std::vector<int32_t> ids(77, 49407);
    ids[0] = 49406;
    ids[1] = 320;  // "a"
    std::vector<sdw_tensor_view> in{make_view("input_ids", SDW_DTYPE_I32, {1, 77}, ids.data())};
    HostTensor last("last_hidden_state", {1, 77, 64}), pooled("pooled", {1, 64});
    std::vector<sdw_tensor_view> out{last.view(), pooled.view()};
    encoder->run(in.data(), in.size(), out.data(), out.size(), {});
    EXPECT_TRUE(all_finite(last.values));
    EXPECT_TRUE(all_finite(pooled.values));
}

TEST(SdShapes, UnetRunsOnHalfWeights) {
    ComponentFiles files = ComponentFiles::open(component_dir("unet"));
    auto unet = load_component(cpu_ops(), files.desc("unet"));
    std::vector<float> sample(2 * 4 * 16 * 16);
    for (size_t i = 0; i < sample.size(); ++i) sample[i] = static_cast<float>(i % 7) * 0.3f - 1.0f;
    std::vector<HostTensor> inputs{{"sample", {2, 4, 16, 16}, sample},
                                   {"timestep", {2}, {981.0f, 1.0f}},
                                   {"encoder_hidden_states", {2, 77, 64}, std::vector<float>(2 * 77 * 64, 0.1f)}};
    std::vector<HostTensor> outputs{{"noise_pred", {2, 4, 16, 16}}};
    run(*unet, inputs, outputs);
    EXPECT_TRUE(all_finite(outputs[0].values));
}

TEST(SdShapes, VaeRoundTripRunsOnHalfWeights) {
    ComponentFiles files = ComponentFiles::open(component_dir("vae"));
    auto decoder = load_component(cpu_ops(), files.desc("vae_decoder"));
    auto encoder = load_component(cpu_ops(), files.desc("vae_encoder"));
    std::vector<HostTensor> latents{{"latents", {1, 4, 16, 16}, std::vector<float>(4 * 16 * 16, 0.5f)}};
    std::vector<HostTensor> image{{"image", {1, 3, 128, 128}}};
    run(*decoder, latents, image);
    EXPECT_TRUE(all_finite(image[0].values));
    std::vector<HostTensor> moments{{"mean", {1, 4, 16, 16}}, {"logvar", {1, 4, 16, 16}}};
    run(*encoder, image, moments);
    EXPECT_TRUE(all_finite(moments[0].values));
    EXPECT_TRUE(all_finite(moments[1].values));
}

}  // namespace
}  // namespace sdw::nn::test
