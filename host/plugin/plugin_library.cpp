#include "plugin/plugin_library.h"

#include "plugin/host_api.h"
#include "plugin/host_error.h"
#include "plugin/plugin_errors.h"

#include <sdw/plugin_api.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>

namespace sdw {
namespace {

// The size of the v1.0 table: every field up to component_run.
constexpr size_t kMinTableSize = offsetof(sdw_plugin_api, component_run) +
                                 sizeof(sdw_plugin_api::component_run);
// struct_size, abi_major, abi_minor: readable whatever the table's version.
constexpr size_t kVersionFieldsSize = offsetof(sdw_plugin_api, abi_minor) + sizeof(uint32_t);
// The size of the v1.1 table: up to context_memory.
constexpr size_t kTableSizeV1_1 = offsetof(sdw_plugin_api, context_memory) +
                                  sizeof(sdw_plugin_api::context_memory);

// Whether the table's struct_size covers `field` (offset and size), so it may be read.
constexpr bool table_holds(const sdw_plugin_api &api, size_t offset, size_t size) {
    return api.struct_size >= offset + size;
}

std::string abi_version(uint32_t major, uint32_t minor) {
    return sdw::plugin::version_string(major, minor);
}

// Closes the handle unless released; keeps the failure paths of load() simple.
struct DlHandle {
    void *handle = nullptr;
    ~DlHandle() {
        if (handle != nullptr) dlclose(handle);
    }
    void *release() { return std::exchange(handle, nullptr); }
};

[[noreturn]] void refuse(PluginLoadFailure failure, const std::string &reason,
                         const std::filesystem::path &path) {
    throw PluginLoadError(failure, reason + ": " + path.string());
}

// A failed call during loading: the plugin's message, or a plugin bug without one.
[[noreturn]] void refuse_call(PluginLoadFailure failure, const std::string &what,
                              const char *function, sdw_status status, const sdw_error &err,
                              const std::filesystem::path &path) {
    const std::string message = err.take();
    if (message.empty()) {
        refuse(PluginLoadFailure::plugin_bug,
               std::string("plugin bug: ") + function + " returned " + plugin_status_name(status) +
                   " without a message",
               path);
    }
    refuse(failure, what + " (" + plugin_status_name(status) + "): " + message, path);
}

void check_table(const sdw_plugin_api &api, const std::filesystem::path &path) {
    const uint32_t host_major = SDW_ABI_VERSION_MAJOR, host_minor = SDW_ABI_VERSION_MINOR;
    if (api.struct_size < kVersionFieldsSize) {
        refuse(PluginLoadFailure::table_too_small,
               "plugin function table too small (struct_size " + std::to_string(api.struct_size) +
                   ", cannot even hold the version fields)",
               path);
    }
    if (api.abi_major != host_major) {
        refuse(PluginLoadFailure::abi_major_mismatch,
               "built for plugin ABI " + abi_version(api.abi_major, api.abi_minor) +
                   ", this host loads v" + std::to_string(host_major) + ".x",
               path);
    }
    if (api.abi_minor > host_minor) {
        refuse(PluginLoadFailure::abi_minor_too_new,
               "built for plugin ABI " + abi_version(api.abi_major, api.abi_minor) +
                   ", this host loads up to " + abi_version(host_major, host_minor),
               path);
    }
    if (api.struct_size < kMinTableSize) {
        refuse(PluginLoadFailure::table_too_small,
               "plugin function table too small (struct_size " + std::to_string(api.struct_size) +
                   ", ABI v" + std::to_string(host_major) + ".0 needs at least " +
                   std::to_string(kMinTableSize) + ")",
               path);
    }
    std::string missing;
    auto require = [&](const void *fn, const char *name) {
        if (fn != nullptr) return;
        if (!missing.empty()) missing += ", ";
        missing += name;
    };
    require(reinterpret_cast<const void *>(api.describe), "describe");
    require(reinterpret_cast<const void *>(api.context_create), "context_create");
    require(reinterpret_cast<const void *>(api.context_destroy), "context_destroy");
    require(reinterpret_cast<const void *>(api.component_load), "component_load");
    require(reinterpret_cast<const void *>(api.component_destroy), "component_destroy");
    require(reinterpret_cast<const void *>(api.component_run), "component_run");
    if (!missing.empty()) {
        refuse(PluginLoadFailure::function_missing,
               "plugin function table lacks required function(s) " + missing, path);
    }
}

std::string text_or_empty(const char *text) { return text != nullptr ? text : ""; }

// The newest minor whose table fields `api` holds, by its struct_size.
uint32_t table_minor(const sdw_plugin_api &api) {
    return api.struct_size >= kTableSizeV1_1 ? 1u : 0u;
}

// Loaded libraries by canonical path, so sdw_plugin_init runs once per object.
std::mutex &registry_mutex() {
    static std::mutex mutex;
    return mutex;
}
std::map<std::filesystem::path, std::weak_ptr<PluginLibrary>> &registry() {
    static std::map<std::filesystem::path, std::weak_ptr<PluginLibrary>> loaded;
    return loaded;
}

}  // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::load(
    std::string_view path_or_name, const std::vector<std::filesystem::path> &search_dirs) {
    const std::filesystem::path path = resolve_plugin_path(path_or_name, search_dirs);
    std::error_code ec;
    std::filesystem::path key = std::filesystem::canonical(path, ec);
    if (ec) key = std::filesystem::absolute(path);

    std::lock_guard lock(registry_mutex());
    if (auto existing = registry()[key].lock()) return existing;

    DlHandle dl;
    dlerror();
    dl.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (dl.handle == nullptr) {
        const char *why = dlerror();
        refuse(PluginLoadFailure::not_loadable,
               "not a loadable shared object (" + text_or_empty(why) + ")", path);
    }

    auto init = reinterpret_cast<sdw_plugin_init_fn>(dlsym(dl.handle, SDW_PLUGIN_INIT_SYMBOL));
    if (init == nullptr) {
        refuse(PluginLoadFailure::no_entry_symbol,
               "missing entry symbol " SDW_PLUGIN_INIT_SYMBOL " (not an sd-worker plugin?)", path);
    }

    if (auto probe =
            reinterpret_cast<sdw_plugin_probe_fn>(dlsym(dl.handle, SDW_PLUGIN_PROBE_SYMBOL))) {
        sdw_error err;
        const sdw_status status = probe(host_api(), &err);
        if (status != SDW_STATUS_OK) {
            refuse_call(PluginLoadFailure::probe_refused, "plugin unusable here",
                        SDW_PLUGIN_PROBE_SYMBOL, status, err, path);
        }
    }

    const sdw_plugin_api *api = nullptr;
    {
        sdw_error err;
        const sdw_status status = init(host_api(), &api, &err);
        if (status != SDW_STATUS_OK) {
            refuse_call(PluginLoadFailure::init_failed,
                        status == SDW_STATUS_VERSION_MISMATCH ? "plugin refused this host"
                                                              : "plugin init failed",
                        SDW_PLUGIN_INIT_SYMBOL, status, err, path);
        }
    }
    if (api == nullptr) {
        refuse(PluginLoadFailure::plugin_bug,
               "plugin bug: " SDW_PLUGIN_INIT_SYMBOL " returned OK without a function table", path);
    }
    check_table(*api, path);

    sdw_plugin_info raw{};
    raw.struct_size = sizeof(raw);
    {
        sdw_error err;
        const sdw_status status = api->describe(&raw, &err);
        if (status != SDW_STATUS_OK) {
            refuse_call(PluginLoadFailure::describe_failed, "plugin describe failed", "describe",
                        status, err, path);
        }
    }
    if (raw.name == nullptr || raw.name[0] == '\0') {
        refuse(PluginLoadFailure::plugin_bug, "plugin bug: describe gave no name", path);
    }

    std::shared_ptr<PluginLibrary> library(new PluginLibrary());
    library->path_ = path;
    library->api_ = api;
    library->info_ = {text_or_empty(raw.name),    text_or_empty(raw.version),
                      text_or_empty(raw.device),  raw.supports_f16 != 0,
                      api->abi_major,             api->abi_minor,
                      table_minor(*api)};
    // v1.1's optional functions, only where the table is long enough to hold them.
    if (table_holds(*api, offsetof(sdw_plugin_api, context_describe),
                    sizeof(sdw_plugin_api::context_describe)))
        library->context_describe_ = api->context_describe;
    if (table_holds(*api, offsetof(sdw_plugin_api, context_memory),
                    sizeof(sdw_plugin_api::context_memory)))
        library->context_memory_ = api->context_memory;
    library->handle_ = dl.release();
    registry()[key] = library;
    return library;
}

std::string PluginInfo::abi_version() const {
    std::string text = std::to_string(abi_major);
    text += '.';
    text += std::to_string(std::max(abi_minor, table_minor));
    return text;
}

PluginLibrary::~PluginLibrary() {
    if (handle_ != nullptr) dlclose(handle_);
}

}  // namespace sdw
