// Safetensors files (model weights: the 8-byte header length, the JSON header, the tensors'
// offsets) as SafetensorsFile::open maps them. open() takes a path, so the input is written
// to an in-memory file (memfd) and opened through /proc/self/fd, which keeps the disk out of
// the loop. Small tensors are also converted to f32, which reads their bytes. Refusals are
// std::runtime_error.
#include "model/safetensors.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int fd = [] {
        const int f = memfd_create("fuzz_safetensors", 0);
        if (f < 0) std::abort();
        return f;
    }();
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
    try {
        const auto file = sdw::SafetensorsFile::open(path);
        for (const auto &tensor : file.tensors()) {
            if (file.find(tensor.name) != &tensor) std::abort();
            if (tensor.numel() <= 4096) sdw::to_f32(tensor);
        }
        file.metadata().dump();
    } catch (const std::runtime_error &) {
    }
    return 0;
}
