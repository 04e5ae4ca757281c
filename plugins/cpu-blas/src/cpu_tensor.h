// The cpu-blas storage behind an sdw::nn::Tensor: one 64-byte aligned float buffer,
// recycled through the context's BufferCache when the tensor dies.
#pragma once

#include "buffer_cache.h"

#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>

namespace sdw::cpu {

struct CpuStorage final : sdw::nn::Storage {
    CpuStorage(int64_t count, std::shared_ptr<BufferCache> buffers)
        : data(static_cast<float *>(buffers->acquire(static_cast<size_t>(count) * sizeof(float)))),
          size(count),
          cache(std::move(buffers)) {}
    ~CpuStorage() override { cache->release(data, static_cast<size_t>(size) * sizeof(float)); }
    CpuStorage(const CpuStorage &) = delete;
    CpuStorage &operator=(const CpuStorage &) = delete;

    float *data;
    int64_t size;
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

inline const float *cdata(const sdw::nn::Tensor &t) { return cpu_storage(t).data; }
inline float *mdata(sdw::nn::Tensor &t) { return cpu_storage(t).data; }

}  // namespace sdw::cpu
