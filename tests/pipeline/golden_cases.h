// Reads the reference generations of tests/fixtures/golden/<model>/ (cases.json and
// pipelines.safetensors) into GenerationRequests and expected outputs.
#pragma once

#include "model/safetensors.h"
#include "pipeline/generation.h"

#include <optional>
#include <string>
#include <vector>

namespace sdw::testing {

struct GoldenCase {
    std::string name;
    GenerationRequest request;
    std::vector<float> image;          // [n, H, W, 3] float in [0, 1], before 8-bit rounding
    std::vector<float> step_latents;   // [steps, 4, h, w] (txt2img cases only)
    std::vector<int64_t> step_latents_shape;
};

std::string fixtures_dir();
std::string golden_dir(const std::string &model);
std::string model_dir(const std::string &model);

// Every case of golden/<model>/cases.json.
std::vector<GoldenCase> load_golden_cases(const std::string &model);

}  // namespace sdw::testing
