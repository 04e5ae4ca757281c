// RAII over a plugin's sdw_component: one model component resident on the
// plugin's device. Move-only; destroying it destroys the component before its
// context (which it keeps alive).
#pragma once

#include <sdw/plugin_api.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace sdw {

namespace detail {
struct ContextHandle;
}

class LoadedComponent {
public:
    LoadedComponent(LoadedComponent &&other) noexcept;
    LoadedComponent &operator=(LoadedComponent &&other) noexcept;
    LoadedComponent(const LoadedComponent &) = delete;
    LoadedComponent &operator=(const LoadedComponent &) = delete;
    ~LoadedComponent();

    const std::string &kind() const noexcept { return kind_; }

    // Announces the input shapes of the runs that follow (data may be NULL). A
    // no-op for plugins without component_prepare. Throws PluginCallError.
    void prepare(std::span<const sdw_tensor_view> inputs);

    // Runs the forward pass into the host-allocated `outputs`. `should_cancel`
    // and `progress` may be empty; they may be called from the plugin's threads
    // while this runs, and must not throw (an exception counts as "do not
    // cancel" / is ignored). Throws PluginCallError; cancelled() tells a stop the
    // host asked for.
    void run(std::span<const sdw_tensor_view> inputs, std::span<sdw_tensor_view> outputs,
             int32_t clip_skip = 0, const std::function<bool()> &should_cancel = {},
             const std::function<void(uint32_t done, uint32_t total)> &progress = {});

private:
    friend class PluginContext;
    LoadedComponent(std::shared_ptr<detail::ContextHandle> context, sdw_component *component,
                    std::string kind);
    void destroy() noexcept;

    std::shared_ptr<detail::ContextHandle> context_;
    sdw_component *component_ = nullptr;
    std::string kind_;
};

}  // namespace sdw
