// A full-size SD 2.1 folder (OpenCLIP ViT-H text encoder: gelu, 23 layers, 1024 wide; UNet
// with linear projections, per-block heads [5, 10, 20, 20] and 1024-wide cross attention;
// DDIM with v_prediction), written by the project's sdw-make-model with zero weights in sparse
// files, goes through the host's model reader and the same network loaders as the fixtures.
// Every real name and shape must be found where the config says; the text encoder and the
// UNet then run once on small inputs. Zero weights make the values uninformative (the
// fixtures cover the arithmetic); this is about structure at the real sizes.
#include "compat_support.h"
#include "tokenizer/clip_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sdw::compat {
namespace {

class Sd21FullSize : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        const std::filesystem::path out = dir_->path() / "sd21";
        const std::string command = std::string(SDW_MAKE_MODEL_PATH) +
                                    " --family sd21 --dtype f16 --zeros --out '" + out.string() +
                                    "' > /dev/null";
        ASSERT_EQ(std::system(command.c_str()), 0) << command;
        folder_ = std::make_unique<ModelFolder>(ModelFolder::open(out));
    }
    static void TearDownTestSuite() {
        folder_.reset();
        dir_.reset();
    }

    static std::unique_ptr<TempDir> dir_;
    static std::unique_ptr<ModelFolder> folder_;
};

std::unique_ptr<TempDir> Sd21FullSize::dir_;
std::unique_ptr<ModelFolder> Sd21FullSize::folder_;

TEST_F(Sd21FullSize, ConfigsDescribeSd21) {
    ASSERT_TRUE(folder_);
    const TextEncoderSummary &te = folder_->text_encoder_summary();
    EXPECT_EQ(te.hidden_act, "gelu");
    EXPECT_EQ(te.num_hidden_layers, 23);
    EXPECT_EQ(te.hidden_size, 1024);
    EXPECT_FALSE(te.has_projection);
    EXPECT_EQ(folder_->unet_summary().cross_attention_dim, 1024);
    EXPECT_EQ(folder_->unet().config().at("use_linear_projection"), true);
    EXPECT_EQ(folder_->scheduler_config().at("prediction_type"), "v_prediction");
    EXPECT_EQ(folder_->text_encoder_2(), nullptr);
    EXPECT_FALSE(folder_->has_text_time_conditioning());
}

TEST_F(Sd21FullSize, TextEncoderLoadsAndRunsOnATokenRow) {
    ASSERT_TRUE(folder_);
    const ClipTokenizer tokenizer = ClipTokenizer::load(folder_->tokenizer().dir);
    const int64_t hidden = folder_->text_encoder_summary().hidden_size;
    const std::unique_ptr<nn::Component> encoder = load_on_cpu(folder_->text_encoder(), "text_encoder");
    // SD 2.x pipelines take the last layer's normed state; clip_skip 2 exercises layer 22 of 23.
    std::vector<int32_t> ids = tokenizer.encode_padded("a photograph of an astronaut riding a horse");
    const int64_t length = static_cast<int64_t>(ids.size());
    std::vector<HostTensor> outputs{{"last_hidden_state", {1, length, hidden}},
                                    {"hidden_state_normed", {1, length, hidden}},
                                    {"pooled", {1, hidden}}};
    std::vector<sdw_tensor_view> in{nn::test::make_view("input_ids", SDW_DTYPE_I32, {1, length}, ids.data())};
    std::vector<sdw_tensor_view> out;
    for (HostTensor &t : outputs) out.push_back(t.view());
    nn::RunOptions options;
    options.clip_skip = 2;
    encoder->run(in.data(), in.size(), out.data(), out.size(), options);
    for (const HostTensor &t : outputs) EXPECT_TRUE(nn::test::all_finite(t.values)) << t.name;

    // 24 layers would exceed the weights: clip_skip 24 must be refused as beyond 23 layers.
    options.clip_skip = 24;
    try {
        encoder->run(in.data(), in.size(), out.data(), 2, options);
        ADD_FAILURE() << "clip_skip 24 accepted by a 23-layer encoder";
    } catch (const nn::ComponentError &e) {
        EXPECT_NE(std::string(e.what()).find("23 encoder layers"), std::string::npos) << e.what();
    }
}

TEST_F(Sd21FullSize, UnetLoadsAndRunsOnAnEightByEightLatent) {
    ASSERT_TRUE(folder_);
    const std::unique_ptr<nn::Component> unet = load_on_cpu(folder_->unet(), "unet");
    const int64_t context = folder_->unet_summary().cross_attention_dim;
    std::vector<HostTensor> inputs{{"sample", {1, 4, 8, 8}, std::vector<float>(256, 0.5f)},
                                   {"timestep", {1}, {999.0f}},
                                   {"encoder_hidden_states", {1, 77, context},
                                    std::vector<float>(static_cast<size_t>(77 * context), 0.25f)}};
    std::vector<HostTensor> outputs{{"noise_pred", {1, 4, 8, 8}}};
    nn::test::run(*unet, inputs, outputs);
    EXPECT_TRUE(nn::test::all_finite(outputs[0].values));

    // SD 1.x's 768-wide conditioning does not fit this UNet.
    inputs[2] = HostTensor{"encoder_hidden_states", {1, 77, 768}, std::vector<float>(77 * 768, 0.25f)};
    EXPECT_THROW(nn::test::run(*unet, inputs, outputs), nn::ComponentError);
}

TEST_F(Sd21FullSize, VaeDecoderAndEncoderLoad) {
    ASSERT_TRUE(folder_);
    EXPECT_NO_THROW(load_on_cpu(folder_->vae(), "vae_decoder"));
    EXPECT_NO_THROW(load_on_cpu(folder_->vae(), "vae_encoder"));
}

}  // namespace
}  // namespace sdw::compat
