#include "plugin/host_api.h"

#include "plugin/host_error.h"

#include "log/log.h"

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

// The worker's own log: the configured level filters plugin lines as it does the host's.
void write_to_worker_log(sdw_log_level level, std::string_view message) {
    const LogLevel host_level = level == SDW_LOG_DEBUG  ? LogLevel::debug
                                : level == SDW_LOG_INFO ? LogLevel::info
                                : level == SDW_LOG_WARN ? LogLevel::warn
                                                        : LogLevel::error;
    if (static_cast<int>(host_level) < static_cast<int>(log_level())) return;
    log_message(host_level, "plugin: " + std::string(message));
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
            write_to_worker_log(level, text);
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
