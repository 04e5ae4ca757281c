#include "model/config_reader.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sdw {

nlohmann::json read_json_object(const std::filesystem::path& path, std::string* text) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error))
        throw std::runtime_error(path.string() + ": file not found");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path.string() + ": cannot open");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string content = buffer.str();
    nlohmann::json parsed = nlohmann::json::parse(content, nullptr, false);
    if (parsed.is_discarded()) throw std::runtime_error(path.string() + ": not valid JSON");
    if (!parsed.is_object()) throw std::runtime_error(path.string() + ": not a JSON object");
    if (text != nullptr) *text = std::move(content);
    return parsed;
}

void ConfigReader::fail(const std::string& key, const std::string& reason) const {
    throw std::runtime_error(path_.string() + ": " + key + ": " + reason);
}

bool ConfigReader::has(const std::string& key) const {
    const auto it = config_.find(key);
    return it != config_.end() && !it->is_null();
}

const nlohmann::json& ConfigReader::value(const std::string& key) const {
    const auto it = config_.find(key);
    if (it == config_.end() || it->is_null()) fail(key, "missing");
    return *it;
}

int64_t ConfigReader::as_int(const std::string& key, const nlohmann::json& v) const {
    if (v.is_number_integer()) return v.get<int64_t>();
    // Some configs are written by tools that emit integral floats (e.g. 4.0).
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::floor(d) == d && std::abs(d) < 9.0e15) return static_cast<int64_t>(d);
    }
    fail(key, "expected an integer, got " + v.dump());
}

int64_t ConfigReader::required_int(const std::string& key) const { return as_int(key, value(key)); }

double ConfigReader::required_number(const std::string& key) const {
    const nlohmann::json& v = value(key);
    if (!v.is_number()) fail(key, "expected a number, got " + v.dump());
    return v.get<double>();
}

std::vector<int64_t> ConfigReader::required_int_list(const std::string& key) const {
    const nlohmann::json& v = value(key);
    if (!v.is_array() || v.empty()) fail(key, "expected a non-empty list of integers");
    std::vector<int64_t> out;
    for (const auto& element : v) out.push_back(as_int(key, element));
    return out;
}

int64_t ConfigReader::optional_int(const std::string& key, int64_t fallback) const {
    return has(key) ? required_int(key) : fallback;
}

double ConfigReader::optional_number(const std::string& key, double fallback) const {
    return has(key) ? required_number(key) : fallback;
}

bool ConfigReader::optional_bool(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const nlohmann::json& v = value(key);
    if (!v.is_boolean()) fail(key, "expected true or false, got " + v.dump());
    return v.get<bool>();
}

std::optional<int64_t> ConfigReader::optional_int(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return required_int(key);
}

std::optional<double> ConfigReader::optional_number(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return required_number(key);
}

std::optional<std::string> ConfigReader::optional_string(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const nlohmann::json& v = value(key);
    if (!v.is_string()) fail(key, "expected a string, got " + v.dump());
    return v.get<std::string>();
}

int64_t ConfigReader::required_uniform_int(const std::string& key) const {
    const nlohmann::json& v = value(key);
    if (!v.is_array()) return as_int(key, v);
    const std::vector<int64_t> list = required_int_list(key);
    for (int64_t element : list)
        if (element != list.front()) fail(key, "different values per block are not supported");
    return list.front();
}

std::vector<int64_t> ConfigReader::int_or_list(const std::string& key, int64_t fallback) const {
    if (!has(key)) return {fallback};
    const nlohmann::json& v = value(key);
    if (v.is_array()) return required_int_list(key);
    return {as_int(key, v)};
}

}  // namespace sdw
