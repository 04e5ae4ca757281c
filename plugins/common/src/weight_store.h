// Name lookup of one component's weights with shape checks at load time, so a wrong or
// truncated checkpoint is refused with the tensor's name instead of computing garbage.
#pragma once

#include <sdw/nn/ops.h>
#include <sdw/plugin_api.h>

#include <string>
#include <unordered_map>

namespace sdw::nn {

class WeightStore {
public:
    // `component` prefixes every error message ("unet: missing weight ..."); weights
    // are made for ops computing in `compute` (Ops::weight). The host hands CLIP
    // weights without the "text_model." prefix already.
    WeightStore(Ops &ops, const sdw_component_desc &desc, std::string component, DType compute);

    bool has(const std::string &name) const;
    // The weight converted by ops.weight(); throws Error(INVALID_ARGUMENT)
    // when absent, of another shape, or not a float dtype.
    Tensor take(const std::string &name, const Shape &expected) const;
    // Undefined Tensor when absent; checked like take() when present.
    Tensor take_optional(const std::string &name, const Shape &expected) const;
    // Shape of a present weight (for sizes the config does not state); throws when absent.
    Shape shape_of(const std::string &name) const;

    Ops &ops() const { return ops_; }
    const std::string &component() const { return component_; }

private:
    const sdw_tensor_view &find_or_throw(const std::string &name, const Shape &expected) const;

    Ops &ops_;
    std::string component_;
    DType compute_;
    std::unordered_map<std::string, const sdw_tensor_view *> views_;
};

}  // namespace sdw::nn
