#include <sdw/nn/component.h>
#include <sdw/nn/network.h>

#include <algorithm>
#include <cstring>

namespace sdw::nn {

Shape view_shape(const sdw_tensor_view &view) {
    return Shape(view.shape, view.shape + std::min<uint32_t>(view.ndim, SDW_MAX_DIMS));
}

std::string Signature::key() const {
    std::string key = "clip_skip=" + std::to_string(clip_skip);
    for (const TensorSpec &spec : inputs)
        key += ";" + spec.name + ":" + dtype_name(spec.dtype) + shape_str(spec.shape);
    key += "->";
    for (const TensorSpec &spec : outputs) key += spec.name + ",";
    return key;
}

const sdw_tensor_view *IoRequest::find(std::string_view name) const {
    for (const sdw_tensor_view &view : inputs)
        if (view.name != nullptr && name == view.name) return &view;
    return nullptr;
}

const sdw_tensor_view &IoRequest::require(std::string_view name) const {
    const sdw_tensor_view *view = find(name);
    if (view == nullptr) fail("missing input " + std::string(name));
    return *view;
}

bool IoRequest::wants(std::string_view output) const {
    return std::find(outputs.begin(), outputs.end(), output) != outputs.end();
}

Shape IoRequest::f32_shape(std::string_view name, size_t rank) const {
    const sdw_tensor_view &view = require(name);
    if (view.dtype != SDW_DTYPE_F32 || view.ndim != rank)
        fail("input " + std::string(name) + " must be F32 of rank " + std::to_string(rank) + ", got " +
             sdw::plugin::dtype_name(view.dtype) + " of rank " + std::to_string(view.ndim));
    return view_shape(view);
}

void IoRequest::fail(const std::string &message) const {
    throw Error(SDW_STATUS_INVALID_ARGUMENT, component + ": " + message);
}

std::vector<std::byte> copy_bytes(const sdw_tensor_view &view) {
    const auto *begin = static_cast<const std::byte *>(view.data);
    return std::vector<std::byte>(begin, begin + view.byte_size);
}

}  // namespace sdw::nn
