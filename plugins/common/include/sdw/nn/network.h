// A model component as a network: what it is (weights, the tensors it reads and
// writes for a given shape set) apart from how it runs (Ops, and the Plan a backend
// makes of its forward). PlannedComponent (sdw/nn/component.h) turns a Network and an
// Ops into an ABI component.
#pragma once

#include <sdw/nn/ops.h>
#include <sdw/plugin_api.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sdw::nn {

// One device tensor a forward reads or writes.
struct TensorSpec {
    std::string name;
    DType dtype = DType::F32;
    Shape shape;
};

// One shape set of a network: its forward's device inputs and outputs, and the run
// parameters that change its graph. Equal keys share a plan.
struct Signature {
    std::vector<TensorSpec> inputs;   // in the order forward() receives them
    std::vector<TensorSpec> outputs;  // in the order forward() returns them; ABI names, F32
    int clip_skip = 0;                // text_encoder: the layer hidden_state comes from

    std::string key() const;
};

// The ABI side of one run, or of a prepare call (data may then be NULL and no outputs
// are named: the network's default outputs are planned).
struct IoRequest {
    std::string component;                    // prefixes every error message
    std::span<const sdw_tensor_view> inputs;
    std::vector<std::string> outputs;         // the outputs asked for
    int clip_skip = 0;

    const sdw_tensor_view *find(std::string_view name) const;
    // Throws INVALID_ARGUMENT "unet: missing input sample".
    const sdw_tensor_view &require(std::string_view name) const;
    bool wants(std::string_view output) const;
    // The shape of an F32 input of rank `rank`, refused by name otherwise.
    Shape f32_shape(std::string_view name, size_t rank) const;
    [[noreturn]] void fail(const std::string &message) const;  // INVALID_ARGUMENT
};

Shape view_shape(const sdw_tensor_view &view);

// Host bytes of each device input of a signature, in signature order.
using StagedInputs = std::vector<std::vector<std::byte>>;

// The bytes of an F32 or I32 view, as they are.
std::vector<std::byte> copy_bytes(const sdw_tensor_view &view);
template <typename T>
std::vector<std::byte> as_bytes(const std::vector<T> &values) {
    const auto *begin = reinterpret_cast<const std::byte *>(values.data());
    return std::vector<std::byte>(begin, begin + values.size() * sizeof(T));
}

class Network {
public:
    virtual ~Network() = default;

    virtual const char *kind() const = 0;
    virtual std::vector<std::string> input_names() const = 0;
    virtual std::vector<std::string> output_names() const = 0;
    // What a prepare call plans, since it names no outputs.
    virtual std::vector<std::string> default_outputs() const = 0;

    // Checks the request's shapes and dtypes against the config (INVALID_ARGUMENT
    // naming the tensor) and returns its signature. Reads no tensor data.
    virtual Signature bind(const IoRequest &request) const = 0;
    // The host bytes of every device input of `signature` from the request's data:
    // converted, broadcast or derived (CLIP's EOS rows from input_ids), and checked
    // where values matter (token ids inside the vocabulary).
    virtual StagedInputs stage(const IoRequest &request, const Signature &signature) const = 0;
    // Device ops only, from `inputs` (made for signature.inputs) to signature.outputs.
    virtual std::vector<Tensor> forward(Ops &ops, const Signature &signature,
                                        const std::vector<Tensor> &inputs,
                                        SegmentBoundary &segments) const = 0;
};

// Builds the network desc.kind ("text_encoder", "unet", "vae_decoder", "vae_encoder")
// from its config.json text and weights, which are copied into `ops` before returning;
// `ops` must outlive it. Throws sdw::plugin::Error: INVALID_ARGUMENT for a missing or
// misshapen weight (naming it), UNSUPPORTED for an unknown kind or config feature.
std::unique_ptr<Network> load_network(Ops &ops, const sdw_component_desc &desc);

}  // namespace sdw::nn
