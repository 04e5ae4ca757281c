#include "config_reader.h"

#include <sdw/nn/component.h>

namespace sdw::nn {

ConfigReader::ConfigReader(const char *config_json, std::string component)
    : component_(std::move(component)) {
    if (config_json == nullptr) fail_invalid("config_json is NULL");
    json_ = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
    if (!json_.is_object()) fail_invalid("config.json is not a JSON object");
}

void ConfigReader::fail_invalid(const std::string &message) const {
    throw Error(SDW_STATUS_INVALID_ARGUMENT, component_ + " config: " + message);
}

void ConfigReader::fail_unsupported(const std::string &message) const {
    throw Error(SDW_STATUS_UNSUPPORTED, component_ + " config: " + message);
}

const nlohmann::json *ConfigReader::lookup(const std::string &key) const {
    auto it = json_.find(key);
    if (it == json_.end() || it->is_null()) return nullptr;
    return &*it;
}

bool ConfigReader::is_set(const std::string &key) const { return lookup(key) != nullptr; }

int ConfigReader::get_int(const std::string &key, int fallback) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    if (!value->is_number_integer()) fail_invalid(key + " must be an integer");
    return value->get<int>();
}

int ConfigReader::require_int(const std::string &key) const {
    if (!is_set(key)) fail_invalid("missing " + key);
    return get_int(key, 0);
}

double ConfigReader::get_float(const std::string &key, double fallback) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    if (!value->is_number()) fail_invalid(key + " must be a number");
    return value->get<double>();
}

bool ConfigReader::get_bool(const std::string &key, bool fallback) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail_invalid(key + " must be true or false");
    return value->get<bool>();
}

std::string ConfigReader::get_string(const std::string &key, const std::string &fallback) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    if (!value->is_string()) fail_invalid(key + " must be a string");
    return value->get<std::string>();
}

std::vector<std::string> ConfigReader::require_strings(const std::string &key) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr || !value->is_array() || value->empty())
        fail_invalid(key + " must be a non-empty list of strings");
    std::vector<std::string> out;
    for (const auto &item : *value) {
        if (!item.is_string()) fail_invalid(key + " must be a non-empty list of strings");
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::vector<int> ConfigReader::require_ints(const std::string &key) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr || !value->is_array() || value->empty())
        fail_invalid(key + " must be a non-empty list of integers");
    std::vector<int> out;
    for (const auto &item : *value) {
        if (!item.is_number_integer()) {
            if (item.is_array()) fail_unsupported(key + " with nested lists is not supported");
            fail_invalid(key + " must be a non-empty list of integers");
        }
        out.push_back(item.get<int>());
    }
    return out;
}

std::vector<int> ConfigReader::int_or_list(const std::string &key, size_t count,
                                           int fallback) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return std::vector<int>(count, fallback);
    if (value->is_number_integer()) return std::vector<int>(count, value->get<int>());
    std::vector<int> out = require_ints(key);
    if (out.size() != count)
        fail_invalid(key + " has " + std::to_string(out.size()) + " entries, expected " +
                     std::to_string(count));
    return out;
}

void ConfigReader::require_default(const std::string &key, const nlohmann::json &expected) const {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr || *value == expected) return;
    fail_unsupported(key + " = " + value->dump() + " is not supported (only " +
                     (expected.is_null() ? std::string("null") : expected.dump()) + ")");
}

}  // namespace sdw::nn
