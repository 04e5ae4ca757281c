// PNG encode/decode for the HTTP API (request images in, results out) via libpng.
//
// Decoding converts every PNG flavour to 8-bit RGB (or grey for masks) the way
// diffusers' `PIL.Image.open(...).convert("RGB")` / `.convert("L")` does, so an input
// image reaches the pipeline with the bytes the reference would see:
// - palette and low-bit-depth grey are expanded; 16-bit samples keep their high byte;
// - an alpha channel (RGBA, grey+alpha, palette tRNS) is DROPPED, not composited:
//   PIL's convert("RGB") ignores alpha, and compositing would change colours a user
//   deliberately put under a transparent region (common for inpainting inputs);
// - decode_png_alpha is the one exception: it returns the alpha channel alone, the way
//   PIL's convert("RGBA") sees it (tRNS palette entries and grey/RGB colour keys become
//   alpha, 16-bit alpha keeps its high byte, a PNG without alpha is 255 everywhere),
//   for masks that mark regions by transparency (OpenAI's image edits);
// - RGB -> grey uses PIL's ITU-R 601-2 luma in fixed point:
//   L = (19595 R + 38470 G + 7471 B + 32768) >> 16.
//
// Text chunks: keys are PNG keywords, restricted here to 1-79 printable ASCII characters
// with no leading, trailing or double spaces. Values are UTF-8 without NUL bytes: an ASCII value is written as
// tEXt (what most tools read, e.g. the "parameters" chunk of A1111-style UIs), anything
// else as uncompressed iTXt. Reading returns tEXt (Latin-1 converted to UTF-8), zTXt and
// iTXt, wherever they sit in the file; a key seen twice keeps its first value.
//
// Errors: malformed input (not a PNG, truncated, bad CRC on a critical chunk, over the
// size limits) throws std::runtime_error whose message starts with "PNG: ". Bad
// arguments to encode_png (inconsistent Image, invalid keyword) throw
// std::invalid_argument. No libpng longjmp ever crosses a C++ frame with live objects.
#pragma once

#include "image/image.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sdw {

// Guards against decompression bombs: a few hundred bytes of PNG can declare a
// gigapixel image. Checked from the header, before any pixel memory is allocated.
struct PngDecodeLimits {
    int max_width = 16384;
    int max_height = 16384;
    int64_t max_pixels = int64_t{8192} * 8192;
};

// Encodes an 8-bit RGB (channels == 3) or grey (channels == 1) image.
std::vector<uint8_t> encode_png(const Image &img,
                                const std::map<std::string, std::string> &text_chunks = {});

// Any PNG -> 8-bit RGB (channels == 3). See the conversion rules above.
Image decode_png(const uint8_t *data, size_t size, const PngDecodeLimits &limits = {});

// Any PNG -> 8-bit grey (channels == 1), for inpainting masks.
Image decode_png_grey(const uint8_t *data, size_t size, const PngDecodeLimits &limits = {});

// Any PNG -> its alpha channel as 8-bit grey (channels == 1): 0 = fully transparent,
// 255 = opaque (everywhere when the PNG has no alpha channel and no tRNS chunk).
Image decode_png_alpha(const uint8_t *data, size_t size, const PngDecodeLimits &limits = {});

// The text chunks of a PNG (validates and decodes the whole file).
std::map<std::string, std::string> read_png_text(const uint8_t *data, size_t size,
                                                 const PngDecodeLimits &limits = {});

// True when the bytes start with the 8-byte PNG signature (a cheap sniff, not a validation).
bool looks_like_png(const uint8_t *data, size_t size);

}  // namespace sdw
