// SD 2.x differs from SD 1.x in config values the same UNet code must read: linear
// projections into and out of each transformer (use_linear_projection, weights [C, C] instead
// of [C, C, 1, 1]) and attention_head_dim given per block ([5, 10, 20, 20]). Both are the same
// arithmetic as the tiny-sd fixture's, so the fixture rewritten either way must reproduce
// diffusers' tiny-sd UNet output (golden/tiny-sd/components.safetensors, unet.*).
#include "compat_support.h"

#include <gtest/gtest.h>

namespace sdw::compat {
namespace {

constexpr double kTolerance = 1e-5;

bool is_projection(const std::string &name) {
    const auto ends_with = [&](const std::string &suffix) {
        return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends_with(".proj_in.weight") || ends_with(".proj_out.weight");
}

class Sd2Structure : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        folder_ = std::make_unique<ModelFolder>(ModelFolder::open(fixture_model("tiny-sd")));
        golden_ = std::make_unique<nn::test::Golden>("tiny-sd");
    }
    static void TearDownTestSuite() {
        golden_.reset();
        folder_.reset();
    }

    static std::vector<float> predict(nn::Component &unet) {
        std::vector<HostTensor> inputs{
            {"sample", golden_->shape("unet.sample"), golden_->f32("unet.sample")},
            {"timestep", golden_->shape("unet.timesteps"), golden_->f32("unet.timesteps")},
            {"encoder_hidden_states", golden_->shape("unet.encoder_hidden_states"),
             golden_->f32("unet.encoder_hidden_states")}};
        std::vector<HostTensor> outputs{{"noise_pred", golden_->shape("unet.out")}};
        nn::test::run(unet, inputs, outputs);
        return outputs[0].values;
    }
    static std::vector<float> expected() { return golden_->f32("unet.out"); }

    static EditedComponent with_linear_projections() {
        EditedComponent unet =
            edit_config(folder_->unet(), [](nlohmann::json &config) { config["use_linear_projection"] = true; });
        int reshaped = 0;
        for (sdw_tensor_view &view : unet.weights) {
            if (!is_projection(view.name)) continue;
            // A 1x1 convolution's [C, C, 1, 1] weight is a Linear's [C, C]: same bytes.
            EXPECT_EQ(view.ndim, 4u) << view.name;
            EXPECT_EQ(view.shape[2] * view.shape[3], 1) << view.name;
            view.ndim = 2;
            ++reshaped;
        }
        // tiny-sd: 3 cross-attention levels down, 3 up (3 transformers each), 1 in the middle.
        EXPECT_EQ(reshaped, 2 * (3 * 2 + 3 * 3 + 1));
        return unet;
    }

    static std::unique_ptr<ModelFolder> folder_;
    static std::unique_ptr<nn::test::Golden> golden_;
};

std::unique_ptr<ModelFolder> Sd2Structure::folder_;
std::unique_ptr<nn::test::Golden> Sd2Structure::golden_;

TEST_F(Sd2Structure, FixtureAsLoadedMatchesDiffusers) {
    // The baseline the variants below are compared with, through the host's model reader.
    EXPECT_LT(nn::test::relative_l2(predict(*load_on_cpu(folder_->unet(), "unet")), expected()), kTolerance);
}

TEST_F(Sd2Structure, LinearProjectionsGiveTheSameNoisePrediction) {
    const EditedComponent unet = with_linear_projections();
    EXPECT_LT(nn::test::relative_l2(predict(*unet.load_on_cpu("unet")), expected()), kTolerance);
}

TEST_F(Sd2Structure, LinearProjectionsRefuseConvolutionWeights) {
    // The flag is really read: with it set, the stored [C, C, 1, 1] weights no longer fit.
    const EditedComponent unet =
        edit_config(folder_->unet(), [](nlohmann::json &config) { config["use_linear_projection"] = true; });
    try {
        unet.load_on_cpu("unet");
        FAIL() << "expected a ComponentError";
    } catch (const nn::ComponentError &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("proj_in.weight"), std::string::npos) << e.what();
    }
}

TEST_F(Sd2Structure, PerBlockHeadListEqualToTheNumberGivesTheSameNoisePrediction) {
    const int heads = folder_->unet().config().at("attention_head_dim").get<int>();
    const size_t levels = folder_->unet_summary().block_out_channels.size();
    const EditedComponent unet = edit_config(folder_->unet(), [&](nlohmann::json &config) {
        config["attention_head_dim"] = std::vector<int>(levels, heads);
    });
    EXPECT_LT(nn::test::relative_l2(predict(*unet.load_on_cpu("unet")), expected()), kTolerance);
}

TEST_F(Sd2Structure, PerBlockHeadListIsReadPerBlock) {
    // Halving the heads of one level changes the attention, so the list must not be reduced to
    // its first entry: changing only the last entry (the mid block's, as in diffusers) or only
    // the first one moves the output away from the reference.
    const int heads = folder_->unet().config().at("attention_head_dim").get<int>();
    const size_t levels = folder_->unet_summary().block_out_channels.size();
    for (size_t changed : {size_t{0}, levels - 1}) {
        const EditedComponent unet = edit_config(folder_->unet(), [&](nlohmann::json &config) {
            std::vector<int> list(levels, heads);
            list[changed] = heads / 2;
            config["attention_head_dim"] = list;
        });
        EXPECT_GT(nn::test::relative_l2(predict(*unet.load_on_cpu("unet")), expected()), 1e-4)
            << "attention_head_dim[" << changed << "] halved";
    }
}

TEST_F(Sd2Structure, HeadListOfTheWrongLengthIsRefused) {
    const EditedComponent unet =
        edit_config(folder_->unet(), [](nlohmann::json &config) { config["attention_head_dim"] = {8, 8}; });
    try {
        unet.load_on_cpu("unet");
        FAIL() << "expected a ComponentError";
    } catch (const nn::ComponentError &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("attention_head_dim"), std::string::npos) << e.what();
    }
}

TEST_F(Sd2Structure, BothSd2ChangesTogetherGiveTheSameNoisePrediction) {
    EditedComponent unet = with_linear_projections();
    nlohmann::json config = nlohmann::json::parse(unet.config);
    const int heads = config.at("attention_head_dim").get<int>();
    config["attention_head_dim"] = std::vector<int>(folder_->unet_summary().block_out_channels.size(), heads);
    config["upcast_attention"] = true;  // SD 2.1's; float32 compute makes it a no-op
    unet.config = config.dump();
    EXPECT_LT(nn::test::relative_l2(predict(*unet.load_on_cpu("unet")), expected()), kTolerance);
}

}  // namespace
}  // namespace sdw::compat
