// Small inputs of the documented shapes (plugin_api.h, section 6) for each
// component of a model folder, and host-allocated outputs to match.
#pragma once

#include "model/model_folder.h"

#include <sdw/plugin_api.h>
#include <sdw/tensor_views.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sdw::plugin_check {

// A named tensor owning its bytes; view() hands it to the plugin.
using Tensor = plugin::OwnedTensor;
using plugin::views_of;

bool all_finite(const Tensor &tensor);  // F32 only; other dtypes count as finite

struct ComponentCase {
    std::string kind;  // ABI kind: "text_encoder", "unet", "vae_decoder", "vae_encoder"
    const ModelComponent *component = nullptr;
    int32_t clip_skip = 0;
    std::vector<Tensor> inputs;
    std::vector<Tensor> outputs;
};

// One case per ABI component of the model; inputs are deterministic, latents are
// 8x8 (64x64 pixels for the VAE at the usual factor of 8), batch 1.
std::vector<ComponentCase> component_cases(const ModelFolder &model);

}  // namespace sdw::plugin_check
