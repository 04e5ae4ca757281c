// Analytic operation counts of the SD networks, read from their config.json, so a
// measured time turns into an achieved GFLOP/s. Counted: convolutions, linear
// layers and the two attention matmuls (QK^T, PV), one multiply-add = 2 FLOPs.
// Not counted: normalizations, activations, softmax, element-wise adds (under 1%).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

namespace sdw::bench {

// One UNet2DConditionModel call on a [batch, in, h, w] latent with a [batch, context_len,
// cross_attention_dim] context.
double unet_flops(const nlohmann::json &config, int64_t batch, int64_t latent_h,
                  int64_t latent_w, int64_t context_len);

// One AutoencoderKL decode (post_quant_conv + decoder) of a [batch, latent, h, w] latent.
double vae_decoder_flops(const nlohmann::json &config, int64_t batch, int64_t latent_h,
                         int64_t latent_w);

// One CLIP text encoder pass over [batch, tokens] ids.
double text_encoder_flops(const nlohmann::json &config, int64_t batch, int64_t tokens);

}  // namespace sdw::bench
