#include "golden_plugins.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <stdexcept>

namespace sdw::testing {

std::vector<GoldenPlugin> golden_plugins() {
    std::ifstream in(SDW_GOLDEN_PLUGINS_FILE);
    if (!in) throw std::runtime_error("cannot read " + std::string(SDW_GOLDEN_PLUGINS_FILE));
    std::vector<GoldenPlugin> plugins;
    for (const nlohmann::json &p : nlohmann::json::parse(in))
        plugins.push_back({p.at("name").get<std::string>(), p.at("file").get<std::string>(),
                           p.at("options").dump()});
    return plugins;
}

std::vector<GoldenRun> all_golden_runs() {
    const std::vector<GoldenCaseId> cases = all_golden_case_ids();
    std::vector<GoldenRun> runs;
    for (const GoldenPlugin &plugin : golden_plugins())
        for (const GoldenCaseId &id : cases) runs.push_back({plugin, id});
    return runs;
}

std::string golden_plugin_test_name(const GoldenPlugin &plugin) {
    std::string name = plugin.name;
    for (char &ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return name;
}

std::string golden_run_test_name(const GoldenRun &run) {
    return golden_plugin_test_name(run.plugin) + "__" + golden_case_test_name(run.id);
}

void PrintTo(const GoldenRun &run, std::ostream *os) {
    *os << run.plugin.name << " " << run.plugin.options_json << ": ";
    PrintTo(run.id, os);
}

}  // namespace sdw::testing
