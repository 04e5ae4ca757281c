// diffusers' ConfigMixin.from_config for schedulers: which keys of a model's
// scheduler_config.json reach the target class, and with what precedence.
//
// Mirrors configuration_utils.ConfigMixin.extract_init_dict: a key listed in the config's
// "_use_default_values" is dropped; every other key that the target class's __init__ accepts is
// carried over (whatever class wrote the file); private "_" keys and keys the class does not
// accept are ignored; keyword arguments override the config; anything left keeps the class's
// default. Keyword arguments the class does not accept are refused here (diffusers would only
// warn), because they come from a request that asked for something that cannot happen.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sdw::sched {

class SchedulerConfig {
public:
    // `defaults` is an object of every __init__ argument of `class_name` with its default.
    static SchedulerConfig resolve(const std::string& class_name, const nlohmann::json& defaults,
                                   const nlohmann::json& model_config, const nlohmann::json& kwargs);

    const std::string& class_name() const { return class_name_; }
    const nlohmann::json& values() const { return values_; }

    // Typed access; a value of the wrong type is std::invalid_argument naming the key.
    double number(const std::string& key) const;
    std::optional<double> optional_number(const std::string& key) const;  // null -> nullopt
    int integer(const std::string& key) const;
    bool flag(const std::string& key) const;
    std::string text(const std::string& key) const;
    const nlohmann::json& raw(const std::string& key) const;

    // std::invalid_argument("<class>: <key>=<value> is not supported: <why>") helpers.
    [[noreturn]] void reject(const std::string& key, const std::string& why) const;
    // Refuses `key` when it is true (used for diffusers features not implemented here).
    void require_false(const std::string& key, const std::string& why) const;

private:
    std::string class_name_;
    nlohmann::json values_;
};

}  // namespace sdw::sched
