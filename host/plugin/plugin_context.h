// RAII over a plugin's sdw_context: one device with its queues and allocator.
//
// Threading follows the ABI: a context and the components loaded from it must
// not be called concurrently (the caller serializes, e.g. one worker per
// context); different contexts may run in parallel. device() and memory() are
// calls into the plugin too: a status page or heartbeat thread shows a copy the
// context's own thread made, never calls them itself.
#pragma once

#include "plugin/loaded_component.h"
#include "plugin/plugin_library.h"

#include <sdw/plugin_api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sdw {

// Bytes a context holds resident on its device (sdw_memory_report, ABI v1.1).
struct PluginMemoryReport {
    uint64_t weights_bytes = 0;
    uint64_t plans_bytes = 0;
    uint64_t cache_bytes = 0;
};

namespace detail {
// Owns the sdw_context and keeps the shared object loaded; shared by the context
// and its components so that it is destroyed after the last of them.
struct ContextHandle {
    std::shared_ptr<PluginLibrary> library;
    sdw_context *context = nullptr;
    ~ContextHandle();
};
}  // namespace detail

class PluginContext {
public:
    // `options_json`: the plugin's options object from the host config ("{}" if
    // none). Throws PluginCallError (the plugin refused the options).
    static PluginContext create(std::shared_ptr<PluginLibrary> library,
                                const std::string &options_json = "{}");

    // Loads a component. `kind`: "text_encoder", "unet", "vae_decoder",
    // "vae_encoder"; `config_json`: its config.json text; `weights`: named views
    // that must stay valid only until this returns. Throws PluginCallError.
    LoadedComponent load_component(std::string_view kind, std::string_view config_json,
                                   std::span<const sdw_tensor_view> weights);

    const PluginLibrary &library() const noexcept { return *handle_->library; }

    // The device this context runs on: the plugin's context_describe answer (v1.1),
    // or the plugin-wide describe() device when it has no context_describe or names
    // no device. Throws PluginCallError.
    std::string device();

    // What the context holds on its device now (context_memory, v1.1); nullopt when
    // the plugin has no context_memory (a v1.0 plugin) or answers UNSUPPORTED.
    // Throws PluginCallError for any other failure.
    std::optional<PluginMemoryReport> memory();

private:
    explicit PluginContext(std::shared_ptr<detail::ContextHandle> handle)
        : handle_(std::move(handle)) {}

    std::shared_ptr<detail::ContextHandle> handle_;
};

}  // namespace sdw
