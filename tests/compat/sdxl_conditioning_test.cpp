// SDXL text conditioning on the tiny-sdxl fixture against diffusers'
// StableDiffusionXLPipeline.encode_prompt (golden/tiny-sdxl/pipelines.safetensors, made with
// the prompt and negative prompt of cases.json): each tokenizer pads its own way (tokenizer_2
// with "!"), both encoders give hidden_states[-2] (the penultimate layer, not normed) which are
// concatenated along the features, and the pooled embedding is text_encoder_2's projected one.
// Both encoders go through the same loader as SD 1.x's: CLIPTextModel with quick_gelu and
// transformers 5 names, CLIPTextModelWithProjection with gelu and "text_model." names.
#include "compat_support.h"
#include "tokenizer/clip_tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace sdw::compat {
namespace {

constexpr double kTolerance = 1e-5;

struct SdxlPromptEmbeds {
    std::vector<float> embeds;  // [1, 77, D1 + D2]
    std::vector<float> pooled;  // [1, projection_dim]
};

class SdxlConditioning : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        folder_ = std::make_unique<ModelFolder>(ModelFolder::open(fixture_model("tiny-sdxl")));
        ASSERT_NE(folder_->text_encoder_2(), nullptr);
        ASSERT_NE(folder_->tokenizer_2(), nullptr);
        tokenizer_ = std::make_unique<ClipTokenizer>(ClipTokenizer::load(folder_->tokenizer().dir));
        tokenizer_2_ =
            std::make_unique<ClipTokenizer>(ClipTokenizer::load(folder_->tokenizer_2()->dir));
        encoder_ = load_on_cpu(folder_->text_encoder(), "text_encoder");
        encoder_2_ = load_on_cpu(*folder_->text_encoder_2(), "text_encoder");
        golden_ = std::make_unique<SafetensorsFile>(SafetensorsFile::open(
            (fixture_golden("tiny-sdxl") / "pipelines.safetensors").string()));
        std::ifstream cases(fixture_golden("tiny-sdxl") / "cases.json");
        const nlohmann::json first = nlohmann::json::parse(cases).at("cases").at(0);
        prompt_ = first.at("prompt").get<std::string>();
        negative_prompt_ = first.at("negative_prompt").get<std::string>();
    }
    static void TearDownTestSuite() {
        encoder_.reset();
        encoder_2_.reset();
        golden_.reset();
        tokenizer_.reset();
        tokenizer_2_.reset();
        folder_.reset();
    }

    static int64_t hidden() { return folder_->text_encoder_summary().hidden_size; }
    static int64_t hidden_2() { return folder_->text_encoder_2_summary()->hidden_size; }
    static int64_t pooled_dim() { return folder_->text_encoder_2_summary()->pooled_dim; }

    // encode_prompt for one prompt, with each encoder fed the given ids.
    static SdxlPromptEmbeds encode(const std::vector<int32_t> &ids, const std::vector<int32_t> &ids_2) {
        // diffusers' clip_skip=None is hidden_states[-2]: our clip_skip 2 (plugin_api.h).
        const TextEncoderOutputs first = encode_ids(*encoder_, ids, hidden(), hidden(), 2);
        const TextEncoderOutputs second = encode_ids(*encoder_2_, ids_2, hidden_2(), pooled_dim(), 2);
        return {concat_features(first.hidden_state, hidden(), second.hidden_state, hidden_2()),
                second.pooled};
    }
    static SdxlPromptEmbeds encode(const std::string &prompt) {
        return encode(tokenizer_->encode_padded(prompt), tokenizer_2_->encode_padded(prompt));
    }

    static std::vector<float> golden(const std::string &name) {
        return to_f32(golden_->at("encode_prompt." + name));
    }

    static std::unique_ptr<ModelFolder> folder_;
    static std::unique_ptr<ClipTokenizer> tokenizer_, tokenizer_2_;
    static std::unique_ptr<nn::Component> encoder_, encoder_2_;
    static std::unique_ptr<SafetensorsFile> golden_;
    static std::string prompt_, negative_prompt_;
};

std::unique_ptr<ModelFolder> SdxlConditioning::folder_;
std::unique_ptr<ClipTokenizer> SdxlConditioning::tokenizer_, SdxlConditioning::tokenizer_2_;
std::unique_ptr<nn::Component> SdxlConditioning::encoder_, SdxlConditioning::encoder_2_;
std::unique_ptr<SafetensorsFile> SdxlConditioning::golden_;
std::string SdxlConditioning::prompt_, SdxlConditioning::negative_prompt_;

TEST_F(SdxlConditioning, ShapesComeFromTheConfigs) {
    EXPECT_EQ(golden_->at("encode_prompt.prompt_embeds").shape,
              (std::vector<int64_t>{1, tokenizer_->max_length(), hidden() + hidden_2()}));
    EXPECT_EQ(golden_->at("encode_prompt.pooled_prompt_embeds").shape,
              (std::vector<int64_t>{1, pooled_dim()}));
    // The UNet's add_embedding takes the pooled embedding and the time ids: 32 + 6 * 8 = 80.
    ASSERT_TRUE(folder_->time_id_count().has_value());
    EXPECT_EQ(*folder_->time_id_count(), 6);
}

TEST_F(SdxlConditioning, PromptEmbedsMatchDiffusers) {
    const SdxlPromptEmbeds got = encode(prompt_);
    EXPECT_LT(nn::test::relative_l2(got.embeds, golden("prompt_embeds")), kTolerance);
    EXPECT_LT(nn::test::relative_l2(got.pooled, golden("pooled_prompt_embeds")), kTolerance);
}

TEST_F(SdxlConditioning, NegativePromptEmbedsMatchDiffusers) {
    // The golden cases give a negative prompt, so force_zeros_for_empty_prompt does not apply:
    // the negative embeddings are encoded like the prompt (diffusers pads them to the prompt
    // embeddings' length, 77 here).
    const SdxlPromptEmbeds got = encode(negative_prompt_);
    EXPECT_LT(nn::test::relative_l2(got.embeds, golden("negative_prompt_embeds")), kTolerance);
    EXPECT_LT(nn::test::relative_l2(got.pooled, golden("negative_pooled_prompt_embeds")), kTolerance);
}

TEST_F(SdxlConditioning, SecondTokenizerPadsWithExclamationMark) {
    const std::vector<int32_t> ids = tokenizer_->encode_padded(prompt_);
    const std::vector<int32_t> ids_2 = tokenizer_2_->encode_padded(prompt_);
    const std::vector<int32_t> unpadded = tokenizer_->encode(prompt_);
    ASSERT_EQ(ids.size(), ids_2.size());
    ASSERT_LT(unpadded.size(), ids.size());
    EXPECT_EQ(tokenizer_2_->pad_id(), 0);  // "!" is token 0 of the CLIP vocabulary
    EXPECT_EQ(tokenizer_->pad_id(), tokenizer_->eos_id());
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i < unpadded.size()) {
            EXPECT_EQ(ids[i], unpadded[i]) << i;
            EXPECT_EQ(ids_2[i], unpadded[i]) << i;
        } else {
            EXPECT_EQ(ids[i], tokenizer_->eos_id()) << i;
            EXPECT_EQ(ids_2[i], 0) << i;
        }
    }
}

TEST_F(SdxlConditioning, PaddingDecidesTheStatesAfterTheEndToken) {
    // The reference compares all 77 positions, so padding text_encoder_2's input with EOS
    // (tokenizer 1's way) must miss it: the states after EOS see the padding tokens.
    const std::vector<int32_t> ids = tokenizer_->encode_padded(prompt_);
    const SdxlPromptEmbeds got = encode(ids, ids);
    EXPECT_GT(nn::test::relative_l2(got.embeds, golden("prompt_embeds")), 1e-3);
    // The pooled state is taken at the EOS token, before any padding: causal attention keeps it.
    EXPECT_LT(nn::test::relative_l2(got.pooled, golden("pooled_prompt_embeds")), kTolerance);
}

TEST_F(SdxlConditioning, PenultimateLayerIsNotTheLastOne) {
    // clip_skip 1 (the last layer) must not match: the reference really takes hidden_states[-2].
    const std::vector<int32_t> ids = tokenizer_->encode_padded(prompt_);
    const std::vector<int32_t> ids_2 = tokenizer_2_->encode_padded(prompt_);
    const TextEncoderOutputs first = encode_ids(*encoder_, ids, hidden(), hidden(), 1);
    const TextEncoderOutputs second = encode_ids(*encoder_2_, ids_2, hidden_2(), pooled_dim(), 1);
    EXPECT_GT(nn::test::relative_l2(concat_features(first.hidden_state, hidden(), second.hidden_state,
                                                    hidden_2()),
                                    golden("prompt_embeds")),
              1e-2);
}

TEST_F(SdxlConditioning, CheckpointConfigsWithLegacyEosIdPoolAtTheSameToken) {
    // Released SDXL and SD 2.x configs say eos_token_id 2 (transformers then pools at the
    // largest id, the EOS token), the fixture 49407 (first EOS): both must pool the same row.
    const EditedComponent legacy = edit_config(*folder_->text_encoder_2(), [](nlohmann::json &config) {
        config["eos_token_id"] = 2;
        config["bos_token_id"] = 0;
    });
    const std::unique_ptr<nn::Component> encoder = legacy.load_on_cpu("text_encoder");
    const TextEncoderOutputs got =
        encode_ids(*encoder, tokenizer_2_->encode_padded(prompt_), hidden_2(), pooled_dim(), 2);
    EXPECT_LT(nn::test::relative_l2(got.pooled, golden("pooled_prompt_embeds")), kTolerance);
}

TEST_F(SdxlConditioning, TheHostStripsTheTextModelPrefixOnce) {
    // text_encoder_2 stores "text_model."-prefixed names; the host strips them when it
    // reads the model (encoder_2_ came through it), and the network takes only the
    // stripped names, as the ABI says.
    const nn::test::ComponentFiles raw =
        nn::test::ComponentFiles::open((fixture_model("tiny-sdxl") / "text_encoder_2").string());
    bool prefixed = false;
    for (const sdw_tensor_view &view : raw.views)
        prefixed |= std::string(view.name).rfind("text_model.", 0) == 0;
    ASSERT_TRUE(prefixed) << "the fixture's text_encoder_2 was expected to carry text_model. names";
    EXPECT_THROW(nn::load_component(nn::test::cpu_ops(), raw.desc("text_encoder")), nn::Error);
    const std::vector<int32_t> ids_2 = tokenizer_2_->encode_padded(prompt_);
    const TextEncoderOutputs from_host = encode_ids(*encoder_2_, ids_2, hidden_2(), pooled_dim(), 2);
    EXPECT_LT(nn::test::relative_l2(from_host.pooled, golden("pooled_prompt_embeds")), kTolerance);
}

}  // namespace
}  // namespace sdw::compat
