// A cheap look at latents while a job samples: each latent pixel becomes one RGB
// pixel through a fixed linear map (latent channels -> R, G, B), the approximation
// previewers use instead of running the VAE decoder. The maps are the ones fitted for
// the SD 1.x/2.x VAE and for the SDXL VAE (least squares of decoded colours on
// latents); they expect latents as the UNet sees them (scaled by the VAE's
// scaling_factor), which is what the pipelines' on_latents callback passes.
#pragma once

#include "image/image.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace sdw {

enum class LatentFormat { sd, sdxl };

// Latents [n, 4, h, w] (row-major) -> an RGB image of n * w by h pixels, the n
// images side by side. nullopt for latents this map does not describe (not 4
// channels, or an empty batch).
std::optional<Image> latent_preview_image(LatentFormat format, const std::vector<int64_t> &shape,
                                          const float *latents);

}  // namespace sdw
