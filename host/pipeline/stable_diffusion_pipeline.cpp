#include "pipeline/stable_diffusion_pipeline.h"

#include "pipeline/denoising_support.h"
#include "pipeline/image_tensors.h"

#include <cmath>
#include <stdexcept>

namespace sdw {
namespace {

// The positions and sizes the request asks for, checked against the model.
struct Geometry {
    int64_t width = 0, height = 0;
    int64_t latent_h = 0, latent_w = 0;
};

Geometry resolve_geometry(const GenerationRequest &req, const PipelineModel &model) {
    Geometry g;
    g.width = req.width;
    g.height = req.height;
    if (req.init_image) {
        // img2img / inpaint draw at the init image's size, as diffusers does by default.
        if (g.width == 0) g.width = req.init_image->width;
        if (g.height == 0) g.height = req.init_image->height;
        if (g.width != req.init_image->width)
            throw GenerationInvalid("width", "width " + std::to_string(g.width) +
                                                 " differs from the init_image width " +
                                                 std::to_string(req.init_image->width));
        if (g.height != req.init_image->height)
            throw GenerationInvalid("height", "height " + std::to_string(g.height) +
                                                  " differs from the init_image height " +
                                                  std::to_string(req.init_image->height));
    }
    if (g.width == 0) g.width = model.sample_size * model.vae_scale_factor;
    if (g.height == 0) g.height = model.sample_size * model.vae_scale_factor;
    const int64_t f = model.vae_scale_factor;
    if (g.width % f != 0)
        throw GenerationInvalid("width", "width must be a multiple of " + std::to_string(f));
    if (g.height % f != 0)
        throw GenerationInvalid("height", "height must be a multiple of " + std::to_string(f));
    g.latent_h = g.height / f;
    g.latent_w = g.width / f;
    return g;
}

void check_request(const GenerationRequest &req, const PipelineModel &model, bool can_encode) {
    const bool inpainting_unet = model.unet_in_channels == model.latent_channels * 2 + 1;
    if (req.operation != Operation::txt2img && !can_encode)
        throw GenerationInvalid("operation",
                                "this backend has no VAE encoder: it serves txt2img only");
    if (req.num_images < 1) throw GenerationInvalid("num_images", "num_images must be at least 1");
    if (req.steps < 1) throw GenerationInvalid("steps", "steps must be at least 1");
    if (req.clip_skip < 0) throw GenerationInvalid("clip_skip", "clip_skip must be at least 1");
    switch (req.operation) {
    case Operation::txt2img:
        if (inpainting_unet)
            throw GenerationInvalid("operation",
                                    "this model has an inpainting UNet; use operation \"inpaint\"");
        break;
    case Operation::img2img:
        if (!req.init_image) throw GenerationInvalid("init_image", "img2img needs an init_image");
        if (inpainting_unet)
            throw GenerationInvalid("operation",
                                    "this model has an inpainting UNet; use operation \"inpaint\"");
        break;
    case Operation::inpaint:
        if (!req.init_image) throw GenerationInvalid("init_image", "inpaint needs an init_image");
        if (!req.mask) throw GenerationInvalid("mask", "inpaint needs a mask");
        if (req.mask->width != req.init_image->width || req.mask->height != req.init_image->height)
            throw GenerationInvalid("mask", "mask size differs from the init_image size");
        break;
    }
    if (req.operation != Operation::txt2img && !(req.strength > 0.0f && req.strength <= 1.0f))
        throw GenerationInvalid("strength", "strength must be in (0, 1]");
    if (model.unet_in_channels != model.latent_channels && !inpainting_unet)
        throw std::runtime_error("unsupported UNet: " + std::to_string(model.unet_in_channels) +
                                 " input channels for " + std::to_string(model.latent_channels) +
                                 " latent channels");
}

// A sample from the VAE posterior, scaled into latent space:
// scaling_factor * (mean + exp(0.5 * logvar) * noise), noise drawn now from `rng`.
FloatTensor sample_latents(DiffusionComponents &components, const FloatTensor &image,
                           float scaling_factor, TorchGenerator &rng, const CancelCheck &cancel) {
    auto [mean, logvar] = components.encode(image, cancel);
    std::vector<float> noise(mean.numel());
    rng.randn(noise.data(), noise.size());
    FloatTensor out = mean;
    for (size_t i = 0; i < out.numel(); ++i) {
        const float std_dev = std::exp(0.5f * logvar.data[i]);
        out.data[i] = scaling_factor * (mean.data[i] + std_dev * noise[i]);
    }
    return out;
}

}  // namespace

StableDiffusionPipeline::StableDiffusionPipeline(PipelineModel model, ClipTokenizer tokenizer,
                                                 std::unique_ptr<DiffusionComponents> components)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), components_(std::move(components)) {}

ModelDescription StableDiffusionPipeline::describe() const {
    ModelDescription d;
    d.name = model_.name;
    d.path = model_.path;
    d.default_width = static_cast<int>(model_.sample_size * model_.vae_scale_factor);
    d.default_height = d.default_width;
    d.max_clip_skip = static_cast<int>(model_.text_encoder_layers);
    d.inpainting_unet = model_.unet_in_channels == model_.latent_channels * 2 + 1;
    if (!components_->can_encode()) d.operations = {Operation::txt2img};
    else if (d.inpainting_unet) d.operations = {Operation::inpaint};
    d.latent_format = LatentFormat::sd;
    d.schedulers = scheduler_names();
    return d;
}

GenerationResult StableDiffusionPipeline::generate(const GenerationRequest &req,
                                                   const GenerationCallbacks &callbacks) {
    const auto start = Clock::now();
    check_request(req, model_, components_->can_encode());
    const Geometry geo = resolve_geometry(req, model_);
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

    // 1. Conditioning: [uncond x n, cond x n] when guided, as diffusers concatenates it.
    auto t0 = Clock::now();
    FloatTensor context;
    {
        const int clip_skip = req.clip_skip < 1 ? 1 : req.clip_skip;
        std::vector<int32_t> ids = tokenizer_.encode_padded(req.prompt);
        const int64_t length = static_cast<int64_t>(ids.size());
        FloatTensor cond = components_->encode_text(ids, 1, length, clip_skip, cancel);
        cond = repeat_batch(cond, n);
        if (guided) {
            std::vector<int32_t> neg = tokenizer_.encode_padded(req.negative_prompt);
            FloatTensor uncond = components_->encode_text(neg, 1, length, clip_skip, cancel);
            context = concat_batch(repeat_batch(uncond, n), cond);
        } else {
            context = std::move(cond);
        }
    }
    result.timings_ms["text_encoder"] = ms_since(t0);
    throw_if_cancelled();

    // 2. Timesteps; img2img and inpaint start part-way according to strength.
    scheduler->set_timesteps(req.steps);
    const std::vector<double> &timesteps = scheduler->timesteps();
    int start_index = 0;
    if (req.operation != Operation::txt2img) {
        start_index = img2img_start_index(*scheduler, req.steps, req.strength);
        if (start_index >= static_cast<int>(timesteps.size()))
            throw GenerationInvalid("strength", "strength too low: no denoising step would run");
        scheduler->set_begin_index(start_index);
    }
    const int total_steps = static_cast<int>(timesteps.size()) - start_index;

    // 3. Initial latents, drawing noise in diffusers' order.
    const std::vector<int64_t> latent_shape = {n, model_.latent_channels, geo.latent_h, geo.latent_w};
    FloatTensor latents(latent_shape);
    FloatTensor image_latents;        // inpaint with a 4-channel UNet: the clean init latents
    FloatTensor inpaint_noise;        // ... and the noise they are re-noised with each step
    FloatTensor latent_mask;          // [n, 1, h, w] (inpaint)
    FloatTensor masked_image_latents; // [n, 4, h, w] (9-channel inpaint UNet)
    t0 = Clock::now();
    if (req.operation == Operation::txt2img) {
        rng->randn(latents.data.data(), latents.numel());
        const float sigma = scheduler->init_noise_sigma();
        for (float &v : latents.data) v *= sigma;
    } else if (req.operation == Operation::img2img) {
        FloatTensor init = image_to_tensor(*req.init_image);
        FloatTensor init_latents =
            repeat_batch(sample_latents(*components_, init, model_.scaling_factor, *rng, cancel), n);
        FloatTensor noise(init_latents.shape);
        rng->randn(noise.data.data(), noise.numel());
        scheduler->add_noise(init_latents.data.data(), noise.data.data(), start_index,
                             latents.data.data(), latents.numel());
    } else {
        const bool inpainting_unet = model_.unet_in_channels != model_.latent_channels;
        const bool strength_max = req.strength == 1.0f;
        FloatTensor init = image_to_tensor(*req.init_image);
        FloatTensor mask = mask_to_tensor(*req.mask);
        if (!inpainting_unet || !strength_max)
            image_latents = repeat_batch(
                sample_latents(*components_, init, model_.scaling_factor, *rng, cancel), n);
        inpaint_noise = FloatTensor(latent_shape);
        rng->randn(inpaint_noise.data.data(), inpaint_noise.numel());
        if (strength_max) {
            const float sigma = scheduler->init_noise_sigma();
            for (size_t i = 0; i < latents.numel(); ++i) latents.data[i] = inpaint_noise.data[i] * sigma;
        } else {
            scheduler->add_noise(image_latents.data.data(), inpaint_noise.data.data(), start_index,
                                 latents.data.data(), latents.numel());
        }
        // diffusers encodes the masked image even for a 4-channel UNet, drawing noise.
        FloatTensor masked = masked_image(init, mask);
        masked_image_latents = repeat_batch(
            sample_latents(*components_, masked, model_.scaling_factor, *rng, cancel), n);
        latent_mask = repeat_batch(resize_nearest(mask, geo.latent_h, geo.latent_w), n);
        if (!inpainting_unet) masked_image_latents = FloatTensor();
    }
    result.timings_ms["prepare_latents"] = ms_since(t0);

    // 4. Denoising loop.
    t0 = Clock::now();
    const bool inpainting_unet = model_.unet_in_channels != model_.latent_channels;
    FloatTensor model_mask, model_masked_latents;
    if (req.operation == Operation::inpaint && inpainting_unet) {
        model_mask = guided ? repeat_batch(latent_mask, 2) : latent_mask;
        model_masked_latents = guided ? repeat_batch(masked_image_latents, 2) : masked_image_latents;
    }
    const size_t item = latents.numel();
    std::vector<float> guided_pred(item);
    for (int i = start_index; i < static_cast<int>(timesteps.size()); ++i) {
        throw_if_cancelled();
        FloatTensor model_input = latents;
        scheduler->scale_model_input(model_input.data.data(), model_input.numel(), i);
        if (guided) model_input = repeat_batch(model_input, 2);
        if (model_mask.numel() != 0)
            model_input = concat_channels({&model_input, &model_mask, &model_masked_latents});
        const float t = static_cast<float>(scheduler->timestep_value(i));
        std::vector<float> ts(static_cast<size_t>(model_input.shape[0]), t);
        FloatTensor pred = components_->predict_noise(model_input, ts, context, cancel);
        combine_guidance(pred, guided, req.guidance_scale, latent_shape, guided_pred);
        scheduler->step(guided_pred.data(), i, latents.data.data(), item, noise_fn);

        if (req.operation == Operation::inpaint && !inpainting_unet) {
            // Keep the unmasked region on the init image's (re-noised) trajectory.
            FloatTensor proper = image_latents;
            if (i + 1 < static_cast<int>(timesteps.size()))
                scheduler->add_noise(image_latents.data.data(), inpaint_noise.data.data(), i + 1,
                                     proper.data.data(), proper.numel());
            const size_t plane = static_cast<size_t>(geo.latent_h * geo.latent_w);
            const size_t channels = static_cast<size_t>(model_.latent_channels);
            for (size_t b = 0; b < static_cast<size_t>(n); ++b)
                for (size_t c = 0; c < channels; ++c)
                    for (size_t p = 0; p < plane; ++p) {
                        const float m = latent_mask.data[b * plane + p];
                        const size_t k = (b * channels + c) * plane + p;
                        latents.data[k] = (1.0f - m) * proper.data[k] + m * latents.data[k];
                    }
        }
        if (callbacks.on_step) callbacks.on_step(i - start_index + 1, total_steps);
        if (callbacks.on_latents) callbacks.on_latents(i - start_index + 1, latents.shape, latents.data.data());
    }
    result.timings_ms["denoise"] = ms_since(t0);
    throw_if_cancelled();

    // 5. Decode.
    t0 = Clock::now();
    for (float &v : latents.data) v /= model_.scaling_factor;
    FloatTensor decoded = components_->decode(latents, cancel);
    result.timings_ms["vae_decode"] = ms_since(t0);
    for (Image &img : tensor_to_images(decoded)) result.images.push_back({std::move(img), req.seed});
    result.timings_ms["total"] = ms_since(start);
    return result;
}

}  // namespace sdw
