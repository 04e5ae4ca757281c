// Read-only, memory-mapped access to .safetensors files.
//
// Format: an 8-byte little-endian header length N, N bytes of JSON, then the data section.
// The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} with offsets
// relative to the data section, plus an optional "__metadata__" object of strings.
//
// Every header is validated before anything is handed out, so a truncated or corrupt file is
// a std::runtime_error naming the file and the reason, never a crash or an out-of-bounds read.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include <sdw/plugin_api.h>

#include "model/half_float.h"

namespace sdw {

enum class DType { F32, F16, BF16, I32, I64, U8, F64 };

// Bytes per element.
size_t dtype_size(DType dtype);
// The safetensors spelling: "F32", "F16", "BF16", "I32", "I64", "U8", "F64".
const char* dtype_name(DType dtype);
// Parses the safetensors spelling; returns false for anything else.
bool parse_dtype(const std::string& text, DType& out);
// The plugin ABI dtype; throws std::runtime_error for F64, which the ABI lacks.
sdw_dtype to_sdw_dtype(DType dtype);

// One tensor of a mapped file. `data` points into the mapping and stays valid as long as the
// SafetensorsFile that produced it lives (moving the file object keeps it valid). The pointer
// is only guaranteed to be byte-aligned: files written by other tools may place tensors at any
// offset, so read elements with memcpy (as to_f32 does) or copy before casting.
struct TensorInfo {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    const void* data;
    uint64_t byte_size;

    uint64_t numel() const;
};

class SafetensorsFile {
public:
    // Maps and validates `path`. Throws std::runtime_error("<path>: <reason>").
    static SafetensorsFile open(const std::string& path);

    SafetensorsFile(SafetensorsFile&& other) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;
    ~SafetensorsFile();

    const std::string& path() const { return path_; }
    // In the order of their data offsets (the order the file stores them in).
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    // nullptr when absent.
    const TensorInfo* find(const std::string& name) const;
    // Throws std::runtime_error naming the tensor and the file when absent.
    const TensorInfo& at(const std::string& name) const;
    // The "__metadata__" object, or an empty object when the file has none.
    const nlohmann::json& metadata() const { return metadata_; }

    // Drops this process's resident pages of the mapping (they count towards its RSS
    // while mapped). Always safe: the mapping is private and never written, so a later
    // read faults the page in again from the file (usually still in the page cache).
    // The TensorInfo pointers stay valid.
    void drop_resident_pages() const noexcept;

private:
    SafetensorsFile() = default;
    void release() noexcept;

    std::string path_;
    void* mapping_ = nullptr;
    uint64_t mapping_size_ = 0;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> index_;
    nlohmann::json metadata_ = nlohmann::json::object();
};

// Converts any supported dtype to float32 (integers and F64 are rounded to the nearest float).
std::vector<float> to_f32(const TensorInfo& tensor);

}  // namespace sdw
