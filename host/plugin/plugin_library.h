// A loaded, initialised and described plugin shared object.
//
// Loading goes: resolve the path, dlopen(RTLD_NOW | RTLD_LOCAL), look up
// sdw_plugin_init, call sdw_plugin_probe when exported, call sdw_plugin_init,
// check the returned table (versions, size, required functions), call describe.
// A table whose struct_size ends at component_run (ABI v1.0) loads; the functions
// appended since (v1.1: context_describe, context_memory) are read only when
// struct_size covers them, and count as absent otherwise.
// Each refusal is a PluginLoadError with its own PluginLoadFailure and one line
// that ends with the file's path.
//
// A shared object is initialised once per process: loading the same file again
// while a PluginLibrary for it is alive returns that same object. The library is
// unloaded (dlclose) when the last PluginLibrary, PluginContext and
// LoadedComponent referring to it are gone.
#pragma once

#include "plugin/plugin_search.h"

#include <sdw/plugin_api.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sdw {

struct PluginInfo {
    std::string name;
    std::string version;
    std::string device;
    bool supports_f16 = false;
    uint32_t abi_major = 0;  // from the plugin's function table
    uint32_t abi_minor = 0;  // the minor the plugin requires of the host
    // The newest minor whose fields the table holds (its struct_size), at most this
    // host's: 1 for a table with context_describe and context_memory. A plugin may
    // carry the 1.1 functions yet require only 1.0 of its host.
    uint32_t table_minor = 0;

    // The ABI the plugin speaks, "major.minor": the larger of what it requires and
    // what its table holds ("1.0" for a v1.0 plugin, "1.1" for one with the 1.1 table).
    std::string abi_version() const;
};

class PluginLibrary {
public:
    // `path_or_name`: a path ("./libx.so", "/opt/x.so") or a name ("cpu-blas"),
    // see resolve_plugin_path. Throws PluginLoadError.
    static std::shared_ptr<PluginLibrary> load(
        std::string_view path_or_name,
        const std::vector<std::filesystem::path> &search_dirs = default_plugin_search_dirs());

    PluginLibrary(const PluginLibrary &) = delete;
    PluginLibrary &operator=(const PluginLibrary &) = delete;
    ~PluginLibrary();

    const std::filesystem::path &path() const noexcept { return path_; }
    const PluginInfo &info() const noexcept { return info_; }
    // The plugin's table; valid while this object lives. Prefer PluginContext.
    const sdw_plugin_api &api() const noexcept { return *api_; }
    // Whether the optional component_prepare is implemented.
    bool has_prepare() const noexcept { return api_->component_prepare != nullptr; }

    // The optional v1.1 functions; NULL when the plugin leaves them out or its table
    // is too short to hold them (never read past struct_size: api() may end earlier).
    using ContextDescribeFn = sdw_status (*)(sdw_context *, sdw_context_info *, sdw_error *);
    using ContextMemoryFn = sdw_status (*)(sdw_context *, sdw_memory_report *, sdw_error *);
    ContextDescribeFn context_describe_fn() const noexcept { return context_describe_; }
    ContextMemoryFn context_memory_fn() const noexcept { return context_memory_; }

private:
    PluginLibrary() = default;

    std::filesystem::path path_;
    void *handle_ = nullptr;
    const sdw_plugin_api *api_ = nullptr;
    ContextDescribeFn context_describe_ = nullptr;
    ContextMemoryFn context_memory_ = nullptr;
    PluginInfo info_;
};

}  // namespace sdw
