// diffusers UNet2DConditionModel (SD 1.x / 2.x, and SDXL's text_time added
// conditioning) as the "unet" component.
#pragma once

#include <sdw/nn/network.h>

#include <memory>

namespace sdw::nn {

std::unique_ptr<Network> load_unet_2d_condition(Ops &ops, const sdw_component_desc &desc);

}  // namespace sdw::nn
