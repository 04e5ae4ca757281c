// What the loader and the component wrappers throw. Every message is one line;
// load refusals end with the plugin's path so a log line alone says which file.
#pragma once

#include <sdw/plugin_api.h>

#include <stdexcept>
#include <string>

namespace sdw {

// Why a plugin could not be loaded; each refusal has its own value so tests and
// callers can tell them apart without parsing messages.
enum class PluginLoadFailure {
    not_found,          // no such file, or a name found in no search directory
    not_loadable,       // dlopen refused it (not a shared object, missing dependency)
    no_entry_symbol,    // sdw_plugin_init is not exported
    abi_major_mismatch, // built for another major version of the ABI
    abi_minor_too_new,  // needs a newer minor than this host has
    probe_refused,      // sdw_plugin_probe says its device or runtime is absent
    init_failed,        // sdw_plugin_init returned an error with a message
    plugin_bug,         // a call failed without a message, or broke the contract otherwise
    table_too_small,    // the function table's struct_size is below ABI v1.0's
    function_missing,   // a required function pointer is NULL
    describe_failed,    // describe returned an error with a message
};

const char *plugin_load_failure_name(PluginLoadFailure failure) noexcept;

class PluginLoadError : public std::runtime_error {
public:
    PluginLoadError(PluginLoadFailure failure, const std::string &message)
        : std::runtime_error(message), failure_(failure) {}
    PluginLoadFailure failure() const noexcept { return failure_; }

private:
    PluginLoadFailure failure_;
};

// A plugin call (context_create, component_load/prepare/run) that returned an
// error. status() is the plugin's status; cancelled() tells a requested stop from
// a failure. what() is "<function> failed (<STATUS>): <plugin message>", or
// "plugin bug: <function> returned <STATUS> without a message: <path>".
class PluginCallError : public std::runtime_error {
public:
    PluginCallError(sdw_status status, std::string function, std::string plugin_message,
                    bool plugin_bug, const std::string &what)
        : std::runtime_error(what), status_(status), function_(std::move(function)),
          plugin_message_(std::move(plugin_message)), plugin_bug_(plugin_bug) {}

    sdw_status status() const noexcept { return status_; }
    bool cancelled() const noexcept { return status_ == SDW_STATUS_CANCELLED; }
    bool plugin_bug() const noexcept { return plugin_bug_; }
    const std::string &function() const noexcept { return function_; }
    // The plugin's own words ("" for a plugin bug).
    const std::string &plugin_message() const noexcept { return plugin_message_; }

private:
    sdw_status status_;
    std::string function_;
    std::string plugin_message_;
    bool plugin_bug_;
};

// "INVALID_ARGUMENT", or "status 42" for a value outside the enum.
std::string plugin_status_name(sdw_status status);

// Builds the PluginCallError for a call that returned `status` (not OK), with the
// message the plugin left in `err_message` ("" if none).
PluginCallError make_call_error(sdw_status status, const std::string &function,
                                const std::string &err_message, const std::string &plugin_path);

}  // namespace sdw
