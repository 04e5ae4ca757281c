// RAII over a plugin's sdw_context: one device with its queues and allocator.
//
// Threading follows the ABI: a context and the components loaded from it must
// not be called concurrently (the caller serializes, e.g. one worker per
// context); different contexts may run in parallel.
#pragma once

#include "plugin/loaded_component.h"
#include "plugin/plugin_library.h"

#include <sdw/plugin_api.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace sdw {

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

private:
    explicit PluginContext(std::shared_ptr<detail::ContextHandle> handle)
        : handle_(std::move(handle)) {}

    std::shared_ptr<detail::ContextHandle> handle_;
};

}  // namespace sdw
