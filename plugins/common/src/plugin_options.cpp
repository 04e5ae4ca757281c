#include <sdw/nn/component.h>
#include <sdw/nn/plugin_options.h>

#include <algorithm>

namespace sdw::nn {

PluginOptions::PluginOptions(const std::string &options_json, std::string plugin) : plugin_(std::move(plugin)) {
    try {
        options_ = nlohmann::json::parse(options_json.empty() ? std::string("{}") : options_json);
    } catch (const nlohmann::json::exception &e) {
        fail("options are not valid JSON: " + std::string(e.what()));
    }
    if (options_.is_null()) options_ = nlohmann::json::object();
    if (!options_.is_object()) fail("options must be a JSON object");
}

void PluginOptions::fail(const std::string &message) const {
    throw Error(SDW_STATUS_INVALID_ARGUMENT, plugin_ + " " + message);
}

const nlohmann::json *PluginOptions::lookup(const std::string &key) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
    auto it = options_.find(key);
    return it == options_.end() ? nullptr : &*it;
}

bool PluginOptions::has(const std::string &key) const { return options_.contains(key); }

int PluginOptions::integer(const std::string &key, int lo, int hi, int fallback, const std::string &hint) {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    if (!value->is_number_integer() || value->get<int64_t>() < lo || value->get<int64_t>() > hi)
        fail("option '" + key + "' must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]" +
             (hint.empty() ? "" : " (" + hint + ")") + ", got " + value->dump());
    return value->get<int>();
}

bool PluginOptions::flag(const std::string &key, bool fallback) {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail("option '" + key + "' must be true or false, got " + value->dump());
    return value->get<bool>();
}

std::string PluginOptions::choice(const std::string &key, const std::vector<std::string> &allowed,
                                  const std::string &fallback) {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    std::string list;
    for (const std::string &a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
    if (!value->is_string() || std::find(allowed.begin(), allowed.end(), value->get<std::string>()) == allowed.end())
        fail("option '" + key + "' must be one of " + list + ", got " + value->dump());
    return value->get<std::string>();
}

std::string PluginOptions::text(const std::string &key, const std::string &fallback) {
    const nlohmann::json *value = lookup(key);
    if (value == nullptr) return fallback;
    if (!value->is_string()) fail("option '" + key + "' must be a string, got " + value->dump());
    return value->get<std::string>();
}

void PluginOptions::finish() const {
    std::string list;
    for (const std::string &k : known_) list += (list.empty() ? "" : ", ") + k;
    for (const auto &[key, value] : options_.items())
        if (std::find(known_.begin(), known_.end(), key) == known_.end())
            fail("has no option '" + key + "' (known: " + (list.empty() ? "none" : list) + ")");
}

}  // namespace sdw::nn
