#include "plugin/host_api.h"

#include "plugin/host_error.h"

#include <cstdio>
#include <mutex>
#include <string>

namespace sdw {
namespace {

std::mutex &logger_mutex() {
    static std::mutex mutex;
    return mutex;
}

PluginLogger &current_logger() {
    static PluginLogger logger;
    return logger;
}

void write_to_stderr(sdw_log_level level, std::string_view message) {
    std::fprintf(stderr, "[plugin] %s %.*s\n", log_level_name(level),
                 static_cast<int>(message.size()), message.data());
}

// C callbacks: nothing may throw back into the plugin.
void host_error_set(sdw_error *err, const char *message) noexcept {
    if (err == nullptr) return;
    try {
        err->set(message);
    } catch (...) {
        // Out of memory while copying: the call will be reported without a message.
    }
}

void host_log(sdw_log_level level, const char *message) noexcept {
    try {
        const std::string_view text = message != nullptr ? message : "";
        PluginLogger logger;
        {
            std::lock_guard lock(logger_mutex());
            logger = current_logger();
        }
        if (logger) {
            logger(level, text);
        } else {
            write_to_stderr(level, text);
        }
    } catch (...) {
    }
}

}  // namespace

const sdw_host_api *host_api() noexcept {
    static const sdw_host_api table = {sizeof(sdw_host_api), SDW_ABI_VERSION_MAJOR,
                                       SDW_ABI_VERSION_MINOR, &host_error_set, &host_log};
    return &table;
}

void set_plugin_logger(PluginLogger logger) {
    std::lock_guard lock(logger_mutex());
    current_logger() = std::move(logger);
}

const char *log_level_name(sdw_log_level level) noexcept {
    switch (level) {
    case SDW_LOG_DEBUG: return "DEBUG";
    case SDW_LOG_INFO: return "INFO";
    case SDW_LOG_WARN: return "WARN";
    case SDW_LOG_ERROR: return "ERROR";
    case SDW_LOG_FORCE_32BIT: break;
    }
    return "LOG";
}

}  // namespace sdw
