// The cpu-blas storage behind an sdw::nn::Tensor: one 64-byte aligned buffer, recycled
// through the context's BufferCache when the tensor dies. Activations are F32; I32
// holds indices; F16 / BF16 tensors are weights kept in half precision and the results
// of casts (read only by cast, the layout ops and the products that take weights).
#pragma once

#include "buffer_cache.h"

#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

namespace sdw::cpu {

using sdw::nn::DType;

struct CpuStorage final : sdw::nn::Storage {
    // `tally`, when given, counts the buffer's bytes while it lives (resident weights).
    CpuStorage(size_t byte_count, std::shared_ptr<BufferCache> buffers,
               std::shared_ptr<std::atomic<uint64_t>> tally = nullptr)
        : data(buffers->acquire(byte_count)), bytes(byte_count), cache(std::move(buffers)),
          counted(std::move(tally)) {
        if (counted) *counted += bytes;
    }
    ~CpuStorage() override {
        if (counted) *counted -= bytes;
        cache->release(data, bytes);
    }
    CpuStorage(const CpuStorage &) = delete;
    CpuStorage &operator=(const CpuStorage &) = delete;

    void *data;
    size_t bytes;
    std::shared_ptr<BufferCache> cache;  // kept alive by every tensor that came from it
    std::shared_ptr<std::atomic<uint64_t>> counted;
};

// A misuse of the op interface by a network definition is a plugin bug.
[[noreturn]] inline void op_error(const std::string &message) {
    throw sdw::nn::Error(SDW_STATUS_INTERNAL, message);
}

// A new, uninitialised tensor.
inline sdw::nn::Tensor new_tensor(const sdw::nn::Shape &shape, DType dtype,
                                  const std::shared_ptr<BufferCache> &buffers,
                                  const std::shared_ptr<std::atomic<uint64_t>> &tally = nullptr) {
    for (int64_t d : shape)
        if (d < 0) op_error("negative dimension in " + sdw::nn::shape_str(shape));
    sdw::nn::Tensor t;
    t.shape = shape;
    t.dtype = dtype;
    t.storage = std::make_shared<CpuStorage>(
        static_cast<size_t>(sdw::nn::shape_numel(shape)) * sdw::nn::dtype_size(dtype), buffers, tally);
    return t;
}
inline sdw::nn::Tensor new_tensor(const sdw::nn::Shape &shape, const std::shared_ptr<BufferCache> &buffers) {
    return new_tensor(shape, DType::F32, buffers);
}

inline CpuStorage &cpu_storage(const sdw::nn::Tensor &t) {
    auto *s = dynamic_cast<CpuStorage *>(t.storage.get());
    if (!s) op_error("tensor is undefined or not a cpu-blas tensor");
    if (s->bytes < t.bytes()) op_error("tensor " + sdw::nn::shape_str(t.shape) + " outgrows its storage");
    return *s;
}

// Float data; anything else is refused (cpu-blas computes in float32).
inline const float *cdata(const sdw::nn::Tensor &t) {
    CpuStorage &s = cpu_storage(t);
    if (t.dtype != DType::F32)
        op_error(std::string("a ") + sdw::nn::dtype_name(t.dtype) + " tensor " + sdw::nn::shape_str(t.shape) +
                 " was used where F32 data is needed (cpu-blas computes in F32)");
    return static_cast<const float *>(s.data);
}
inline float *mdata(sdw::nn::Tensor &t) { return const_cast<float *>(cdata(t)); }
// The halves of an F16 tensor (a weight kept in half precision), or null for F32.
inline const uint16_t *half_data(const sdw::nn::Tensor &t) {
    CpuStorage &s = cpu_storage(t);
    if (t.dtype == DType::F16) return static_cast<const uint16_t *>(s.data);
    cdata(t);
    return nullptr;
}
inline const int32_t *index_data(const sdw::nn::Tensor &t) {
    CpuStorage &s = cpu_storage(t);
    if (t.dtype != DType::I32) op_error("indices must be I32, got " + std::string(sdw::nn::dtype_name(t.dtype)));
    return static_cast<const int32_t *>(s.data);
}
inline void *raw_data(const sdw::nn::Tensor &t) { return cpu_storage(t).data; }

}  // namespace sdw::cpu
