// The host's definition of the ABI's opaque sdw_error: where a plugin leaves the
// message that explains a failing call (through host_api()->error_set).
#pragma once

#include <sdw/plugin_api.h>

#include <mutex>
#include <string>

// Global namespace: this completes the C type declared in plugin_api.h.
struct sdw_error {
    // error_set may be called from any of the plugin's threads.
    mutable std::mutex mutex;
    std::string message;
    bool has_message = false;

    void set(const char *text) {
        std::lock_guard lock(mutex);
        message = text != nullptr ? text : "";
        has_message = !message.empty();
    }
    // The message, or "" when the plugin gave none (or an empty one).
    std::string take() const {
        std::lock_guard lock(mutex);
        return has_message ? message : std::string();
    }
};
