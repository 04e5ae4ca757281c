// AutoencoderKL decoder and encoder against diffusers.
#include "component_fixture.h"

#include <gtest/gtest.h>

namespace sdw::nn::test {
namespace {

constexpr double kTolerance = 1e-5;

class VaeGolden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        files_ = std::make_unique<ComponentFiles>(
            ComponentFiles::open(fixtures_dir() + "/models/" + GetParam() + "/vae"));
        golden_ = std::make_unique<Golden>(GetParam());
    }
    std::unique_ptr<ComponentFiles> files_;
    std::unique_ptr<Golden> golden_;
};

TEST_P(VaeGolden, DecoderMatchesDiffusers) {
    auto decoder = load_component(cpu_ops(), files_->desc("vae_decoder"));
    std::vector<HostTensor> inputs{{"latents", golden_->shape("vae.latents"), golden_->f32("vae.latents")}};
    std::vector<HostTensor> outputs{{"image", golden_->shape("vae.decoded")}};
    run(*decoder, inputs, outputs);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("vae.decoded")), kTolerance);
}

TEST_P(VaeGolden, EncoderMatchesDiffusers) {
    auto encoder = load_component(cpu_ops(), files_->desc("vae_encoder"));
    std::vector<HostTensor> inputs{{"image", golden_->shape("vae.image"), golden_->f32("vae.image")}};
    std::vector<HostTensor> outputs{{"mean", golden_->shape("vae.encoded_mean")},
                                    {"logvar", golden_->shape("vae.encoded_logvar")}};
    run(*encoder, inputs, outputs);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("vae.encoded_mean")), kTolerance);
    EXPECT_LT(relative_l2(outputs[1].values, golden_->f32("vae.encoded_logvar")), kTolerance);
}

TEST_P(VaeGolden, DecoderAcceptsLegacyAttentionNames) {
    // Checkpoints saved before diffusers 0.14 name the mid-block attention
    // query/key/value/proj_attn; diffusers still loads them.
    const std::vector<std::pair<std::string, std::string>> renames{
        {".to_q.", ".query."}, {".to_k.", ".key."}, {".to_v.", ".value."}, {".to_out.0.", ".proj_attn."}};
    std::vector<std::string> names;
    names.reserve(files_->views.size());
    for (sdw_tensor_view &view : files_->views) {
        std::string name = view.name;
        if (name.rfind("decoder.mid_block.attentions.0.", 0) == 0)
            for (const auto &[modern, legacy] : renames)
                if (const size_t at = name.find(modern); at != std::string::npos) name.replace(at, modern.size(), legacy);
        names.push_back(name);
        view.name = names.back().c_str();
    }
    auto decoder = load_component(cpu_ops(), files_->desc("vae_decoder"));
    std::vector<HostTensor> inputs{{"latents", golden_->shape("vae.latents"), golden_->f32("vae.latents")}};
    std::vector<HostTensor> outputs{{"image", golden_->shape("vae.decoded")}};
    run(*decoder, inputs, outputs);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("vae.decoded")), kTolerance);
}

TEST_P(VaeGolden, EncoderRefusesAnImageThatDoesNotDownsampleEvenly) {
    auto encoder = load_component(cpu_ops(), files_->desc("vae_encoder"));
    std::vector<HostTensor> inputs{{"image", {1, 3, 60, 64}, std::vector<float>(3 * 60 * 64, 0.0f)}};
    std::vector<HostTensor> outputs{{"mean", {1, 4, 8, 8}}};
    EXPECT_THROW(run(*encoder, inputs, outputs), ComponentError);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, VaeGolden, ::testing::Values("tiny-sd", "tiny-sd-inpaint"), model_param_name);

}  // namespace
}  // namespace sdw::nn::test
