// Typed access to a component's config.json with errors that name the component and
// the key: INVALID_ARGUMENT for a malformed value, UNSUPPORTED for a valid setting
// this implementation does not have.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sdw::nn {

class ConfigReader {
public:
    ConfigReader(const char *config_json, std::string component);

    bool is_set(const std::string &key) const;  // present and not null
    int get_int(const std::string &key, int fallback) const;
    int require_int(const std::string &key) const;
    double get_float(const std::string &key, double fallback) const;
    bool get_bool(const std::string &key, bool fallback) const;
    std::string get_string(const std::string &key, const std::string &fallback) const;
    std::vector<std::string> require_strings(const std::string &key) const;
    std::vector<int> require_ints(const std::string &key) const;
    // An int repeated `count` times, or a list of exactly `count` ints.
    std::vector<int> int_or_list(const std::string &key, size_t count, int fallback) const;

    // Throws UNSUPPORTED unless the key is absent, null, or equals `expected`.
    void require_default(const std::string &key, const nlohmann::json &expected) const;
    [[noreturn]] void fail_invalid(const std::string &message) const;
    [[noreturn]] void fail_unsupported(const std::string &message) const;

private:
    const nlohmann::json *lookup(const std::string &key) const;

    nlohmann::json json_;
    std::string component_;
};

}  // namespace sdw::nn
