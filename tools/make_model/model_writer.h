// Writes a ModelPlan to disk in the diffusers folder layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>

#include "model_families.h"

namespace sdw::make_model {

struct WriteOptions {
    uint64_t seed = 0;
    // Where vocab.json, merges.txt, tokenizer_config.json and special_tokens_map.json are copied
    // from (the real CLIP tokenizer).
    std::filesystem::path tokenizer_source;
    // Component folders to write weights for; empty = all. The configs, model index, scheduler
    // and tokenizers are always written.
    std::set<std::string> only;
    // Zero weights in sparse files instead of random ones (instant, no disk space used).
    bool zeros = false;
    // Called after each weights file with its path and size.
    std::function<void(const std::filesystem::path&, uint64_t bytes)> on_file_written;
};

// The default tokenizer_source: models/sd-shapes/tokenizer of the source tree this was built from.
std::filesystem::path default_tokenizer_source();

// Creates `out` and its component folders as needed and writes the model, replacing files of
// the same names. Throws std::runtime_error naming the path on failure.
void write_model(const ModelPlan& plan, const std::filesystem::path& out, const WriteOptions& options);

}  // namespace sdw::make_model
