// The VAE decode of very large images in overlapping tiles, blended across the seams,
// as diffusers' AutoencoderKL does after enable_tiling(): the decoder's activations at
// full resolution (128 channels x 2048 x 2048 floats is 2 GiB per tensor for SD 1.5)
// then grow with one tile, not with the image. The result is diffusers' tiled decode,
// which differs from a whole decode near the seams; so only images larger than four
// tiles are tiled (SD 1.5: beyond 1024x1024 pixels; SDXL, whose tile is 1024 pixels:
// never within the API's 2048x2048), and every smaller one decodes whole, as before.
#pragma once

#include "pipeline/float_tensor.h"

#include <cstdint>
#include <functional>

namespace sdw {

struct VaeTiling {
    int64_t latent_tile = 64;    // vae sample_size / downscale factor (diffusers' tile_latent_min_size)
    int64_t sample_tile = 512;   // vae sample_size (tile_sample_min_size)
    double overlap_factor = 0.25;

    // From the VAE's config: sample_size and 2^(len(block_out_channels) - 1).
    static VaeTiling for_vae(int64_t sample_size, int64_t downscale_factor);
    // Whether latents of h x w are decoded in tiles: more than four tiles' area.
    bool applies(int64_t latent_h, int64_t latent_w) const;
};

// Decodes one image's latents [1, C, H, W] tile by tile with `decode` (latents
// [1, C, h, w] -> image [1, 3, h * s, w * s]) into [1, 3, H * s, W * s], blending each
// tile into its upper and left neighbours over sample_tile * overlap_factor pixels in
// diffusers' order. Exceptions from `decode` (a cancel) propagate.
FloatTensor tiled_vae_decode(const FloatTensor &latents, const VaeTiling &tiling,
                             const std::function<FloatTensor(const FloatTensor &)> &decode);

}  // namespace sdw
