// The generation parameters as the one-block text that AUTOMATIC1111's web UI writes
// into a PNG's "parameters" tEXt chunk, so that existing tools (PNG Info, civitai)
// read our images' settings:
//   <prompt>
//   Negative prompt: <negative prompt>
//   Steps: 20, Sampler: ddim, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: sd-shapes, ...
#pragma once

#include "pipeline/generation.h"

#include <cstdint>
#include <string>

namespace sdw {

std::string generation_parameters_text(const GenerationRequest &request, uint64_t image_seed,
                                       const std::string &model_name);

}  // namespace sdw
