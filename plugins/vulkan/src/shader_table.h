// The embedded SPIR-V modules (shaders.cpp, generated at build time from
// shaders/*.comp by plugins/vulkan/CMakeLists.txt).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sdw::vulkan {

struct ShaderBinary {
    const char *name;  // "<shader>_<variant>", e.g. "matmul_conv_f16"
    const uint32_t *code;
    size_t bytes;
};

extern const ShaderBinary kShaderBinaries[];
extern const size_t kShaderBinaryCount;

}  // namespace sdw::vulkan
