#include "plugin/plugin_errors.h"

#include <sdw/plugin_api.hpp>

namespace sdw {

const char *plugin_load_failure_name(PluginLoadFailure failure) noexcept {
    switch (failure) {
    case PluginLoadFailure::not_found: return "not_found";
    case PluginLoadFailure::not_loadable: return "not_loadable";
    case PluginLoadFailure::no_entry_symbol: return "no_entry_symbol";
    case PluginLoadFailure::abi_major_mismatch: return "abi_major_mismatch";
    case PluginLoadFailure::abi_minor_too_new: return "abi_minor_too_new";
    case PluginLoadFailure::probe_refused: return "probe_refused";
    case PluginLoadFailure::init_failed: return "init_failed";
    case PluginLoadFailure::plugin_bug: return "plugin_bug";
    case PluginLoadFailure::table_too_small: return "table_too_small";
    case PluginLoadFailure::function_missing: return "function_missing";
    case PluginLoadFailure::describe_failed: return "describe_failed";
    }
    return "unknown";
}

std::string plugin_status_name(sdw_status status) {
    const char *name = sdw::plugin::status_name(status);
    if (std::string_view(name) == "UNKNOWN_STATUS") {
        return "status " + std::to_string(static_cast<int>(status));
    }
    return name;
}

PluginCallError make_call_error(sdw_status status, const std::string &function,
                                const std::string &err_message, const std::string &plugin_path) {
    const std::string status_text = plugin_status_name(status);
    if (err_message.empty()) {
        return PluginCallError(status, function, "", true,
                               "plugin bug: " + function + " returned " + status_text +
                                   " without a message: " + plugin_path);
    }
    return PluginCallError(status, function, err_message, false,
                           function + " failed (" + status_text + "): " + err_message);
}

}  // namespace sdw
