// Reads the reference generations of a golden set, tests/fixtures/golden/<set>/
// (cases.json and pipelines.safetensors), into GenerationRequests and expected outputs.
// cases.json's "model" names the model folder (or single-file checkpoint) under
// tests/fixtures/models (sd-shapes: the embedded default model) that made them; a set is named after its model unless
// it adds cases to a model another set already has.
#pragma once

#include "model/safetensors.h"
#include "pipeline/generation.h"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace sdw::testing {

struct GoldenCase {
    std::string name;
    std::string model;
    GenerationRequest request;
    std::vector<float> image;          // [n, H, W, 3] float in [0, 1], before 8-bit rounding
    std::vector<float> step_latents;   // [steps, 4, h, w] (txt2img cases only)
    std::vector<int64_t> step_latents_shape;
};

std::string fixtures_dir();
std::string golden_dir(const std::string &set);
std::string model_dir(const std::string &model);

// Every case of golden/<set>/cases.json.
std::vector<GoldenCase> load_golden_cases(const std::string &set);

// One case of one golden set, as a test parameter.
struct GoldenCaseId {
    std::string set;
    std::string model;  // the set's cases.json "model"
    std::string case_name;
};

// Every case of every golden set.
std::vector<GoldenCaseId> all_golden_case_ids();
// The case itself; throws if cases.json has no such case.
GoldenCase find_golden_case(const GoldenCaseId &id);
// "<set>_<case>" with every non-alphanumeric character replaced by '_' (gtest names).
std::string golden_case_test_name(const GoldenCaseId &id);
// Names the case in gtest's listings.
void PrintTo(const GoldenCaseId &id, std::ostream *os);

}  // namespace sdw::testing
