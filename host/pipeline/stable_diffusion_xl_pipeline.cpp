#include "pipeline/stable_diffusion_xl_pipeline.h"

#include "pipeline/denoising_support.h"
#include "pipeline/image_tensors.h"
#include "pipeline/denoising_loop.h"
#include "pipeline/operation_latents.h"

#include <algorithm>
#include <stdexcept>

namespace sdw {
namespace {

// [B, L, Da] ++ [B, L, Db] along the feature axis (torch.concat(..., dim=-1)).
FloatTensor concat_features(const FloatTensor &a, const FloatTensor &b) {
    if (a.shape.size() != 3 || b.shape.size() != 3 || a.shape[0] != b.shape[0] ||
        a.shape[1] != b.shape[1])
        throw std::runtime_error("text encoders disagree on the context shape: " +
                                 shape_string(a.shape) + " and " + shape_string(b.shape));
    const size_t rows = static_cast<size_t>(a.shape[0] * a.shape[1]);
    const size_t da = static_cast<size_t>(a.shape[2]), db = static_cast<size_t>(b.shape[2]);
    FloatTensor out({a.shape[0], a.shape[1], a.shape[2] + b.shape[2]});
    for (size_t r = 0; r < rows; ++r) {
        std::copy_n(a.data.begin() + static_cast<ptrdiff_t>(r * da), da,
                    out.data.begin() + static_cast<ptrdiff_t>(r * (da + db)));
        std::copy_n(b.data.begin() + static_cast<ptrdiff_t>(r * db), db,
                    out.data.begin() + static_cast<ptrdiff_t>(r * (da + db) + da));
    }
    return out;
}

// diffusers' default aesthetic scores (refiner-style models): the prompt's, the negative's.
constexpr float kAestheticScore = 6.0f;
constexpr float kNegativeAestheticScore = 2.5f;

// _get_add_time_ids with the default micro-conditioning: original_size (h, w),
// crops_coords_top_left (0, 0), then target_size (h, w), or with requires_aesthetics_score
// the aesthetic score; n rows, preceded by n negative rows when guided (the same but for
// the negative aesthetic score), as the UNet batch is laid out.
FloatTensor default_time_ids(int64_t n, bool guided, bool aesthetic, int64_t height, int64_t width) {
    const float h = static_cast<float>(height), w = static_cast<float>(width);
    const std::vector<float> positive = aesthetic ? std::vector<float>{h, w, 0.0f, 0.0f, kAestheticScore}
                                                  : std::vector<float>{h, w, 0.0f, 0.0f, h, w};
    std::vector<float> negative = positive;
    if (aesthetic) negative.back() = kNegativeAestheticScore;
    const auto width_ids = static_cast<int64_t>(positive.size());
    FloatTensor ids({guided ? 2 * n : n, width_ids});
    auto out = ids.data.begin();
    for (int64_t r = 0; r < ids.shape[0]; ++r)
        out = std::copy(guided && r < n ? negative.begin() : positive.begin(),
                        guided && r < n ? negative.end() : positive.end(), out);
    return ids;
}

}  // namespace

StableDiffusionXLPipeline::StableDiffusionXLPipeline(
    PipelineModel model, SdxlPipelineOptions options, std::optional<ClipTokenizer> tokenizer,
    ClipTokenizer tokenizer_2, std::unique_ptr<SdxlDiffusionComponents> components)
    : model_(std::move(model)), options_(std::move(options)), tokenizer_(std::move(tokenizer)),
      tokenizer_2_(std::move(tokenizer_2)), components_(std::move(components)) {
    const size_t channels = static_cast<size_t>(model_.latent_channels);
    if (options_.latents_mean.size() != options_.latents_std.size() ||
        (!options_.latents_mean.empty() && options_.latents_mean.size() != channels))
        throw std::invalid_argument("latents_mean and latents_std need one value per latent channel");
}

ModelDescription StableDiffusionXLPipeline::describe() const {
    ModelDescription d;
    d.name = model_.name;
    d.path = model_.path;
    d.default_width = static_cast<int>(model_.sample_size * model_.vae_scale_factor);
    d.default_height = d.default_width;
    // SDXL conditions on the penultimate layer already: clip_skip N reads layer N + 1 from the end.
    d.max_clip_skip = static_cast<int>(model_.text_encoder_layers) - 1;
    d.inpainting_unet = model_.unet_in_channels == model_.latent_channels * 2 + 1;
    if (!components_->can_encode()) d.operations = {Operation::txt2img};
    else if (d.inpainting_unet) d.operations = {Operation::inpaint};
    // diffusers runs refiners through the img2img and inpaint pipelines only: its txt2img
    // pipeline has no aesthetic-score time ids to give them.
    if (options_.requires_aesthetics_score)
        std::erase(d.operations, Operation::txt2img);
    d.latent_format = LatentFormat::sdxl;
    d.schedulers = scheduler_names();
    return d;
}

StableDiffusionXLPipeline::Conditioning
StableDiffusionXLPipeline::encode_prompt(const std::string &text, int layer, const CancelCheck &cancel) {
    // Both tokenizers pad to their own model_max_length (77 for both in SDXL).
    const std::vector<int32_t> ids_2 = tokenizer_2_.encode_padded(text);
    std::optional<TextEncoding> first;
    if (tokenizer_) {
        const std::vector<int32_t> ids = tokenizer_->encode_padded(text);
        first = components_->encode_text_layer(TextEncoderSlot::first, ids, 1, static_cast<int64_t>(ids.size()),
                                               layer, false, cancel);
    }
    // Only the last encoder's pooled output conditions the UNet.
    TextEncoding second = components_->encode_text_layer(
        TextEncoderSlot::second, ids_2, 1, static_cast<int64_t>(ids_2.size()), layer, true, cancel);
    if (!first) return {std::move(second.hidden_state), std::move(second.pooled)};
    return {concat_features(first->hidden_state, second.hidden_state), std::move(second.pooled)};
}

GenerationResult StableDiffusionXLPipeline::generate(const GenerationRequest &req,
                                                     const GenerationCallbacks &callbacks) {
    const auto start = Clock::now();
    check_operation(req, model_.latent_channels, model_.unet_in_channels, components_->can_encode());
    if (options_.requires_aesthetics_score && req.operation == Operation::txt2img)
        throw GenerationInvalid("operation", "this model is an SDXL refiner: it serves img2img and inpaint");
    const Geometry geo = resolve_geometry(req, model_.sample_size, model_.vae_scale_factor);
    const CancelCheck cancel = cancel_check(callbacks);
    auto throw_if_cancelled = [&] {
        if (cancel()) throw GenerationCancelled();
    };
    std::unique_ptr<Scheduler> scheduler = make_request_scheduler(req, model_.scheduler_config);
    std::unique_ptr<TorchGenerator> rng = make_request_generator(req);
    const NoiseFn noise_fn = [&rng](float *out, size_t n) { rng->randn(out, n); };

    GenerationResult result;
    const int64_t n = req.num_images;
    const bool guided = req.guidance_scale > 1.0f;

    // 1. Conditioning, [uncond x n, cond x n] when guided. diffusers' clip_skip=None is
    // hidden_states[-2], clip_skip=k is hidden_states[-(k + 2)]: ABI clip_skip 1 + ours.
    auto t0 = Clock::now();
    Conditioning cond;
    {
        const int layer = (req.clip_skip < 1 ? 1 : req.clip_skip) + 1;
        Conditioning positive = encode_prompt(req.prompt, layer, cancel);
        cond.context = repeat_batch(positive.context, n);
        cond.text_embeds = repeat_batch(positive.text_embeds, n);
        if (guided) {
            Conditioning negative;
            if (req.negative_prompt.empty() && options_.force_zeros_for_empty_prompt) {
                negative.context = FloatTensor(positive.context.shape);
                negative.text_embeds = FloatTensor(positive.text_embeds.shape);
            } else {
                // diffusers encodes the negative prompt at hidden_states[-2] whatever clip_skip is.
                negative = encode_prompt(req.negative_prompt, 2, cancel);
            }
            cond.context = concat_batch(repeat_batch(negative.context, n), cond.context);
            cond.text_embeds = concat_batch(repeat_batch(negative.text_embeds, n), cond.text_embeds);
        }
    }
    // negative_original_size etc. default to the positive ones: the rows differ only in
    // a refiner's aesthetic score.
    const FloatTensor time_ids =
        default_time_ids(n, guided, options_.requires_aesthetics_score, geo.height, geo.width);
    result.timings_ms["text_encoder"] = ms_since(t0);
    throw_if_cancelled();

    // 2. Timesteps and initial latents, drawing noise in diffusers' order. img2img
    // normalises image latents with the VAE's latents_mean / latents_std where it has
    // them; the inpaint pipeline only scales them (diffusers 0.42, both pipelines).
    t0 = Clock::now();
    const bool normalise = req.operation == Operation::img2img && !options_.latents_mean.empty();
    const LatentEncoder encode = [&](const FloatTensor &image) {
        FloatTensor latents = sample_posterior(*components_, image, *rng, cancel);
        const float scaling = model_.scaling_factor;
        if (!normalise) {
            for (float &v : latents.data) v *= scaling;
            return latents;
        }
        const size_t plane = static_cast<size_t>(latents.shape[2] * latents.shape[3]);
        const size_t channels = static_cast<size_t>(model_.latent_channels);
        for (size_t k = 0; k < latents.numel(); ++k) {
            const size_t c = (k / plane) % channels;
            latents.data[k] = (latents.data[k] - options_.latents_mean[c]) * scaling / options_.latents_std[c];
        }
        return latents;
    };
    OperationLatents op(req, geo, model_.latent_channels, model_.unet_in_channels, *scheduler, *rng, encode);
    FloatTensor &latents = op.latents();
    result.timings_ms["prepare_latents"] = ms_since(t0);

    // 3. Denoising loop.
    t0 = Clock::now();
    const NoisePredictor predict = [&](const FloatTensor &input, const std::vector<float> &ts) {
        return components_->predict_noise_text_time(input, ts, cond.context, cond.text_embeds, time_ids, cancel);
    };
    run_denoising_loop(op, *scheduler, guided, req.guidance_scale, predict, noise_fn, cancel, callbacks);
    result.timings_ms["denoise"] = ms_since(t0);
    throw_if_cancelled();

    // 4. Decode. A float32 VAE needs none of diffusers' force_upcast dance.
    t0 = Clock::now();
    const float scaling = model_.scaling_factor;
    if (options_.latents_mean.empty()) {
        for (float &v : latents.data) v /= scaling;
    } else {
        const size_t plane = static_cast<size_t>(latents.shape[2] * latents.shape[3]);
        const size_t channels = static_cast<size_t>(model_.latent_channels);
        for (size_t k = 0; k < latents.numel(); ++k) {
            const size_t c = (k / plane) % channels;
            latents.data[k] = latents.data[k] * options_.latents_std[c] / scaling + options_.latents_mean[c];
        }
    }
    FloatTensor decoded = components_->decode(latents, cancel);
    result.timings_ms["vae_decode"] = ms_since(t0);
    for (Image &img : tensor_to_images(decoded)) result.images.push_back({std::move(img), req.seed});
    result.timings_ms["total"] = ms_since(start);
    return result;
}

}  // namespace sdw
