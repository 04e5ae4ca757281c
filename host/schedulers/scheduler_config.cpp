#include "schedulers/scheduler_config.h"

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

namespace sdw::sched {

SchedulerConfig SchedulerConfig::resolve(const std::string& class_name, const nlohmann::json& defaults,
                                         const nlohmann::json& model_config,
                                         const nlohmann::json& kwargs) {
    if (!model_config.is_object())
        throw std::invalid_argument("scheduler config must be a JSON object");
    if (!kwargs.is_object())
        throw std::invalid_argument("scheduler options must be a JSON object");

    std::set<std::string> use_defaults;
    if (auto it = model_config.find("_use_default_values"); it != model_config.end() && it->is_array())
        for (const auto& k : *it)
            if (k.is_string()) use_defaults.insert(k.get<std::string>());

    SchedulerConfig cfg;
    cfg.class_name_ = class_name;
    cfg.values_ = defaults;
    for (const auto& [key, value] : model_config.items()) {
        if (key.empty() || key[0] == '_' || use_defaults.count(key)) continue;
        if (defaults.contains(key)) cfg.values_[key] = value;
    }
    for (const auto& [key, value] : kwargs.items()) {
        if (!defaults.contains(key))
            throw std::invalid_argument(class_name + " has no option \"" + key + "\"");
        cfg.values_[key] = value;
    }
    return cfg;
}

const nlohmann::json& SchedulerConfig::raw(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw std::logic_error(class_name_ + ": no config key " + key);
    return *it;
}

void SchedulerConfig::reject(const std::string& key, const std::string& why) const {
    throw std::invalid_argument(class_name_ + ": " + key + "=" + raw(key).dump() + " " + why);
}

void SchedulerConfig::require_false(const std::string& key, const std::string& why) const {
    if (flag(key)) reject(key, why);
}

double SchedulerConfig::number(const std::string& key) const {
    const nlohmann::json& v = raw(key);
    if (v.is_number()) return v.get<double>();
    // Python's json writes float('-inf') as -Infinity, which strict JSON readers turn into a
    // string at best; accept the spellings a config may carry.
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
        if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
    }
    reject(key, "must be a number");
}

std::optional<double> SchedulerConfig::optional_number(const std::string& key) const {
    if (raw(key).is_null()) return std::nullopt;
    return number(key);
}

int SchedulerConfig::integer(const std::string& key) const {
    const nlohmann::json& v = raw(key);
    if (v.is_number_integer()) return v.get<int>();
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d == std::floor(d) && std::abs(d) < 1e9) return static_cast<int>(d);
    }
    reject(key, "must be an integer");
}

bool SchedulerConfig::flag(const std::string& key) const {
    const nlohmann::json& v = raw(key);
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_null()) return false;  // diffusers' `bool | None = False` arguments
    reject(key, "must be true or false");
}

std::string SchedulerConfig::text(const std::string& key) const {
    const nlohmann::json& v = raw(key);
    if (v.is_string()) return v.get<std::string>();
    reject(key, "must be a string");
}

}  // namespace sdw::sched
