// What each operation (txt2img, img2img, inpaint) does to the latents around the
// denoising loop, the same for SD 1.x/2.x and SDXL because diffusers' pipelines of both
// families do it the same way: the request's checks and output size, where the loop
// starts (strength), the initial latents with noise drawn in diffusers' order, the mask
// channels a 9-channel inpainting UNet takes, and the re-noised init image a 4-channel
// UNet's unmasked region is held to after each step. The family's pipeline keeps what
// differs: conditioning, the UNet call, how image latents are normalised, the decode.
#pragma once

#include "pipeline/diffusion_components.h"
#include "pipeline/generation.h"
#include "rng/torch_generator.h"
#include "schedulers/scheduler.h"

#include <functional>
#include <vector>

namespace sdw {

// The output size in pixels and latents: the request's, else the init image's
// (img2img / inpaint, as diffusers), else the UNet's sample size.
struct Geometry {
    int64_t width = 0, height = 0;
    int64_t latent_h = 0, latent_w = 0;
};

// The request's size checked against the init image and the VAE's scale factor; a
// mismatch is GenerationInvalid("width" / "height").
Geometry resolve_geometry(const GenerationRequest &req, int64_t sample_size, int64_t vae_scale_factor);

// What a UNet with `unet_in_channels` inputs and a VAE with `latent_channels` can serve:
// GenerationInvalid naming the field otherwise. A UNet that is neither plain nor
// inpainting (2 * latent + 1 channels) is std::runtime_error (the model, not the request).
void check_operation(const GenerationRequest &req, int64_t latent_channels, int64_t unet_in_channels,
                     bool can_encode);

// A sample of the VAE posterior: mean + exp(0.5 * logvar) * noise, the noise drawn now
// from `rng` (diffusers' latent_dist.sample(generator)); not yet scaled.
FloatTensor sample_posterior(DiffusionComponents &components, const FloatTensor &image,
                             TorchGenerator &rng, const CancelCheck &cancel);

// An image in [-1, 1] [1, 3, H, W] -> the family's normalised latents [1, C, h, w],
// drawing the posterior's noise from the request's generator.
using LatentEncoder = std::function<FloatTensor(const FloatTensor &image)>;

class OperationLatents {
public:
    // Sets the scheduler's timesteps for req.steps and, for img2img and inpaint, its
    // begin index from req.strength (GenerationInvalid("strength") when no step would
    // run); then draws the initial latents [num_images, latent_channels, h, w] as
    // diffusers does, encoding the init image and the masked image with `encode`.
    // Expects check_operation to have accepted the request.
    OperationLatents(const GenerationRequest &req, const Geometry &geometry, int64_t latent_channels,
                     int64_t unet_in_channels, Scheduler &scheduler, TorchGenerator &rng,
                     const LatentEncoder &encode);

    FloatTensor &latents() { return latents_; }
    // The first scheduler index the loop runs and how many steps it runs from there.
    int start_index() const { return start_index_; }
    int total_steps() const { return total_steps_; }

    // The UNet's input from the scaled model input (`copies` batches of the latents for
    // guidance): with the mask and masked-image latents appended as channels for a
    // 9-channel inpainting UNet, else as is.
    FloatTensor unet_input(FloatTensor scaled, int64_t copies) const;

    // After scheduler step `index`: a 4-channel inpaint puts the unmasked region back on
    // the init image's trajectory (its latents re-noised to the next timestep).
    void after_step(Scheduler &scheduler, int index);

private:
    Operation operation_;
    bool inpainting_unet_ = false;
    int start_index_ = 0;
    int total_steps_ = 0;
    FloatTensor latents_;
    FloatTensor image_latents_;        // 4-channel inpaint: the clean init latents
    FloatTensor noise_;                // ... and the noise they are re-noised with
    FloatTensor latent_mask_;          // [n, 1, h, w] (inpaint)
    FloatTensor masked_image_latents_; // [n, C, h, w] (9-channel inpaint)
};

}  // namespace sdw
