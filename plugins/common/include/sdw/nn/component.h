// A model component (text encoder, UNet, VAE decoder/encoder) defined once over
// sdw::nn::Ops. A plugin's component_load calls load_component with its own Ops;
// component_run calls Component::run. Errors are thrown as ComponentError and
// turned into an sdw_status at the plugin boundary.
#pragma once

#include <sdw/nn/ops.h>
#include <sdw/plugin_api.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace sdw::nn {

struct ComponentError : std::runtime_error {
    ComponentError(sdw_status s, const std::string &message)
        : std::runtime_error(message), status(s) {}
    sdw_status status;
};

struct RunOptions {
    int clip_skip = 0;                      // text_encoder: 0 or 1 = last layer
    std::function<bool()> should_cancel;    // may be empty; true -> throw SDW_STATUS_CANCELLED
};

class Component {
public:
    virtual ~Component() = default;
    // Reads the named inputs and fills the named, host-allocated outputs (see the
    // component table in sdw/plugin_api.h). Throws ComponentError.
    virtual void run(const sdw_tensor_view *inputs, size_t input_count,
                     sdw_tensor_view *outputs, size_t output_count,
                     const RunOptions &options) = 0;
};

// Builds the component `desc->kind` from its config.json text and weights; the
// weights are copied into `ops`'s storage before returning. `ops` must outlive the
// component. Throws ComponentError (INVALID_ARGUMENT for a missing or misshapen
// weight, naming it; UNSUPPORTED for an unknown kind or config feature).
std::unique_ptr<Component> load_component(Ops &ops, const sdw_component_desc &desc);

}  // namespace sdw::nn
