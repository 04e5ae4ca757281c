// Start-up: command line + config file -> Config, or what to print before exiting.
//
// Where the file comes from: `--config FILE` (which must exist); otherwise
// `config/default.json` relative to the current directory if it exists; otherwise the
// built-in defaults (Config's member initialisers). Command-line flags override the file.
//
// Relative paths in a config file are relative to that file's directory (so a config
// means the same thing whatever directory the worker starts in); relative paths from
// flags and built-in defaults are relative to the current directory. The effective
// Config holds absolute, normalised paths. config/default.json says "../models/sd-shapes",
// so `./build/sd-worker` run from the project root serves models/sd-shapes on cpu-blas
// with or without that file.
//
// Never exits and never prints: the caller does both, as LoadedConfig says.
#pragma once

#include "config/config.h"

#include <optional>
#include <string>
#include <vector>

namespace sdw {

struct LoadedConfig {
    std::optional<Config> config;  // set: start with it
    int exit_code = 0;             // otherwise print `message` and exit with this code
    std::string message;           // for stdout when exit_code == 0, stderr otherwise
    bool should_exit() const { return !config.has_value(); }
};

// Exit code for an unusable command line or config file.
inline constexpr int kConfigExitCode = 2;

LoadedConfig load_config(int argc, const char *const *argv);
inline LoadedConfig load_config(int argc, char **argv) {
    return load_config(argc, const_cast<const char *const *>(argv));
}
// `args` without the program name.
LoadedConfig load_config(const std::vector<std::string> &args);

}  // namespace sdw
