// An 8-bit RGB image in host memory, the unit the API, PNG codec and pipelines exchange.
#pragma once

#include <cstdint>
#include <vector>

namespace sdw {

struct Image {
    int width = 0;
    int height = 0;
    int channels = 3;               // 3 = RGB, 1 = grey (masks)
    std::vector<uint8_t> pixels;    // row-major HWC, width * height * channels bytes
};

}  // namespace sdw
