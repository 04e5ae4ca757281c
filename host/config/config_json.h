// Config <-> JSON. Reading is strict: every key must be known, every value of the
// right type and range; the ConfigError names the key path.
#pragma once

#include "config/config.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace sdw {

// Applies the keys present in `document` on top of `config` (absent keys keep their
// value). Relative paths in the document (model.path, plugin.name when it is a path,
// plugin.search_paths, output.dir) are taken relative to `base_dir`. `source` prefixes
// error messages (a file name, or the flag a value came from). Throws ConfigError.
void merge_config_json(Config &config, const nlohmann::json &document, const std::string &source,
                       const std::filesystem::path &base_dir);

// Parses JSON text (comments allowed) and merges it as above.
void merge_config_text(Config &config, std::string_view text, const std::string &source,
                       const std::filesystem::path &base_dir);

// Every key, including defaults: what --print-config prints, and what
// merge_config_json reads back into an equal Config.
nlohmann::json config_to_json(const Config &config);

}  // namespace sdw
