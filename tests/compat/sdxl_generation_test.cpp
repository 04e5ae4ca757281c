// The tiny-sdxl UNet (addition_embed_type text_time: pooled text embedding + 6 size/crop ids)
// on the shared network code. There is no component golden for it, so besides the input
// contract, whole generations are replayed here step for step the way diffusers'
// StableDiffusionXLPipeline runs them, directly on the networks and independently of the
// host pipeline (tests/pipeline covers that), and compared with the reference images of
// golden/tiny-sdxl: the UNet, both text encoders and the VAE decoder through the same
// loaders as SD 1.x, with the host's schedulers and torch-compatible RNG.
#include "compat_support.h"
#include "rng/cpu_generator.h"
#include "schedulers/scheduler.h"
#include "tokenizer/clip_tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>

namespace sdw::compat {
namespace {

class SdxlModel : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        folder_ = std::make_unique<ModelFolder>(ModelFolder::open(fixture_model("tiny-sdxl")));
        unet_ = load_on_cpu(folder_->unet(), "unet");
    }
    static void TearDownTestSuite() {
        unet_.reset();
        folder_.reset();
    }

    // One UNet call; inputs are (name, shape, values).
    static std::vector<float> predict(std::vector<HostTensor> inputs, int64_t batch, int64_t h, int64_t w) {
        std::vector<HostTensor> outputs{{"noise_pred", {batch, 4, h, w}}};
        nn::test::run(*unet_, inputs, outputs);
        return outputs[0].values;
    }

    static std::unique_ptr<ModelFolder> folder_;
    static std::unique_ptr<nn::Component> unet_;
};

std::unique_ptr<ModelFolder> SdxlModel::folder_;
std::unique_ptr<nn::Component> SdxlModel::unet_;

// Deterministic, varied values.
std::vector<float> ramp(size_t n, float scale, float phase) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i) + phase);
    return v;
}

struct UnetInputs {
    int64_t batch, h, w, context_length = 77;
    std::vector<float> sample, timestep, context, text_embeds, time_ids;

    UnetInputs(int64_t b, int64_t height, int64_t width) : batch(b), h(height), w(width) {
        sample = ramp(static_cast<size_t>(b * 4 * h * w), 1.0f, 0.1f);
        timestep.assign(static_cast<size_t>(b), 501.0f);
        context = ramp(static_cast<size_t>(b * context_length * 64), 0.5f, 0.7f);
        text_embeds = ramp(static_cast<size_t>(b * 32), 1.0f, 1.3f);
        for (int64_t i = 0; i < b; ++i)
            time_ids.insert(time_ids.end(), {128.0f, 128.0f, 0.0f, 0.0f, 128.0f, 128.0f});
    }
    std::vector<HostTensor> tensors() const {
        return {{"sample", {batch, 4, h, w}, sample},
                {"timestep", {batch}, timestep},
                {"encoder_hidden_states", {batch, context_length, 64}, context},
                {"text_embeds", {batch, 32}, text_embeds},
                {"time_ids", {batch, static_cast<int64_t>(time_ids.size()) / batch}, time_ids}};
    }
};

TEST_F(SdxlModel, NoisePredictionHasTheSampleShapeAndIsDeterministic) {
    const UnetInputs in(2, 16, 16);
    const std::vector<float> first = predict(in.tensors(), 2, 16, 16);
    EXPECT_TRUE(nn::test::all_finite(first));
    EXPECT_EQ(predict(in.tensors(), 2, 16, 16), first);
}

TEST_F(SdxlModel, BatchItemsAreIndependent) {
    const UnetInputs pair(2, 16, 12);
    const std::vector<float> both = predict(pair.tensors(), 2, 16, 12);
    UnetInputs single(1, 16, 12);
    const size_t sample_item = single.sample.size();
    const auto item = [](const std::vector<float> &v, size_t n, size_t i) {
        return std::vector<float>(v.begin() + static_cast<ptrdiff_t>(i * n),
                                  v.begin() + static_cast<ptrdiff_t>((i + 1) * n));
    };
    for (size_t i = 0; i < 2; ++i) {
        single.sample = item(pair.sample, sample_item, i);
        single.context = item(pair.context, single.context.size(), i);
        single.text_embeds = item(pair.text_embeds, single.text_embeds.size(), i);
        // Not bit-equal: the matrix products block differently for another batch size.
        EXPECT_LT(nn::test::relative_l2(predict(single.tensors(), 1, 16, 12), item(both, sample_item, i)),
                  1e-5)
            << "item " << i;
    }
}

TEST_F(SdxlModel, TimeIdsAndPooledEmbedsReachTheTimeEmbedding) {
    const UnetInputs in(1, 16, 16);
    const std::vector<float> base = predict(in.tensors(), 1, 16, 16);
    UnetInputs other_size = in;
    other_size.time_ids = {1024.0f, 1024.0f, 0.0f, 0.0f, 1024.0f, 1024.0f};
    EXPECT_GT(nn::test::relative_l2(predict(other_size.tensors(), 1, 16, 16), base), 1e-4);
    UnetInputs other_text = in;
    for (float &v : other_text.text_embeds) v = -v;
    EXPECT_GT(nn::test::relative_l2(predict(other_text.tensors(), 1, 16, 16), base), 1e-4);
}

TEST_F(SdxlModel, AddedConditioningIsRequiredAndChecked) {
    const UnetInputs in(1, 16, 16);
    const auto expect_refused = [&](std::vector<HostTensor> tensors, const std::string &fragment) {
        try {
            predict(std::move(tensors), 1, 16, 16);
            ADD_FAILURE() << "expected a refusal mentioning " << fragment;
        } catch (const nn::ComponentError &e) {
            EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    std::vector<HostTensor> without_ids = in.tensors();
    without_ids.pop_back();
    expect_refused(without_ids, "time_ids");
    UnetInputs refiner_ids = in;  // the refiner's 5 ids do not fit this UNet's add_embedding
    refiner_ids.time_ids = {128.0f, 128.0f, 0.0f, 0.0f, 6.0f};
    expect_refused(refiner_ids.tensors(), "time_ids");
}

// --- whole generations ---------------------------------------------------------------------

struct SdxlCase {
    std::string name, scheduler, prompt, negative_prompt;
    nlohmann::json scheduler_kwargs;
    int64_t height = 0, width = 0;
    int steps = 0;
    float guidance_scale = 0;
    uint64_t seed = 0;
    std::vector<float> time_ids;  // original_size + crops_coords_top_left + target_size
};

std::vector<SdxlCase> load_cases() {
    std::ifstream in(fixture_golden("tiny-sdxl") / "cases.json");
    std::vector<SdxlCase> cases;
    const nlohmann::json file = nlohmann::json::parse(in);
    for (const nlohmann::json &c : file.at("cases")) {
        SdxlCase s;
        s.name = c.at("name");
        s.scheduler = c.at("scheduler");
        s.scheduler_kwargs = c.at("scheduler_kwargs");
        s.prompt = c.at("prompt");
        s.negative_prompt = c.at("negative_prompt");
        s.height = c.at("height");
        s.width = c.at("width");
        s.steps = c.at("steps");
        s.guidance_scale = c.at("guidance_scale");
        s.seed = c.at("seed");
        for (const char *key : {"original_size", "crops_coords_top_left", "target_size"})
            for (const nlohmann::json &v : c.at(key)) s.time_ids.push_back(v.get<float>());
        cases.push_back(std::move(s));
    }
    return cases;
}

class SdxlGeneration : public SdxlModel, public ::testing::WithParamInterface<std::string> {
protected:
    // StableDiffusionXLPipeline.__call__ with output_type "np", one image, CFG on.
    std::vector<float> generate(const SdxlCase &c) {
        const ClipTokenizer tokenizer = ClipTokenizer::load(folder_->tokenizer().dir);
        const ClipTokenizer tokenizer_2 = ClipTokenizer::load(folder_->tokenizer_2()->dir);
        const int64_t d1 = folder_->text_encoder_summary().hidden_size;
        const int64_t d2 = folder_->text_encoder_2_summary()->hidden_size;
        const int64_t pooled_dim = folder_->text_encoder_2_summary()->pooled_dim;
        const int64_t length = tokenizer.max_length();

        // encode_prompt: batch [negative, prompt] as the pipeline concatenates them for CFG.
        std::vector<float> context, pooled;
        {
            const std::unique_ptr<nn::Component> te1 = load_on_cpu(folder_->text_encoder(), "text_encoder");
            const std::unique_ptr<nn::Component> te2 = load_on_cpu(*folder_->text_encoder_2(), "text_encoder");
            for (const std::string &text : {c.negative_prompt, c.prompt}) {
                const TextEncoderOutputs a = encode_ids(*te1, tokenizer.encode_padded(text), d1, d1, 2);
                const TextEncoderOutputs b = encode_ids(*te2, tokenizer_2.encode_padded(text), d2, pooled_dim, 2);
                const std::vector<float> joined = concat_features(a.hidden_state, d1, b.hidden_state, d2);
                context.insert(context.end(), joined.begin(), joined.end());
                pooled.insert(pooled.end(), b.pooled.begin(), b.pooled.end());
            }
        }
        std::vector<float> time_ids = c.time_ids;  // negative_original_size etc. default to these
        time_ids.insert(time_ids.end(), c.time_ids.begin(), c.time_ids.end());

        SchedulerOptions options;
        for (const auto &[key, value] : c.scheduler_kwargs.items()) {
            if (key == "use_karras_sigmas") options.use_karras_sigmas = value.get<bool>();
            else options.config_overrides[key] = value;
        }
        std::unique_ptr<Scheduler> scheduler = make_scheduler(c.scheduler, folder_->scheduler_config(), options);
        scheduler->set_timesteps(c.steps);

        const int64_t scale = folder_->vae_summary().downscale_factor;
        const int64_t h = c.height / scale, w = c.width / scale, channels = folder_->unet_summary().in_channels;
        const size_t n = static_cast<size_t>(channels * h * w);
        CpuGenerator generator(c.seed);
        std::vector<float> latents(n);
        generator.randn(latents.data(), n);
        const float sigma = scheduler->init_noise_sigma();
        for (float &v : latents) v *= sigma;
        const NoiseFn noise = [&](float *out, size_t count) { generator.randn(out, count); };

        for (int i = 0; i < static_cast<int>(scheduler->timesteps().size()); ++i) {
            std::vector<float> input = latents;
            scheduler->scale_model_input(input.data(), n, i);
            input.insert(input.end(), input.begin(), input.end());
            const float t = static_cast<float>(scheduler->timestep_value(i));
            const std::vector<float> both =
                predict({{"sample", {2, channels, h, w}, input},
                         {"timestep", {2}, {t, t}},
                         {"encoder_hidden_states", {2, length, d1 + d2}, context},
                         {"text_embeds", {2, pooled_dim}, pooled},
                         {"time_ids", {2, static_cast<int64_t>(c.time_ids.size())}, time_ids}},
                        2, h, w);
            std::vector<float> guided(n);
            for (size_t k = 0; k < n; ++k)
                guided[k] = both[k] + c.guidance_scale * (both[n + k] - both[k]);
            scheduler->step(guided.data(), i, latents.data(), n, noise);
        }

        const float scaling = static_cast<float>(folder_->vae_summary().scaling_factor);
        for (float &v : latents) v /= scaling;
        const std::unique_ptr<nn::Component> decoder = load_on_cpu(folder_->vae(), "vae_decoder");
        std::vector<HostTensor> in{{"latents", {1, channels, h, w}, latents}};
        std::vector<HostTensor> out{{"image", {1, 3, c.height, c.width}}};
        nn::test::run(*decoder, in, out);
        // VaeImageProcessor.postprocess: (x / 2 + 0.5).clamp(0, 1), CHW -> HWC.
        std::vector<float> image(out[0].values.size());
        const size_t plane = static_cast<size_t>(c.height * c.width);
        for (size_t ch = 0; ch < 3; ++ch)
            for (size_t p = 0; p < plane; ++p)
                image[p * 3 + ch] = std::clamp(out[0].values[ch * plane + p] / 2.0f + 0.5f, 0.0f, 1.0f);
        return image;
    }
};

TEST_P(SdxlGeneration, ImageMatchesDiffusers) {
    SdxlCase c;
    for (SdxlCase &candidate : load_cases())
        if (candidate.name == GetParam()) c = std::move(candidate);
    ASSERT_EQ(c.name, GetParam());
    const SafetensorsFile golden =
        SafetensorsFile::open((fixture_golden("tiny-sdxl") / "pipelines.safetensors").string());
    const std::vector<float> expected = to_f32(golden.at(c.name + ".image"));
    const std::vector<float> image = generate(c);
    ASSERT_EQ(image.size(), expected.size());
    const double worst = max_abs_diff(image, expected), relative = nn::test::relative_l2(image, expected);
    // Measured: about 1e-5 largest and 1e-6 relative, float32 reordering noise; a wrong layer or
    // step misses by orders of magnitude more.
    EXPECT_LT(worst, 1e-4);
    EXPECT_LT(relative, 1e-5);
    RecordProperty("max_abs_diff", std::to_string(worst));
    RecordProperty("relative_l2", std::to_string(relative));
}

std::vector<std::string> case_names() {
    std::vector<std::string> names;
    for (const SdxlCase &c : load_cases()) names.push_back(c.name);
    return names;
}

std::string case_param_name(const ::testing::TestParamInfo<std::string> &param) {
    std::string s = param.param;
    for (char &ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(TinySdxl, SdxlGeneration, ::testing::ValuesIn(case_names()), case_param_name);

}  // namespace
}  // namespace sdw::compat
