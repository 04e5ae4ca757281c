#include "plugin/plugin_search.h"

#include "plugin/plugin_errors.h"

#include <cstdlib>
#include <system_error>

namespace sdw {
namespace {

std::filesystem::path executable_dir() {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : exe.parent_path();
}

std::string join(const std::vector<std::string> &parts) {
    std::string out;
    for (const std::string &part : parts) {
        if (!out.empty()) out += ", ";
        out += part;
    }
    return out;
}

}  // namespace

std::vector<std::filesystem::path> default_plugin_search_dirs() {
    std::vector<std::filesystem::path> dirs;
    if (const char *env = std::getenv("SDW_PLUGIN_PATH")) {
        std::string_view rest = env;
        while (!rest.empty()) {
            const size_t colon = rest.find(':');
            const std::string_view dir = rest.substr(0, colon);
            if (!dir.empty()) dirs.emplace_back(dir);
            rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        }
    }
    const std::filesystem::path exe_dir = executable_dir();
    if (!exe_dir.empty()) {
        dirs.push_back(exe_dir / "plugins");
        dirs.push_back((exe_dir / ".." / "lib" / "sd-worker" / "plugins").lexically_normal());
    }
    dirs.emplace_back(SDW_BUILD_PLUGIN_DIR);
    dirs.emplace_back(SDW_INSTALL_PLUGIN_DIR);
    return dirs;
}

bool looks_like_plugin_path(std::string_view text) {
    return text.find('/') != std::string_view::npos ||
           (text.size() >= 3 && text.substr(text.size() - 3) == ".so");
}

std::vector<std::string> plugin_file_names(std::string_view name) {
    std::string underscored(name);
    for (char &c : underscored) {
        if (c == '-') c = '_';
    }
    std::vector<std::string> names = {"lib" + std::string(name) + ".so"};
    if (underscored.rfind("sdw_", 0) != 0) names.push_back("libsdw_" + underscored + ".so");
    if (names.front() != "lib" + underscored + ".so") names.push_back("lib" + underscored + ".so");
    return names;
}

std::filesystem::path resolve_plugin_path(std::string_view path_or_name,
                                          const std::vector<std::filesystem::path> &search_dirs) {
    std::error_code ec;
    if (looks_like_plugin_path(path_or_name)) {
        const std::filesystem::path path(path_or_name);
        if (!std::filesystem::is_regular_file(path, ec)) {
            throw PluginLoadError(PluginLoadFailure::not_found,
                                  "plugin file not found: " + path.string());
        }
        return path;
    }
    const std::vector<std::string> names = plugin_file_names(path_or_name);
    std::vector<std::string> searched;
    for (const std::filesystem::path &dir : search_dirs) {
        for (const std::string &name : names) {
            const std::filesystem::path candidate = dir / name;
            if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
        }
        searched.push_back(dir.string());
    }
    throw PluginLoadError(PluginLoadFailure::not_found,
                          "plugin '" + std::string(path_or_name) + "' not found (looked for " +
                              join(names) + " in " +
                              (searched.empty() ? std::string("no directories") : join(searched)) +
                              ")");
}

}  // namespace sdw
