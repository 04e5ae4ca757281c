// The backend plugins the golden tests run through, as CMake lists them
// (SDW_GOLDEN_PLUGINS in tests/CMakeLists.txt), and every golden case on each of them.
#pragma once

#include "golden_cases.h"

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace sdw::testing {

struct GoldenPlugin {
    std::string name;          // "cpu-blas": plugin.name in a config
    std::string file;          // the built shared object
    std::string options_json;  // the options its context is created with
};

// The plugins of SDW_GOLDEN_PLUGINS_FILE, in its order; throws if it cannot be read.
std::vector<GoldenPlugin> golden_plugins();

// One golden case on one plugin, as a test parameter.
struct GoldenRun {
    GoldenPlugin plugin;
    GoldenCaseId id;
};

// Every golden case on every plugin, one plugin's cases after another.
std::vector<GoldenRun> all_golden_runs();
// The plugin's name with '_' for each non-alphanumeric character, for test names.
std::string golden_plugin_test_name(const GoldenPlugin &plugin);
// "<plugin>__<model>_<case>", the plugin part as golden_plugin_test_name.
std::string golden_run_test_name(const GoldenRun &run);
void PrintTo(const GoldenRun &run, std::ostream *os);

// One T per model (a Generator, a worker process), shared by that model's cases on one
// plugin. The runs come one plugin after another, so asking for another plugin drops the
// previous one's first: never more alive than a single plugin needs.
template <class T>
class PerPluginCache {
public:
    // The T of `model` on `plugin`, made by make(plugin, model) the first time.
    template <class Make>
    T &get(const GoldenPlugin &plugin, const std::string &model, Make make) {
        const std::string key = plugin.name + " " + plugin.file + " " + plugin.options_json;
        if (key != plugin_key_) {
            items_.clear();
            plugin_key_ = key;
        }
        std::unique_ptr<T> &slot = items_[model];
        if (!slot) slot = make(plugin, model);
        return *slot;
    }

private:
    std::string plugin_key_;
    std::map<std::string, std::unique_ptr<T>> items_;
};

}  // namespace sdw::testing
