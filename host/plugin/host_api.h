// The table of host functions every plugin receives in sdw_plugin_init.
#pragma once

#include <sdw/plugin_api.h>

#include <functional>
#include <string_view>

namespace sdw {

// The one host table (ABI v1.<this host's minor>). Lives for the whole process.
const sdw_host_api *host_api() noexcept;

// Where plugins' log lines go. Called from whichever thread the plugin logs on.
using PluginLogger = std::function<void(sdw_log_level level, std::string_view message)>;

// Replaces the logger (thread-safe; for tests); an empty function restores the
// default, the worker's log (log/log.h): "plugin: message" at the plugin's level,
// dropped below the configured log.level.
void set_plugin_logger(PluginLogger logger);

const char *log_level_name(sdw_log_level level) noexcept;

}  // namespace sdw
