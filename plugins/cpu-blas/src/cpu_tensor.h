// The cpu-blas storage behind an sdw::nn::Tensor: one 64-byte aligned float buffer.
#pragma once

#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>

#include <cstdlib>
#include <new>
#include <string>

namespace sdw::cpu {

struct CpuStorage final : sdw::nn::Storage {
    explicit CpuStorage(int64_t count) : size(count) {
        // aligned_alloc wants a multiple of the alignment; round up, and never 0.
        size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
        data = static_cast<float *>(std::aligned_alloc(64, bytes ? bytes : 64));
        if (!data) throw std::bad_alloc();
    }
    ~CpuStorage() override { std::free(data); }
    CpuStorage(const CpuStorage &) = delete;
    CpuStorage &operator=(const CpuStorage &) = delete;

    float *data;
    int64_t size;
};

// A misuse of the op interface by a network definition is a plugin bug.
[[noreturn]] inline void op_error(const std::string &message) {
    throw sdw::nn::ComponentError(SDW_STATUS_INTERNAL, message);
}

// A new, uninitialised tensor.
inline sdw::nn::Tensor new_tensor(const sdw::nn::Shape &shape) {
    for (int64_t d : shape)
        if (d < 0) op_error("negative dimension in " + sdw::nn::shape_str(shape));
    sdw::nn::Tensor t;
    t.shape = shape;
    t.storage = std::make_shared<CpuStorage>(sdw::nn::shape_numel(shape));
    return t;
}

inline CpuStorage &cpu_storage(const sdw::nn::Tensor &t) {
    auto *s = dynamic_cast<CpuStorage *>(t.storage.get());
    if (!s) op_error("tensor is undefined or not a cpu-blas tensor");
    return *s;
}

inline const float *cdata(const sdw::nn::Tensor &t) { return cpu_storage(t).data; }
inline float *mdata(sdw::nn::Tensor &t) { return cpu_storage(t).data; }

}  // namespace sdw::cpu
