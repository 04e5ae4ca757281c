#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace sdw {
namespace {

// The reference implementation (the Rust safetensors crate) refuses headers above 100 MB;
// a real header is a few hundred KB even for SDXL, so anything larger is corruption.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
    throw std::runtime_error(path + ": " + reason);
}

uint64_t read_le_u64(const unsigned char* bytes) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
    return value;
}

// A JSON integer as uint64, refusing negatives, fractions and non-numbers.
bool json_to_u64(const nlohmann::json& value, uint64_t& out) {
    if (value.is_number_unsigned()) {
        out = value.get<uint64_t>();
        return true;
    }
    if (value.is_number_integer()) {
        const int64_t signed_value = value.get<int64_t>();
        if (signed_value < 0) return false;
        out = static_cast<uint64_t>(signed_value);
        return true;
    }
    return false;
}

struct Mapping {
    void* address = nullptr;
    uint64_t size = 0;
};

Mapping map_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int error = errno;
        ::close(fd);
        fail(path, std::string("cannot stat: ") + std::strerror(error));
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd);
        fail(path, "not a regular file");
    }
    const uint64_t size = static_cast<uint64_t>(info.st_size);
    if (size < 8) {
        ::close(fd);
        fail(path, "file is " + std::to_string(size) +
                       " bytes, too short for the 8-byte safetensors header length");
    }
    void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int error = errno;
    ::close(fd);  // the mapping keeps the file alive
    if (address == MAP_FAILED) fail(path, std::string("cannot mmap: ") + std::strerror(error));
    return {address, size};
}

}  // namespace

size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::F32: return 4;
        case DType::F16: return 2;
        case DType::BF16: return 2;
        case DType::I32: return 4;
        case DType::I64: return 8;
        case DType::U8: return 1;
        case DType::F64: return 8;
    }
    return 0;
}

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::F32: return "F32";
        case DType::F16: return "F16";
        case DType::BF16: return "BF16";
        case DType::I32: return "I32";
        case DType::I64: return "I64";
        case DType::U8: return "U8";
        case DType::F64: return "F64";
    }
    return "?";
}

bool parse_dtype(const std::string& text, DType& out) {
    static const std::pair<const char*, DType> kNames[] = {
        {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I32", DType::I32},
        {"I64", DType::I64}, {"U8", DType::U8},   {"F64", DType::F64}};
    for (const auto& [name, dtype] : kNames) {
        if (text == name) {
            out = dtype;
            return true;
        }
    }
    return false;
}

sdw_dtype to_sdw_dtype(DType dtype) {
    switch (dtype) {
        case DType::F32: return SDW_DTYPE_F32;
        case DType::F16: return SDW_DTYPE_F16;
        case DType::BF16: return SDW_DTYPE_BF16;
        case DType::I32: return SDW_DTYPE_I32;
        case DType::I64: return SDW_DTYPE_I64;
        case DType::U8: return SDW_DTYPE_U8;
        case DType::F64: break;
    }
    throw std::runtime_error(std::string("dtype ") + dtype_name(dtype) +
                             " has no plugin ABI equivalent");
}

uint64_t TensorInfo::numel() const {
    uint64_t count = 1;
    for (int64_t dim : shape) count *= static_cast<uint64_t>(dim);
    return count;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    SafetensorsFile file;
    file.path_ = path;
    const Mapping mapping = map_file(path);
    file.mapping_ = mapping.address;
    file.mapping_size_ = mapping.size;
    // From here on `file` owns the mapping; an exception unmaps it through the destructor.

    const auto* bytes = static_cast<const unsigned char*>(file.mapping_);
    const uint64_t header_size = read_le_u64(bytes);
    if (header_size > kMaxHeaderBytes) {
        fail(path, "header length " + std::to_string(header_size) +
                       " is absurd (limit " + std::to_string(kMaxHeaderBytes) +
                       "); not a safetensors file?");
    }
    if (header_size > file.mapping_size_ - 8) {
        fail(path, "header length " + std::to_string(header_size) +
                       " runs past the end of the file (" + std::to_string(file.mapping_size_) +
                       " bytes); truncated?");
    }
    const char* header_begin = reinterpret_cast<const char*>(bytes + 8);
    nlohmann::json header =
        nlohmann::json::parse(header_begin, header_begin + header_size, nullptr, false);
    if (header.is_discarded()) fail(path, "header is not valid JSON");
    if (!header.is_object()) fail(path, "header is JSON but not an object");

    const uint64_t data_offset = 8 + header_size;
    const uint64_t data_size = file.mapping_size_ - data_offset;
    const unsigned char* data_section = bytes + data_offset;

    file.tensors_.reserve(header.size());
    for (auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) fail(path, "__metadata__ is not an object");
            file.metadata_ = entry;
            continue;
        }
        const std::string where = "tensor '" + name + "': ";
        if (!entry.is_object()) fail(path, where + "entry is not an object");

        const auto dtype_it = entry.find("dtype");
        if (dtype_it == entry.end() || !dtype_it->is_string())
            fail(path, where + "missing or non-string \"dtype\"");
        DType dtype{};
        if (!parse_dtype(dtype_it->get<std::string>(), dtype))
            fail(path, where + "unsupported dtype \"" + dtype_it->get<std::string>() + "\"");

        const auto shape_it = entry.find("shape");
        if (shape_it == entry.end() || !shape_it->is_array())
            fail(path, where + "missing or non-array \"shape\"");
        std::vector<int64_t> shape;
        uint64_t numel = 1;
        for (const auto& dim_json : *shape_it) {
            uint64_t dim = 0;
            if (!json_to_u64(dim_json, dim) ||
                dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                fail(path, where + "shape " + shape_it->dump() +
                               " has a negative or non-integer dimension");
            if (__builtin_mul_overflow(numel, dim, &numel))
                fail(path, where + "shape " + shape_it->dump() + " overflows the element count");
            shape.push_back(static_cast<int64_t>(dim));
        }
        uint64_t byte_size = 0;
        if (__builtin_mul_overflow(numel, dtype_size(dtype), &byte_size))
            fail(path, where + "shape " + shape_it->dump() + " overflows the byte size");

        const auto offsets_it = entry.find("data_offsets");
        uint64_t begin = 0, end = 0;
        if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
            !json_to_u64((*offsets_it)[0], begin) || !json_to_u64((*offsets_it)[1], end))
            fail(path, where + "\"data_offsets\" must be two non-negative integers");
        if (begin > end || end > data_size)
            fail(path, where + "data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) + ") lie outside the data section of " +
                           std::to_string(data_size) + " bytes");
        if (end - begin != byte_size)
            fail(path, where + dtype_name(dtype) + " " + shape_it->dump() + " needs " +
                           std::to_string(byte_size) + " bytes but data_offsets span " +
                           std::to_string(end - begin));

        file.tensors_.push_back(TensorInfo{name, dtype, std::move(shape), data_section + begin,
                                           byte_size});
    }

    // Overlap check on the tensors sorted by position; empty tensors occupy nothing.
    std::sort(file.tensors_.begin(), file.tensors_.end(),
              [](const TensorInfo& a, const TensorInfo& b) {
                  return a.data < b.data || (a.data == b.data && a.name < b.name);
              });
    const TensorInfo* previous = nullptr;
    for (const TensorInfo& tensor : file.tensors_) {
        if (tensor.byte_size == 0) continue;
        if (previous != nullptr) {
            const auto* previous_end =
                static_cast<const unsigned char*>(previous->data) + previous->byte_size;
            if (static_cast<const unsigned char*>(tensor.data) < previous_end)
                fail(path, "tensors '" + previous->name + "' and '" + tensor.name +
                               "' overlap in the data section");
        }
        previous = &tensor;
    }
    for (size_t i = 0; i < file.tensors_.size(); ++i) file.index_.emplace(file.tensors_[i].name, i);
    return file;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_size_(std::exchange(other.mapping_size_, 0)),
      tensors_(std::move(other.tensors_)),
      index_(std::move(other.index_)),
      metadata_(std::move(other.metadata_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        mapping_ = std::exchange(other.mapping_, nullptr);
        mapping_size_ = std::exchange(other.mapping_size_, 0);
        tensors_ = std::move(other.tensors_);
        index_ = std::move(other.index_);
        metadata_ = std::move(other.metadata_);
    }
    return *this;
}

SafetensorsFile::~SafetensorsFile() { release(); }

void SafetensorsFile::release() noexcept {
    if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
    mapping_ = nullptr;
    mapping_size_ = 0;
}

void SafetensorsFile::drop_resident_pages() const noexcept {
    if (mapping_ != nullptr) ::madvise(mapping_, mapping_size_, MADV_DONTNEED);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& SafetensorsFile::at(const std::string& name) const {
    const TensorInfo* tensor = find(name);
    if (tensor == nullptr) throw std::runtime_error(path_ + ": no tensor named '" + name + "'");
    return *tensor;
}

namespace {
template <typename T, typename Convert>
void convert_all(const TensorInfo& tensor, std::vector<float>& out, Convert convert) {
    const auto* source = static_cast<const unsigned char*>(tensor.data);
    for (size_t i = 0; i < out.size(); ++i) {
        T element;
        std::memcpy(&element, source + i * sizeof(T), sizeof(T));
        out[i] = convert(element);
    }
}
}  // namespace

std::vector<float> to_f32(const TensorInfo& tensor) {
    std::vector<float> out(tensor.byte_size / dtype_size(tensor.dtype));
    switch (tensor.dtype) {
        case DType::F32:
            if (!out.empty()) std::memcpy(out.data(), tensor.data, tensor.byte_size);
            break;
        case DType::F16: convert_all<uint16_t>(tensor, out, f16_to_f32); break;
        case DType::BF16: convert_all<uint16_t>(tensor, out, bf16_to_f32); break;
        case DType::F64:
            convert_all<double>(tensor, out, [](double v) { return static_cast<float>(v); });
            break;
        case DType::I64:
            convert_all<int64_t>(tensor, out, [](int64_t v) { return static_cast<float>(v); });
            break;
        case DType::I32:
            convert_all<int32_t>(tensor, out, [](int32_t v) { return static_cast<float>(v); });
            break;
        case DType::U8:
            convert_all<uint8_t>(tensor, out, [](uint8_t v) { return static_cast<float>(v); });
            break;
    }
    return out;
}

}  // namespace sdw
