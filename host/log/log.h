// One-line, levelled log records on stderr:  2025-01-31T12:00:00.123Z [info] message
// Thread-safe; records below the configured level are dropped before formatting.
// The ground floor: the server, the queue, the heartbeat and the plugins' log lines
// (through the host API) all write here, so one level and one format apply to all.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sdw {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
// "debug", "info", "warn"/"warning", "error" (case-insensitive); nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view text);
void log_message(LogLevel level, std::string_view message);

inline void log_debug(std::string_view m) { log_message(LogLevel::debug, m); }
inline void log_info(std::string_view m) { log_message(LogLevel::info, m); }
inline void log_warn(std::string_view m) { log_message(LogLevel::warn, m); }
inline void log_error(std::string_view m) { log_message(LogLevel::error, m); }

}  // namespace sdw
