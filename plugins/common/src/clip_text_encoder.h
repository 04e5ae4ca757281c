// transformers' CLIPTextModel / CLIPTextModelWithProjection as the "text_encoder"
// component.
#pragma once

#include <sdw/nn/network.h>

#include <memory>

namespace sdw::nn {

std::unique_ptr<Network> load_clip_text_encoder(Ops &ops, const sdw_component_desc &desc);

}  // namespace sdw::nn
