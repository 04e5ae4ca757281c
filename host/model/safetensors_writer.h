// Streams a .safetensors file to disk: declare the tensors, then fill their bytes in order.
// Tensors are laid out back to back in declaration order after a header padded with spaces
// to a multiple of 8 bytes (as the reference writer does), so every tensor is 8-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/safetensors.h"

namespace sdw {

struct TensorSpec {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;

    uint64_t numel() const;
    uint64_t byte_size() const { return numel() * dtype_size(dtype); }
};

class SafetensorsWriter {
public:
    // Throws std::runtime_error for a duplicate name or a negative dimension.
    void add(TensorSpec spec);
    void set_metadata(std::map<std::string, std::string> metadata) { metadata_ = std::move(metadata); }
    const std::vector<TensorSpec>& specs() const { return specs_; }

    // Called with consecutive chunks of each tensor's bytes: the tensor, the index of the
    // chunk's first byte within the tensor, and the chunk to fill completely.
    using Fill = std::function<void(const TensorSpec&, uint64_t first_byte, std::span<std::byte>)>;

    // Writes `path` (through a temporary file renamed at the end, so an interrupted write never
    // leaves a file that looks complete). Throws std::runtime_error naming the path on I/O errors.
    // With an empty `fill` every tensor is zero and the data section is a hole in a sparse file:
    // instant and taking no disk space, for tests that load models without computing with them.
    void write(const std::filesystem::path& path, const Fill& fill) const;

private:
    std::vector<TensorSpec> specs_;
    std::map<std::string, std::string> metadata_;
};

// Convenience for small files: each tensor with its raw bytes (size must match the spec).
struct TensorBytes {
    TensorSpec spec;
    std::string bytes;
};
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors);

}  // namespace sdw
