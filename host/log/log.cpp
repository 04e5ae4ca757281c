#include "log/log.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace sdw {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_write_mutex;

const char *level_name(LogLevel level) {
    switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    }
    return "?";
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }

std::optional<LogLevel> parse_log_level(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "debug" || lower == "trace") return LogLevel::debug;
    if (lower == "info") return LogLevel::info;
    if (lower == "warn" || lower == "warning") return LogLevel::warn;
    if (lower == "error") return LogLevel::error;
    return std::nullopt;
}

void log_message(LogLevel level, std::string_view message) {
    if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
    auto now = std::chrono::system_clock::now();
    std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                      now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::lock_guard lock(g_write_mutex);
    std::fprintf(stderr, "%s.%03dZ [%s] %.*s\n", stamp, static_cast<int>(millis),
                 level_name(level), static_cast<int>(message.size()), message.data());
}

}  // namespace sdw
