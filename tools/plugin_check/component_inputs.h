// Small inputs of the documented shapes (plugin_api.h, section 6) for each
// component of a model folder, and host-allocated outputs to match.
#pragma once

#include "model/model_folder.h"

#include <sdw/plugin_api.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sdw::plugin_check {

struct Tensor {
    std::string name;
    sdw_dtype dtype = SDW_DTYPE_F32;
    std::vector<int64_t> shape;
    std::vector<unsigned char> bytes;

    sdw_tensor_view view();
    bool all_finite() const;  // F32 only; other dtypes count as finite
};

std::vector<sdw_tensor_view> views_of(std::vector<Tensor> &tensors);

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
