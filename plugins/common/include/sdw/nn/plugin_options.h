// A plugin's JSON `options` object, read key by key: each read names the key in its
// refusal, and finish() refuses any key that no read asked for ("unknown cpu-blas
// option 'bogus' (known: threads)"). Errors are INVALID_ARGUMENT, at context_create.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sdw::nn {

class PluginOptions {
public:
    // `options_json` is the host's text ("{}" or null for none); `plugin` names the
    // plugin in messages.
    PluginOptions(const std::string &options_json, std::string plugin);

    bool has(const std::string &key) const;
    // An integer in [lo, hi], or `fallback` when absent.
    int integer(const std::string &key, int lo, int hi, int fallback, const std::string &hint = {});
    bool flag(const std::string &key, bool fallback);
    // One of `allowed`, or `fallback` when absent.
    std::string choice(const std::string &key, const std::vector<std::string> &allowed, const std::string &fallback);
    // Any string, or `fallback` when absent.
    std::string text(const std::string &key, const std::string &fallback);
    // Refuses every key not read so far.
    void finish() const;

    const std::string &plugin() const { return plugin_; }
    [[noreturn]] void fail(const std::string &message) const;

private:
    const nlohmann::json *lookup(const std::string &key);

    nlohmann::json options_;
    std::string plugin_;
    std::vector<std::string> known_;
};

}  // namespace sdw::nn
