// Builds the Generator the server runs: a model folder loaded into a plugin chosen
// by the config, behind the pipeline that fits the model.
#pragma once

#include "pipeline/generation.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sdw {

struct GeneratorConfig {
    std::string plugin;                              // a name ("cpu-blas") or a path
    std::string plugin_options_json = "{}";          // opaque to the host
    std::vector<std::filesystem::path> plugin_search_dirs;  // empty: the default dirs
    std::filesystem::path model_path;  // a diffusers folder or a single-file checkpoint
    std::filesystem::path tokenizers_dir;      // for single files (SingleFileOptions)
    std::string prediction_type;               // for single files; empty: what the file says
};

// Throws PluginLoadError / PluginCallError (plugin refusals), or std::runtime_error
// naming the model file at fault. Every message is one line.
std::unique_ptr<Generator> make_generator(const GeneratorConfig &config);

}  // namespace sdw
