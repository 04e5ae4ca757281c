// Test helper: writes PNGs in formats encode_png never produces (palette, alpha,
// 16-bit, low bit depths, interlaced) straight through libpng.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdw::test {

struct RawText {
    std::string key;
    std::string value;            // bytes as stored (Latin-1 for tEXt/zTXt, UTF-8 for iTXt)
    int compression = -1;         // PNG_TEXT_COMPRESSION_NONE / _zTXt / PNG_ITXT_COMPRESSION_NONE
};

struct RawPng {
    int width = 0;
    int height = 0;
    int bit_depth = 8;
    int color_type = 0;           // PNG_COLOR_TYPE_*
    bool interlaced = false;
    std::vector<uint8_t> rows;    // packed rows exactly as PNG stores them (big-endian 16-bit)
    std::vector<uint8_t> palette; // RGB triples for palette images
    std::vector<uint8_t> palette_alpha;  // tRNS for palette images
    std::vector<RawText> text_before_image;
    std::vector<RawText> text_after_image;
};

std::vector<uint8_t> write_raw_png(const RawPng &spec);

}  // namespace sdw::test
