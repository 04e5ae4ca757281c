// Reads typed values out of a parsed config file, with errors that name the file and key.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sdw {

// Reads and parses a JSON file that must hold an object. Throws std::runtime_error naming the
// path when it is missing, unreadable, not JSON or not an object. `text` receives the raw text.
nlohmann::json read_json_object(const std::filesystem::path& path, std::string* text = nullptr);

// Typed access to one config object; every error message is "<path>: <key>: <reason>".
class ConfigReader {
public:
    ConfigReader(const nlohmann::json& config, std::filesystem::path path)
        : config_(config), path_(std::move(path)) {}

    bool has(const std::string& key) const;  // present and not null
    int64_t required_int(const std::string& key) const;
    double required_number(const std::string& key) const;
    std::vector<int64_t> required_int_list(const std::string& key) const;
    // Absent or null: `fallback` (diffusers' constructor default for that key).
    int64_t optional_int(const std::string& key, int64_t fallback) const;
    double optional_number(const std::string& key, double fallback) const;
    bool optional_bool(const std::string& key, bool fallback) const;
    std::optional<int64_t> optional_int(const std::string& key) const;
    std::optional<double> optional_number(const std::string& key) const;
    std::optional<std::string> optional_string(const std::string& key) const;
    // An int, or a list of ints that must all be equal (diffusers accepts both spellings).
    int64_t required_uniform_int(const std::string& key) const;
    // An int, or a list of ints (returned as given; a single int becomes a one-element list).
    std::vector<int64_t> int_or_list(const std::string& key, int64_t fallback) const;

    [[noreturn]] void fail(const std::string& key, const std::string& reason) const;
    const std::filesystem::path& path() const { return path_; }

private:
    const nlohmann::json& value(const std::string& key) const;  // throws when absent
    int64_t as_int(const std::string& key, const nlohmann::json& value) const;

    const nlohmann::json& config_;
    std::filesystem::path path_;
};

}  // namespace sdw
