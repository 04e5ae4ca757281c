// Single-file checkpoints (A1111 / LDM .safetensors, the file a user downloads and passes to
// --model) as ModelFolder::open reads them: family detection, the LDM -> diffusers name
// mapping, the configs derived from shapes, the summaries and cross-checks. The input is a
// safetensors header (8-byte length, JSON); the data section its offsets need is zeros (up to
// 64 MiB, so a mutated offset cannot ask for more), written after it in an in-memory file
// (memfd) that a *.safetensors symlink names. The tokenizers are the project's own.
// Refusals are std::runtime_error.
#include "model/model_folder.h"

#include <nlohmann/json.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace {

constexpr uint64_t kMaxData = uint64_t(64) << 20;

// The largest end offset the header names (0 when it does not parse).
uint64_t data_size(const uint8_t *data, size_t size) {
    if (size < 8) return 0;
    uint64_t length = 0;
    std::memcpy(&length, data, 8);
    if (length > size - 8) return 0;
    const auto header = nlohmann::json::parse(data + 8, data + 8 + length, nullptr, /*allow_exceptions=*/false);
    if (!header.is_object()) return 0;
    uint64_t end = 0;
    for (const auto &[name, tensor] : header.items()) {
        if (!tensor.is_object()) continue;
        const auto offsets = tensor.find("data_offsets");
        if (offsets == tensor.end() || !offsets->is_array() || offsets->size() != 2) continue;
        if ((*offsets)[1].is_number_unsigned()) end = std::max(end, (*offsets)[1].get<uint64_t>());
    }
    return std::min(end, kMaxData);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int fd = [] {
        const int f = memfd_create("fuzz_single_file", 0);
        if (f < 0) std::abort();
        return f;
    }();
    static const std::filesystem::path path = [] {
        const auto link = std::filesystem::temp_directory_path() /
                          ("fuzz_single_file_" + std::to_string(::getpid()) + ".safetensors");
        std::error_code ignored;
        std::filesystem::remove(link, ignored);
        std::filesystem::create_symlink("/proc/self/fd/" + std::to_string(fd), link);
        return link;
    }();
    uint64_t header_end = size;
    if (size >= 8) {
        uint64_t length = 0;
        std::memcpy(&length, data, 8);
        if (length <= size - 8) header_end = 8 + length;
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, header_end, 0) != static_cast<ssize_t>(header_end) ||
        ftruncate(fd, static_cast<off_t>(header_end + data_size(data, size))) != 0)
        std::abort();

    sdw::SingleFileOptions options;
    options.tokenizers_dir = SDW_SOURCE_DIR "/models/tokenizers";
    try {
        const sdw::ModelFolder model = sdw::ModelFolder::open(path, options);
        if (model.unet().weights().empty()) std::abort();
    } catch (const std::runtime_error &) {
    }
    return 0;
}
