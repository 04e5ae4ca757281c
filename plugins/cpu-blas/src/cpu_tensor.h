// The cpu-blas storage behind an sdw::nn::Tensor: one 64-byte aligned float buffer,
// recycled through the context's BufferCache when the tensor dies.
#pragma once

#include "buffer_cache.h"

#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

namespace sdw::cpu {

struct CpuStorage final : sdw::nn::Storage {
    // `half`: the buffer holds `count` IEEE halves instead of floats (see CpuOps::weight).
    CpuStorage(int64_t count, std::shared_ptr<BufferCache> buffers, bool half = false)
        : data(static_cast<float *>(buffers->acquire(bytes_of(count, half)))),
          size(count),
          f16(half),
          cache(std::move(buffers)) {}
    ~CpuStorage() override { cache->release(data, bytes_of(size, f16)); }
    static size_t bytes_of(int64_t count, bool half) {
        return static_cast<size_t>(count) * (half ? sizeof(uint16_t) : sizeof(float));
    }
    CpuStorage(const CpuStorage &) = delete;
    CpuStorage &operator=(const CpuStorage &) = delete;

    float *data;
    int64_t size;
    bool f16;
    std::shared_ptr<BufferCache> cache;  // kept alive by every tensor that came from it
};

// A misuse of the op interface by a network definition is a plugin bug.
[[noreturn]] inline void op_error(const std::string &message) {
    throw sdw::nn::ComponentError(SDW_STATUS_INTERNAL, message);
}

// A new, uninitialised tensor.
inline sdw::nn::Tensor new_tensor(const sdw::nn::Shape &shape,
                                  const std::shared_ptr<BufferCache> &buffers) {
    for (int64_t d : shape)
        if (d < 0) op_error("negative dimension in " + sdw::nn::shape_str(shape));
    sdw::nn::Tensor t;
    t.shape = shape;
    t.storage = std::make_shared<CpuStorage>(sdw::nn::shape_numel(shape), buffers);
    return t;
}

inline CpuStorage &cpu_storage(const sdw::nn::Tensor &t) {
    auto *s = dynamic_cast<CpuStorage *>(t.storage.get());
    if (!s) op_error("tensor is undefined or not a cpu-blas tensor");
    return *s;
}

// Float data; a weight kept in half precision is only read through half_data.
inline const float *cdata(const sdw::nn::Tensor &t) {
    CpuStorage &s = cpu_storage(t);
    if (s.f16) op_error("a half-precision weight " + sdw::nn::shape_str(t.shape) +
                        " was used where float data is needed");
    return s.data;
}
inline float *mdata(sdw::nn::Tensor &t) { return const_cast<float *>(cdata(t)); }
// The halves of a weight kept in half precision, or null for float data.
inline const uint16_t *half_data(const sdw::nn::Tensor &t) {
    CpuStorage &s = cpu_storage(t);
    return s.f16 ? reinterpret_cast<const uint16_t *>(s.data) : nullptr;
}

}  // namespace sdw::cpu
