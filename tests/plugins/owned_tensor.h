// Test helper: a named tensor that owns its bytes and hands out ABI views of them.
#pragma once

#include <sdw/plugin_api.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace sdw::test {

struct OwnedTensor {
    std::string name;
    sdw_dtype dtype = SDW_DTYPE_F32;
    std::vector<int64_t> shape;
    std::vector<unsigned char> bytes;

    static OwnedTensor zeros(std::string name, std::vector<int64_t> shape,
                             sdw_dtype dtype = SDW_DTYPE_F32) {
        OwnedTensor t{std::move(name), dtype, std::move(shape), {}};
        int64_t count = 1;
        for (int64_t d : t.shape) count *= d;
        t.bytes.assign(static_cast<size_t>(count) * sdw_dtype_size(dtype), 0);
        return t;
    }
    static OwnedTensor f32(std::string name, std::vector<int64_t> shape, const std::vector<float> &v) {
        OwnedTensor t = zeros(std::move(name), std::move(shape));
        std::memcpy(t.bytes.data(), v.data(), std::min(t.bytes.size(), v.size() * sizeof(float)));
        return t;
    }
    static OwnedTensor i32(std::string name, std::vector<int64_t> shape, const std::vector<int32_t> &v) {
        OwnedTensor t = zeros(std::move(name), std::move(shape), SDW_DTYPE_I32);
        std::memcpy(t.bytes.data(), v.data(), std::min(t.bytes.size(), v.size() * sizeof(int32_t)));
        return t;
    }

    int64_t count() const { return static_cast<int64_t>(bytes.size() / sdw_dtype_size(dtype)); }
    float at(int64_t i) const {
        float value;
        std::memcpy(&value, bytes.data() + i * sizeof(float), sizeof(float));
        return value;
    }

    sdw_tensor_view view() {
        sdw_tensor_view v{};
        v.struct_size = sizeof(v);
        v.name = name.c_str();
        v.dtype = dtype;
        v.ndim = static_cast<uint32_t>(shape.size());
        for (size_t i = 0; i < shape.size(); ++i) v.shape[i] = shape[i];
        v.data = bytes.data();
        v.byte_size = bytes.size();
        return v;
    }
};

inline std::vector<sdw_tensor_view> views(std::vector<OwnedTensor> &tensors) {
    std::vector<sdw_tensor_view> out;
    for (OwnedTensor &t : tensors) out.push_back(t.view());
    return out;
}

}  // namespace sdw::test
