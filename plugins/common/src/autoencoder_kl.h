// diffusers AutoencoderKL as the "vae_decoder" (post_quant_conv + Decoder) and
// "vae_encoder" (Encoder + quant_conv, split into mean and clamped logvar) components.
#pragma once

#include <sdw/nn/network.h>

#include <memory>

namespace sdw::nn {

std::unique_ptr<Network> load_vae_decoder(Ops &ops, const sdw_component_desc &desc);
std::unique_ptr<Network> load_vae_encoder(Ops &ops, const sdw_component_desc &desc);

}  // namespace sdw::nn
