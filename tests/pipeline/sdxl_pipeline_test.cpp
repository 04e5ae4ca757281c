// The SDXL pipeline's wiring, on stand-in networks that report what they were asked:
// which prompt each text encoder saw at which layer, how the two encoders' states are
// joined, and the UNet's added conditioning (pooled embeddings, time ids). The golden
// images (pipeline_golden_test.cpp) check the arithmetic against diffusers; these check
// the paths its cases do not take (no negative prompt, clip_skip, no guidance,
// several images, refusals of what the request gets wrong).
#include "pipeline/stable_diffusion_xl_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace sdw {
namespace {

constexpr int64_t kHidden1 = 2, kHidden2 = 3, kPooled = 4;

struct EncodeCall {
    TextEncoderSlot encoder;
    int32_t first_token;  // the token after BOS: tells the prompts apart
    int clip_skip;
    bool with_pooled;
};

struct UnetCall {
    FloatTensor context, text_embeds, time_ids;
    int64_t batch;
};

// Every output encodes its input: a hidden state is filled with its prompt's first
// token (+ 0.5 from the second encoder), the pooled output with that plus 0.25.
class RecordingComponents final : public SdxlDiffusionComponents {
public:
    std::vector<EncodeCall> *encodes;
    std::vector<UnetCall> *unet_calls;

    RecordingComponents(std::vector<EncodeCall> &e, std::vector<UnetCall> &u)
        : encodes(&e), unet_calls(&u) {}

    TextEncoding encode_text_layer(TextEncoderSlot encoder, const std::vector<int32_t> &ids,
                                   int64_t batch, int64_t length, int clip_skip, bool with_pooled,
                                   const CancelCheck &) override {
        encodes->push_back({encoder, ids.at(1), clip_skip, with_pooled});
        const bool second = encoder == TextEncoderSlot::second;
        const float value = static_cast<float>(ids.at(1)) + (second ? 0.5f : 0.0f);
        TextEncoding out;
        out.hidden_state = FloatTensor({batch, length, second ? kHidden2 : kHidden1});
        std::fill(out.hidden_state.data.begin(), out.hidden_state.data.end(), value);
        if (with_pooled) {
            out.pooled = FloatTensor({batch, kPooled});
            std::fill(out.pooled.data.begin(), out.pooled.data.end(), value + 0.25f);
        }
        return out;
    }
    FloatTensor predict_noise_text_time(const FloatTensor &sample, const std::vector<float> &,
                                        const FloatTensor &context, const FloatTensor &text_embeds,
                                        const FloatTensor &time_ids, const CancelCheck &) override {
        unet_calls->push_back({context, text_embeds, time_ids, sample.shape.at(0)});
        return FloatTensor(sample.shape);
    }
    FloatTensor encode_text(const std::vector<int32_t> &, int64_t, int64_t, int,
                            const CancelCheck &) override {
        throw std::logic_error("SDXL conditioning goes through encode_text_layer");
    }
    FloatTensor predict_noise(const FloatTensor &, const std::vector<float> &, const FloatTensor &,
                              const CancelCheck &) override {
        throw std::logic_error("an SDXL UNet needs text_embeds and time_ids");
    }
    FloatTensor decode(const FloatTensor &latents, const CancelCheck &) override {
        return FloatTensor({latents.shape.at(0), 3, latents.shape.at(2) * 8, latents.shape.at(3) * 8});
    }
    // A posterior of zeros: mean 0, logvar 0.
    std::pair<FloatTensor, FloatTensor> encode(const FloatTensor &image, const CancelCheck &) override {
        const std::vector<int64_t> shape{image.shape.at(0), 4, image.shape.at(2) / 8, image.shape.at(3) / 8};
        return {FloatTensor(shape), FloatTensor(shape)};
    }
};

std::string fixture_dir(const char *name) {
    return std::string(SDW_TEST_FIXTURES) + "/models/tiny-sdxl/" + name;
}

class SdxlPipelineWiring : public ::testing::Test {
protected:
    std::unique_ptr<StableDiffusionXLPipeline> make_pipeline(bool force_zeros) {
        SdxlPipelineOptions options;
        options.force_zeros_for_empty_prompt = force_zeros;
        return make(options, ClipTokenizer::load(fixture_dir("tokenizer")));
    }
    // A refiner: the second encoder alone, aesthetic-score time ids, no zeroed negatives.
    std::unique_ptr<StableDiffusionXLPipeline> make_refiner() {
        SdxlPipelineOptions options;
        options.force_zeros_for_empty_prompt = false;
        options.requires_aesthetics_score = true;
        return make(options, std::nullopt);
    }
    std::unique_ptr<StableDiffusionXLPipeline> make(const SdxlPipelineOptions &options,
                                                    std::optional<ClipTokenizer> tokenizer) {
        PipelineModel model;
        model.name = "stand-in";
        model.sample_size = 16;
        model.scaling_factor = 0.13025f;
        std::ifstream config(fixture_dir("scheduler") + "/scheduler_config.json");
        model.scheduler_config = nlohmann::json::parse(config);
        return std::make_unique<StableDiffusionXLPipeline>(
            model, options, std::move(tokenizer), ClipTokenizer::load(fixture_dir("tokenizer_2")),
            std::make_unique<RecordingComponents>(encodes, unet_calls));
    }
    static GenerationRequest request() {
        GenerationRequest r;
        r.prompt = "a photo of a cat";
        r.negative_prompt = "blurry";
        r.width = 64;
        r.height = 96;
        r.steps = 2;
        r.guidance_scale = 5.0f;
        r.scheduler = "euler";
        return r;
    }
    static int32_t first_token(const char *tokenizer, const std::string &text) {
        return ClipTokenizer::load(fixture_dir(tokenizer)).encode_padded(text).at(1);
    }
    // Item `b` of a [B, L, D1 + D2] context: every row is D1 values a, then D2 values b.
    static void expect_context_item(const FloatTensor &context, int64_t b, float first, float second) {
        const int64_t length = context.shape.at(1), width = context.shape.at(2);
        ASSERT_EQ(width, kHidden1 + kHidden2);
        for (int64_t row = 0; row < length; ++row)
            for (int64_t k = 0; k < width; ++k)
                ASSERT_EQ(context.data[static_cast<size_t>((b * length + row) * width + k)],
                          k < kHidden1 ? first : second)
                    << "item " << b << " row " << row << " feature " << k;
    }
    static void expect_pooled_item(const FloatTensor &pooled, int64_t b, float value) {
        for (int64_t k = 0; k < kPooled; ++k)
            EXPECT_EQ(pooled.data[static_cast<size_t>(b * kPooled + k)], value) << "item " << b;
    }

    std::vector<EncodeCall> encodes;
    std::vector<UnetCall> unet_calls;
};

TEST_F(SdxlPipelineWiring, GuidedBatchIsNegativeThenPromptWithBothEncodersSideBySide) {
    GenerationRequest r = request();
    r.num_images = 2;
    const GenerationResult result = make_pipeline(true)->generate(r, {});
    ASSERT_EQ(result.images.size(), 2u);
    EXPECT_EQ(result.images[0].image.width, 64);
    EXPECT_EQ(result.images[0].image.height, 96);

    ASSERT_EQ(unet_calls.size(), 2u);
    const UnetCall &call = unet_calls[0];
    EXPECT_EQ(call.batch, 4);
    ASSERT_EQ(call.context.shape, (std::vector<int64_t>{4, 77, kHidden1 + kHidden2}));
    ASSERT_EQ(call.text_embeds.shape, (std::vector<int64_t>{4, kPooled}));
    const float neg1 = static_cast<float>(first_token("tokenizer", "blurry"));
    const float neg2 = static_cast<float>(first_token("tokenizer_2", "blurry")) + 0.5f;
    const float pos1 = static_cast<float>(first_token("tokenizer", "a photo of a cat"));
    const float pos2 = static_cast<float>(first_token("tokenizer_2", "a photo of a cat")) + 0.5f;
    for (int64_t b = 0; b < 2; ++b) {
        expect_context_item(call.context, b, neg1, neg2);
        expect_context_item(call.context, b + 2, pos1, pos2);
        // The pooled embedding is the second encoder's only.
        expect_pooled_item(call.text_embeds, b, neg2 + 0.25f);
        expect_pooled_item(call.text_embeds, b + 2, pos2 + 0.25f);
    }
    // original_size + crops_coords_top_left + target_size, sizes as (height, width).
    ASSERT_EQ(call.time_ids.shape, (std::vector<int64_t>{4, 6}));
    for (int64_t b = 0; b < 4; ++b)
        EXPECT_EQ(std::vector<float>(call.time_ids.data.begin() + b * 6, call.time_ids.data.begin() + b * 6 + 6),
                  (std::vector<float>{96, 64, 0, 0, 96, 64}));

    // Penultimate layer (ABI clip_skip 2) everywhere, pooled asked of encoder 2 only.
    ASSERT_EQ(encodes.size(), 4u);
    for (const EncodeCall &e : encodes) {
        EXPECT_EQ(e.clip_skip, 2);
        EXPECT_EQ(e.with_pooled, e.encoder == TextEncoderSlot::second);
    }
}

TEST_F(SdxlPipelineWiring, EmptyNegativePromptIsNoneAndZeroedWhenTheModelSaysSo) {
    GenerationRequest r = request();
    r.negative_prompt.clear();
    make_pipeline(true)->generate(r, {});
    ASSERT_FALSE(unet_calls.empty());
    const UnetCall &call = unet_calls[0];
    ASSERT_EQ(call.batch, 2);
    expect_context_item(call.context, 0, 0.0f, 0.0f);
    expect_pooled_item(call.text_embeds, 0, 0.0f);
    EXPECT_EQ(encodes.size(), 2u) << "only the prompt is encoded";
}

TEST_F(SdxlPipelineWiring, EmptyNegativePromptIsEncodedWithoutForceZeros) {
    GenerationRequest r = request();
    r.negative_prompt.clear();
    make_pipeline(false)->generate(r, {});
    ASSERT_FALSE(unet_calls.empty());
    const UnetCall &call = unet_calls[0];
    expect_context_item(call.context, 0, static_cast<float>(first_token("tokenizer", "")),
                        static_cast<float>(first_token("tokenizer_2", "")) + 0.5f);
    EXPECT_EQ(encodes.size(), 4u);
}

TEST_F(SdxlPipelineWiring, ClipSkipMovesThePromptOnlyAsDiffusersDoes) {
    GenerationRequest r = request();
    r.clip_skip = 2;  // diffusers' clip_skip=1: hidden_states[-3]
    make_pipeline(true)->generate(r, {});
    ASSERT_EQ(encodes.size(), 4u);
    const int32_t prompt_token = first_token("tokenizer", "a photo of a cat");
    const int32_t prompt_token_2 = first_token("tokenizer_2", "a photo of a cat");
    for (const EncodeCall &e : encodes) {
        const bool prompt = e.first_token == (e.encoder == TextEncoderSlot::first ? prompt_token
                                                                                 : prompt_token_2);
        EXPECT_EQ(e.clip_skip, prompt ? 3 : 2);
    }
}

TEST_F(SdxlPipelineWiring, WithoutGuidanceOnlyThePromptConditions) {
    GenerationRequest r = request();
    r.guidance_scale = 1.0f;
    make_pipeline(true)->generate(r, {});
    ASSERT_FALSE(unet_calls.empty());
    EXPECT_EQ(unet_calls[0].batch, 1);
    EXPECT_EQ(unet_calls[0].context.shape.at(0), 1);
    EXPECT_EQ(unet_calls[0].text_embeds.shape.at(0), 1);
    EXPECT_EQ(unet_calls[0].time_ids.shape.at(0), 1);
    EXPECT_EQ(encodes.size(), 2u);
}

TEST_F(SdxlPipelineWiring, RefinerConditionsOnTheSecondEncoderAndAestheticScores) {
    GenerationRequest r = request();
    r.operation = Operation::img2img;
    r.init_image = Image{64, 96, 3, std::vector<uint8_t>(64 * 96 * 3, 128)};
    r.strength = 0.5f;
    make_refiner()->generate(r, {});
    ASSERT_EQ(unet_calls.size(), 1u);  // int(2 steps * 0.5)
    const UnetCall &call = unet_calls[0];
    ASSERT_EQ(call.context.shape, (std::vector<int64_t>{2, 77, kHidden2}));
    const float neg2 = static_cast<float>(first_token("tokenizer_2", "blurry")) + 0.5f;
    const float pos2 = static_cast<float>(first_token("tokenizer_2", "a photo of a cat")) + 0.5f;
    EXPECT_EQ(call.context.data.front(), neg2);
    EXPECT_EQ(call.context.data.back(), pos2);
    expect_pooled_item(call.text_embeds, 0, neg2 + 0.25f);
    expect_pooled_item(call.text_embeds, 1, pos2 + 0.25f);
    // original_size + crops_coords_top_left + aesthetic score: diffusers' 2.5 for the
    // negative row, 6.0 for the prompt's.
    ASSERT_EQ(call.time_ids.shape, (std::vector<int64_t>{2, 5}));
    EXPECT_EQ(call.time_ids.data, (std::vector<float>{96, 64, 0, 0, 2.5f, 96, 64, 0, 0, 6.0f}));
    ASSERT_EQ(encodes.size(), 2u);
    for (const EncodeCall &e : encodes) EXPECT_EQ(e.encoder, TextEncoderSlot::second);
}

TEST_F(SdxlPipelineWiring, RefinerRefusesTxt2img) {
    std::unique_ptr<StableDiffusionXLPipeline> refiner = make_refiner();
    const std::vector<Operation> &ops = refiner->describe().operations;
    EXPECT_EQ(ops, (std::vector<Operation>{Operation::img2img, Operation::inpaint}));
    try {
        refiner->generate(request(), {});
        ADD_FAILURE() << "a refiner generated txt2img";
    } catch (const GenerationInvalid &e) {
        EXPECT_EQ(e.field, "operation");
    }
    EXPECT_TRUE(unet_calls.empty());
}

TEST_F(SdxlPipelineWiring, DefaultSizeComesFromTheUnetSampleSize) {
    GenerationRequest r = request();
    r.width = r.height = 0;
    const GenerationResult result = make_pipeline(true)->generate(r, {});
    EXPECT_EQ(result.images.at(0).image.width, 128);
    EXPECT_EQ(result.images.at(0).image.height, 128);
}

TEST_F(SdxlPipelineWiring, RefusesWhatItCannotServe) {
    const auto field_of = [&](const GenerationRequest &r) -> std::string {
        try {
            make_pipeline(true)->generate(r, {});
        } catch (const GenerationInvalid &e) {
            return e.field;
        }
        return "(accepted)";
    };
    GenerationRequest img2img = request();
    img2img.operation = Operation::img2img;
    EXPECT_EQ(field_of(img2img), "init_image");
    GenerationRequest inpaint = img2img;
    inpaint.operation = Operation::inpaint;
    inpaint.init_image = Image{64, 96, 3, std::vector<uint8_t>(64 * 96 * 3)};
    EXPECT_EQ(field_of(inpaint), "mask");
    inpaint.mask = Image{32, 96, 1, std::vector<uint8_t>(32 * 96)};
    EXPECT_EQ(field_of(inpaint), "mask");
    GenerationRequest weak = img2img;
    weak.init_image = inpaint.init_image;
    weak.strength = 0.2f;  // int(2 steps * 0.2) = 0 steps
    EXPECT_EQ(field_of(weak), "strength");
    GenerationRequest resized = weak;
    resized.strength = 0.5f;
    resized.width = 128;
    EXPECT_EQ(field_of(resized), "width");
    GenerationRequest odd = request();
    odd.width = 60;
    EXPECT_EQ(field_of(odd), "width");
    GenerationRequest scheduler = request();
    scheduler.scheduler = "no-such-scheduler";
    EXPECT_EQ(field_of(scheduler), "scheduler");
    EXPECT_TRUE(unet_calls.empty());
}

}  // namespace
}  // namespace sdw
