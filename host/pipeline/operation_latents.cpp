#include "pipeline/operation_latents.h"

#include "pipeline/image_tensors.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace sdw {

Geometry resolve_geometry(const GenerationRequest &req, int64_t sample_size, int64_t vae_scale_factor) {
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
    if (g.width == 0) g.width = sample_size * vae_scale_factor;
    if (g.height == 0) g.height = sample_size * vae_scale_factor;
    const int64_t f = vae_scale_factor;
    if (g.width % f != 0)
        throw GenerationInvalid("width", "width must be a multiple of " + std::to_string(f));
    if (g.height % f != 0)
        throw GenerationInvalid("height", "height must be a multiple of " + std::to_string(f));
    g.latent_h = g.height / f;
    g.latent_w = g.width / f;
    return g;
}

void check_operation(const GenerationRequest &req, int64_t latent_channels, int64_t unet_in_channels,
                     bool can_encode) {
    const bool inpainting_unet = unet_in_channels == latent_channels * 2 + 1;
    if (req.operation != Operation::txt2img && !can_encode)
        throw GenerationInvalid("operation",
                                "this backend has no VAE encoder: it serves txt2img only");
    if (req.num_images < 1) throw GenerationInvalid("num_images", "num_images must be at least 1");
    if (req.steps < 1) throw GenerationInvalid("steps", "steps must be at least 1");
    if (req.clip_skip < 0) throw GenerationInvalid("clip_skip", "clip_skip must be at least 1");
    switch (req.operation) {
    case Operation::txt2img: break;
    case Operation::img2img:
        if (!req.init_image) throw GenerationInvalid("init_image", "img2img needs an init_image");
        break;
    case Operation::inpaint:
        if (!req.init_image) throw GenerationInvalid("init_image", "inpaint needs an init_image");
        if (!req.mask) throw GenerationInvalid("mask", "inpaint needs a mask");
        if (req.mask->width != req.init_image->width || req.mask->height != req.init_image->height)
            throw GenerationInvalid("mask", "mask size differs from the init_image size");
        break;
    }
    if (inpainting_unet && req.operation != Operation::inpaint)
        throw GenerationInvalid("operation", "this model has an inpainting UNet; use operation \"inpaint\"");
    if (req.operation != Operation::txt2img && !(req.strength > 0.0f && req.strength <= 1.0f))
        throw GenerationInvalid("strength", "strength must be in (0, 1]");
    if (unet_in_channels != latent_channels && !inpainting_unet)
        throw std::runtime_error("unsupported UNet: " + std::to_string(unet_in_channels) +
                                 " input channels for " + std::to_string(latent_channels) +
                                 " latent channels");
}

FloatTensor sample_posterior(DiffusionComponents &components, const FloatTensor &image,
                             TorchGenerator &rng, const CancelCheck &cancel) {
    auto [mean, logvar] = components.encode(image, cancel);
    std::vector<float> noise(mean.numel());
    rng.randn(noise.data(), noise.size());
    FloatTensor out = std::move(mean);
    for (size_t i = 0; i < out.numel(); ++i) out.data[i] += std::exp(0.5f * logvar.data[i]) * noise[i];
    return out;
}

OperationLatents::OperationLatents(const GenerationRequest &req, const Geometry &geometry,
                                   int64_t latent_channels, int64_t unet_in_channels,
                                   Scheduler &scheduler, TorchGenerator &rng, const LatentEncoder &encode)
    : operation_(req.operation), inpainting_unet_(unet_in_channels != latent_channels) {
    scheduler.set_timesteps(req.steps);
    const int timestep_count = static_cast<int>(scheduler.timesteps().size());
    if (req.operation != Operation::txt2img) {
        start_index_ = img2img_start_index(scheduler, req.steps, req.strength);
        if (start_index_ >= timestep_count)
            throw GenerationInvalid("strength", "strength too low: no denoising step would run");
        scheduler.set_begin_index(start_index_);
    }
    total_steps_ = timestep_count - start_index_;

    const int64_t n = req.num_images;
    const std::vector<int64_t> shape = {n, latent_channels, geometry.latent_h, geometry.latent_w};
    latents_ = FloatTensor(shape);
    const auto scale_by_init_sigma = [&](FloatTensor &t) {
        const float sigma = scheduler.init_noise_sigma();
        for (float &v : t.data) v *= sigma;
    };
    switch (req.operation) {
    case Operation::txt2img:
        rng.randn(latents_.data.data(), latents_.numel());
        scale_by_init_sigma(latents_);
        break;
    case Operation::img2img: {
        const FloatTensor init_latents = repeat_batch(encode(image_to_tensor(*req.init_image)), n);
        FloatTensor noise(init_latents.shape);
        rng.randn(noise.data.data(), noise.numel());
        scheduler.add_noise(init_latents.data.data(), noise.data.data(), start_index_,
                            latents_.data.data(), latents_.numel());
        break;
    }
    case Operation::inpaint: {
        const bool strength_max = req.strength == 1.0f;
        const FloatTensor init = image_to_tensor(*req.init_image);
        const FloatTensor mask = mask_to_tensor(*req.mask);
        if (!inpainting_unet_ || !strength_max) image_latents_ = repeat_batch(encode(init), n);
        noise_ = FloatTensor(shape);
        rng.randn(noise_.data.data(), noise_.numel());
        if (strength_max) {
            latents_.data = noise_.data;
            scale_by_init_sigma(latents_);
        } else {
            scheduler.add_noise(image_latents_.data.data(), noise_.data.data(), start_index_,
                                latents_.data.data(), latents_.numel());
        }
        // diffusers encodes the masked image even for a 4-channel UNet, drawing noise.
        FloatTensor masked = repeat_batch(encode(masked_image(init, mask)), n);
        latent_mask_ = repeat_batch(resize_nearest(mask, geometry.latent_h, geometry.latent_w), n);
        if (inpainting_unet_) masked_image_latents_ = std::move(masked);
        break;
    }
    }
}

FloatTensor OperationLatents::unet_input(FloatTensor scaled, int64_t copies) const {
    if (operation_ != Operation::inpaint || !inpainting_unet_) return scaled;
    const FloatTensor mask = repeat_batch(latent_mask_, copies);
    const FloatTensor masked = repeat_batch(masked_image_latents_, copies);
    return concat_channels({&scaled, &mask, &masked});
}

void OperationLatents::after_step(Scheduler &scheduler, int index) {
    if (operation_ != Operation::inpaint || inpainting_unet_) return;
    FloatTensor proper = image_latents_;
    if (index + 1 < static_cast<int>(scheduler.timesteps().size()))
        scheduler.add_noise(image_latents_.data.data(), noise_.data.data(), index + 1,
                            proper.data.data(), proper.numel());
    const size_t batch = static_cast<size_t>(latents_.shape[0]);
    const size_t channels = static_cast<size_t>(latents_.shape[1]);
    const size_t plane = static_cast<size_t>(latents_.shape[2] * latents_.shape[3]);
    for (size_t b = 0; b < batch; ++b)
        for (size_t c = 0; c < channels; ++c)
            for (size_t p = 0; p < plane; ++p) {
                const float m = latent_mask_.data[b * plane + p];
                const size_t k = (b * channels + c) * plane + p;
                latents_.data[k] = (1.0f - m) * proper.data[k] + m * latents_.data[k];
            }
}

}  // namespace sdw
