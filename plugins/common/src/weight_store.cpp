#include "weight_store.h"

#include <sdw/nn/component.h>

namespace sdw::nn {
WeightStore::WeightStore(Ops &ops, const sdw_component_desc &desc, std::string component, DType compute)
    : ops_(ops), component_(std::move(component)), compute_(compute) {
    if (desc.weight_count > 0 && desc.weights == nullptr)
        throw Error(SDW_STATUS_INVALID_ARGUMENT, component_ + ": weights is NULL");
    for (uint64_t i = 0; i < desc.weight_count; ++i) {
        const sdw_tensor_view &view = desc.weights[i];
        if (view.name == nullptr)
            throw Error(SDW_STATUS_INVALID_ARGUMENT,
                                 component_ + ": weight " + std::to_string(i) + " has no name");
        views_[view.name] = &view;
    }
}

bool WeightStore::has(const std::string &name) const { return views_.count(name) != 0; }

const sdw_tensor_view &WeightStore::find_or_throw(const std::string &name,
                                                  const Shape &expected) const {
    auto it = views_.find(name);
    if (it == views_.end())
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                             component_ + ": missing weight " + name + " (expected " +
                                 shape_str(expected) + ")");
    return *it->second;
}

Tensor WeightStore::take(const std::string &name, const Shape &expected) const {
    const sdw_tensor_view &view = find_or_throw(name, expected);
    const Shape actual = view_shape(view);
    if (view.ndim > SDW_MAX_DIMS || actual != expected)
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                             component_ + ": weight " + name + " has shape " +
                                 shape_str(actual) + ", expected " + shape_str(expected));
    if (view.dtype != SDW_DTYPE_F32 && view.dtype != SDW_DTYPE_F16 &&
        view.dtype != SDW_DTYPE_BF16)
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                             component_ + ": weight " + name +
                                 " is not a float tensor (F32, F16 or BF16)");
    const uint64_t bytes = static_cast<uint64_t>(shape_numel(actual)) * sdw_dtype_size(view.dtype);
    if (view.data == nullptr || view.byte_size != bytes)
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                             component_ + ": weight " + name + " has " +
                                 std::to_string(view.byte_size) + " bytes of data, expected " +
                                 std::to_string(bytes));
    return ops_.weight(view, compute_);
}

Tensor WeightStore::take_optional(const std::string &name, const Shape &expected) const {
    return has(name) ? take(name, expected) : Tensor{};
}

Shape WeightStore::shape_of(const std::string &name) const {
    auto it = views_.find(name);
    if (it == views_.end())
        throw Error(SDW_STATUS_INVALID_ARGUMENT, component_ + ": missing weight " + name);
    return view_shape(*it->second);
}

}  // namespace sdw::nn
