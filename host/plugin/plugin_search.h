// Where the host looks for a plugin given by name ("cpu-blas") rather than by path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sdw {

// In order: each directory of $SDW_PLUGIN_PATH (colon-separated), <exe dir>/plugins,
// <exe dir>/../lib/sd-worker/plugins, the build tree's plugin directory, and the
// install prefix's lib/sd-worker/plugins. Directories that do not exist are kept:
// the not-found message lists what was searched.
std::vector<std::filesystem::path> default_plugin_search_dirs();

// True when `text` names a file (contains '/' or ends in ".so") rather than a plugin name.
bool looks_like_plugin_path(std::string_view text);

// The file names a plugin name may have: "cpu-blas" -> libcpu-blas.so, libsdw_cpu_blas.so.
std::vector<std::string> plugin_file_names(std::string_view name);

// A path is returned as given when it exists; a name is searched for in `search_dirs`.
// Throws PluginLoadError(not_found) naming the path, or the name, the file names
// tried and the directories searched.
std::filesystem::path resolve_plugin_path(std::string_view path_or_name,
                                          const std::vector<std::filesystem::path> &search_dirs);

}  // namespace sdw
