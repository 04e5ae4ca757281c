// The PNG decoders (init images, masks, OpenAI edit images; text chunks are read back by
// clients and tests) on arbitrary bytes. Decode bombs: a header that claims more pixels than
// the limits must be refused before the pixel buffer is allocated. The limits here are small
// (the server's are 8192x8192) so that an image that passes them is cheap to decode, and
// scripts/fuzz.sh runs this target with -malloc_limit_mb, so an allocation sized by the
// header rather than the limits is reported as a crash.
#include "image/png.h"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sdw::PngDecodeLimits limits;
    limits.max_width = 1024;
    limits.max_height = 1024;
    limits.max_pixels = 512 * 512;
    // Malformed input is reported as std::runtime_error (a 400 to the client); anything
    // else (another exception, a sanitizer report, an allocation beyond the limit) is a bug.
    try {
        const sdw::Image image = sdw::decode_png(data, size, limits);
        if (image.width <= 0 || image.height <= 0 || image.width > limits.max_width ||
            image.height > limits.max_height ||
            int64_t{image.width} * image.height > limits.max_pixels ||
            image.pixels.size() != size_t(image.width) * size_t(image.height) * 3)
            std::abort();
        // What decodes re-encodes (the server writes what it decoded into result PNGs).
        const auto png = sdw::encode_png(image);
        if (sdw::decode_png(png.data(), png.size(), limits).pixels != image.pixels) std::abort();
    } catch (const std::runtime_error &) {
    }
    try {
        sdw::decode_png_grey(data, size, limits);
    } catch (const std::runtime_error &) {
    }
    try {
        sdw::decode_png_alpha(data, size, limits);
    } catch (const std::runtime_error &) {
    }
    try {
        sdw::read_png_text(data, size, limits);
    } catch (const std::runtime_error &) {
    }
    sdw::looks_like_png(data, size);
    return 0;
}
