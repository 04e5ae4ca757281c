#include "image/png.h"

#include <png.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

// libpng reports errors by longjmp. Each function that calls setjmp below owns no
// object with a destructor and only writes through references to state owned by its
// caller, so a longjmp skips nothing that needs destroying (the condition under which
// the C++ standard gives setjmp/longjmp defined behaviour), and everything allocated
// before the error is freed by the caller's normal scope exit.

namespace sdw {
namespace {

constexpr size_t kSignatureSize = 8;
constexpr png_alloc_size_t kMaxChunkBytes = 8'000'000;

struct ErrorMessage {
    char text[256] = {};
};

[[noreturn]] void on_png_error(png_structp png, png_const_charp message) {
    auto *error = static_cast<ErrorMessage *>(png_get_error_ptr(png));
    std::snprintf(error->text, sizeof error->text, "%s", message ? message : "unknown libpng error");
    png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {
    // Warnings are about ancillary chunks libpng already skipped; nothing to act on.
}

// ---- decoding --------------------------------------------------------------------

struct MemoryReader {
    const uint8_t *data = nullptr;
    size_t size = 0;
    size_t offset = 0;
};

void read_from_memory(png_structp png, png_bytep out, size_t length) {
    auto *reader = static_cast<MemoryReader *>(png_get_io_ptr(png));
    if (length > reader->size - reader->offset) png_error(png, "truncated data");
    std::memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
}

struct ReadHandles {
    png_structp png = nullptr;
    png_infop info = nullptr;
    png_infop end_info = nullptr;
    ~ReadHandles() { png_destroy_read_struct(&png, &info, &end_info); }
};

struct DecodeState {
    MemoryReader reader;
    ErrorMessage error;
    PngDecodeLimits limits;
    bool keep_alpha = false;      // RGBA out instead of RGB
    Image image;                  // RGB, or RGBA (channels 4) with keep_alpha
    std::vector<png_bytep> rows;  // into image.pixels
};

// Header -> transformations -> pixels -> trailing chunks. False on error, with the
// reason in state.error. Allocation failures throw normally (no libpng frame is active).
bool run_decode(png_structp png, png_infop info, png_infop end_info, DecodeState &state) {
    if (setjmp(png_jmpbuf(png))) return false;

    png_set_read_fn(png, &state.reader, read_from_memory);
    png_read_info(png, info);

    const png_uint_32 width = png_get_image_width(png, info);
    const png_uint_32 height = png_get_image_height(png, info);
    if (int64_t{width} > state.limits.max_width || int64_t{height} > state.limits.max_height ||
        int64_t{width} * int64_t{height} > state.limits.max_pixels) {
        std::snprintf(state.error.text, sizeof state.error.text,
                      "image of %ux%u pixels exceeds the limits (%dx%d, %lld pixels)",
                      static_cast<unsigned>(width), static_cast<unsigned>(height), state.limits.max_width,
                      state.limits.max_height, static_cast<long long>(state.limits.max_pixels));
        return false;
    }

    // Everything becomes 8-bit RGB; alpha is dropped, not composited (see png.h), unless
    // the caller keeps it (RGBA, opaque where the file has no alpha).
    const int color_type = png_get_color_type(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
    const int channels = state.keep_alpha ? 4 : 3;
    if (state.keep_alpha) {
        // tRNS (palette entries, or a grey/RGB colour key) becomes the alpha channel.
        if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
        else if (!(color_type & PNG_COLOR_MASK_ALPHA)) png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    } else {
        // Unconditional: palette expansion also turns a tRNS chunk into an alpha channel.
        png_set_strip_alpha(png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const size_t row_bytes = size_t{width} * static_cast<size_t>(channels);
    if (png_get_rowbytes(png, info) != row_bytes || png_get_channels(png, info) != channels ||
        png_get_bit_depth(png, info) != 8)
        png_error(png, state.keep_alpha ? "unexpected pixel layout after conversion to RGBA"
                                        : "unexpected pixel layout after conversion to RGB");

    state.image.width = static_cast<int>(width);
    state.image.height = static_cast<int>(height);
    state.image.channels = channels;
    state.image.pixels.resize(row_bytes * height);
    state.rows.resize(height);
    for (png_uint_32 y = 0; y < height; ++y) state.rows[y] = state.image.pixels.data() + size_t{y} * row_bytes;
    png_read_image(png, state.rows.data());
    png_read_end(png, end_info);
    return true;
}

void append_utf8(std::string &out, const char *text, bool latin1) {
    for (const char *p = text; *p; ++p) {
        const auto byte = static_cast<unsigned char>(*p);
        if (!latin1 || byte < 0x80) {
            out.push_back(static_cast<char>(byte));
        } else {
            out.push_back(static_cast<char>(0xC0 | (byte >> 6)));
            out.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
        }
    }
}

void collect_text(png_structp png, png_infop info, std::map<std::string, std::string> &out) {
    png_textp chunks = nullptr;
    int count = 0;
    png_get_text(png, info, &chunks, &count);
    for (int i = 0; i < count; ++i) {
        // tEXt and zTXt are Latin-1, iTXt is UTF-8.
        const bool latin1 = chunks[i].compression == PNG_TEXT_COMPRESSION_NONE ||
                            chunks[i].compression == PNG_TEXT_COMPRESSION_zTXt;
        std::string key;
        std::string value;
        append_utf8(key, chunks[i].key, true);
        if (chunks[i].text) append_utf8(value, chunks[i].text, latin1);
        out.emplace(std::move(key), std::move(value));
    }
}

struct Decoded {
    Image image;
    std::map<std::string, std::string> text;
};

// libpng allocates an ancillary chunk's (tEXt, iTXt, ...) whole declared length, up to
// 2 GiB, before reading it, and png_set_chunk_malloc_max does not cap that for every chunk
// (fuzzing found a 352-byte PNG whose iTXt header asked for 128 MiB). The whole file is in
// memory, so a chunk that declares more bytes than follow it can only be truncated or
// forged: refuse it before libpng sees it, which bounds every chunk by the input's size.
// Returns the reason, or "" when every chunk up to IEND (or the end) fits.
std::string oversized_chunk(const uint8_t *data, size_t size) {
    constexpr size_t kChunkHeader = 8;     // length, type: what libpng reads before allocating
    constexpr size_t kChunkOverhead = 12;  // and the CRC after the data
    size_t offset = kSignatureSize;
    while (size - offset >= kChunkHeader) {
        const uint8_t *chunk = data + offset;
        const uint32_t length = uint32_t{chunk[0]} << 24 | uint32_t{chunk[1]} << 16 |
                                uint32_t{chunk[2]} << 8 | uint32_t{chunk[3]};
        // A header without room for its CRC counts too: libpng allocates on the header alone.
        const size_t left = size - offset >= kChunkOverhead ? size - offset - kChunkOverhead : 0;
        if (size - offset < kChunkOverhead || length > left) {
            char reason[128];
            std::snprintf(reason, sizeof reason, "a chunk declares %u bytes, more than the %zu left in the file",
                          static_cast<unsigned>(length), left);
            return reason;
        }
        offset += kChunkOverhead + length;
        if (std::memcmp(chunk + 4, "IEND", 4) == 0) break;
    }
    return {};  // fewer than 8 bytes after the last chunk: libpng reports the truncation
}

Decoded decode(const uint8_t *data, size_t size, const PngDecodeLimits &limits, bool want_text,
               bool keep_alpha = false) {
    if (data == nullptr || size < kSignatureSize || !looks_like_png(data, size))
        throw std::runtime_error("PNG: not a PNG file (missing PNG signature)");

    if (const std::string bad = oversized_chunk(data, size); !bad.empty())
        throw std::runtime_error("PNG: invalid or corrupt image: " + bad);

    DecodeState state;
    state.reader = {data, size, 0};
    state.limits = limits;
    state.keep_alpha = keep_alpha;

    ReadHandles handles;
    handles.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state.error, on_png_error, on_png_warning);
    if (!handles.png) throw std::bad_alloc();
    handles.info = png_create_info_struct(handles.png);
    handles.end_info = png_create_info_struct(handles.png);
    if (!handles.info || !handles.end_info) throw std::bad_alloc();
    // Decompressed text and profile chunks (zTXt, iTXt, iCCP) are capped at libpng's
    // recommended 8 MB, whatever the build's default.
    png_set_chunk_malloc_max(handles.png, kMaxChunkBytes);

    if (!run_decode(handles.png, handles.info, handles.end_info, state))
        throw std::runtime_error(std::string("PNG: invalid or corrupt image: ") + state.error.text);

    Decoded result;
    result.image = std::move(state.image);
    if (want_text) {
        collect_text(handles.png, handles.info, result.text);
        collect_text(handles.png, handles.end_info, result.text);
    }
    return result;
}

// ---- encoding --------------------------------------------------------------------

struct WriteHandles {
    png_structp png = nullptr;
    png_infop info = nullptr;
    ~WriteHandles() { png_destroy_write_struct(&png, &info); }
};

struct EncodeState {
    ErrorMessage error;
    std::vector<uint8_t> output;
    std::vector<png_bytep> rows;
    std::vector<std::string> text_storage;  // png_text wants mutable char*
    std::vector<png_text> text;
};

void write_to_memory(png_structp png, png_bytep data, size_t length) {
    auto *state = static_cast<EncodeState *>(png_get_io_ptr(png));
    try {
        state->output.insert(state->output.end(), data, data + length);
    } catch (...) {
        png_error(png, "out of memory");  // never let an exception unwind through libpng
    }
}

void flush_memory(png_structp) {}

bool run_encode(png_structp png, png_infop info, const Image &img, EncodeState &state) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_write_fn(png, &state, write_to_memory, flush_memory);
    png_set_IHDR(png, info, static_cast<png_uint_32>(img.width), static_cast<png_uint_32>(img.height), 8,
                 img.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (!state.text.empty()) png_set_text(png, info, state.text.data(), static_cast<int>(state.text.size()));
    png_write_info(png, info);
    png_write_image(png, state.rows.data());
    png_write_end(png, info);
    return true;
}

void validate_keyword(const std::string &key) {
    bool ok = !key.empty() && key.size() <= 79 && key.front() != ' ' && key.back() != ' ';
    for (size_t i = 0; ok && i < key.size(); ++i) {
        const char c = key[i];
        ok = c >= 32 && c <= 126 && !(c == ' ' && i > 0 && key[i - 1] == ' ');
    }
    if (!ok)
        throw std::invalid_argument("PNG text key \"" + key +
                                    "\" is not a valid keyword (1-79 printable ASCII characters, "
                                    "no leading, trailing or double spaces)");
}

bool is_ascii(const std::string &text) {
    for (const char c : text)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

}  // namespace

bool looks_like_png(const uint8_t *data, size_t size) {
    return data != nullptr && size >= kSignatureSize && png_sig_cmp(data, 0, kSignatureSize) == 0;
}

std::vector<uint8_t> encode_png(const Image &img, const std::map<std::string, std::string> &text_chunks) {
    if (img.channels != 1 && img.channels != 3)
        throw std::invalid_argument("encode_png: channels must be 1 (grey) or 3 (RGB), got " +
                                    std::to_string(img.channels));
    if (img.width <= 0 || img.height <= 0 || img.width > 0x7fffffff / 4 || img.height > 0x7fffffff / 4)
        throw std::invalid_argument("encode_png: invalid size " + std::to_string(img.width) + "x" +
                                    std::to_string(img.height));
    const size_t row_bytes = size_t(img.width) * size_t(img.channels);
    if (img.pixels.size() != row_bytes * size_t(img.height))
        throw std::invalid_argument("encode_png: pixel buffer holds " + std::to_string(img.pixels.size()) +
                                    " bytes, expected " + std::to_string(row_bytes * size_t(img.height)));

    EncodeState state;
    state.text_storage.reserve(text_chunks.size() * 2);
    for (const auto &[key, value] : text_chunks) {
        validate_keyword(key);
        if (value.find('\0') != std::string::npos)
            throw std::invalid_argument("PNG text value of \"" + key + "\" contains a NUL byte");
        state.text_storage.push_back(key);
        state.text_storage.push_back(value);
    }
    for (size_t i = 0; i < state.text_storage.size(); i += 2) {
        png_text chunk{};
        chunk.key = state.text_storage[i].data();
        chunk.text = state.text_storage[i + 1].data();
        if (is_ascii(state.text_storage[i + 1])) {
            chunk.compression = PNG_TEXT_COMPRESSION_NONE;
            chunk.text_length = state.text_storage[i + 1].size();
        } else {
            chunk.compression = PNG_ITXT_COMPRESSION_NONE;
            chunk.itxt_length = state.text_storage[i + 1].size();
        }
        state.text.push_back(chunk);
    }
    state.rows.resize(size_t(img.height));
    for (int y = 0; y < img.height; ++y)
        state.rows[size_t(y)] = const_cast<png_bytep>(img.pixels.data() + size_t(y) * row_bytes);  // libpng only reads
    state.output.reserve(row_bytes * size_t(img.height) / 2 + 1024);

    WriteHandles handles;
    handles.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state.error, on_png_error, on_png_warning);
    if (!handles.png) throw std::bad_alloc();
    handles.info = png_create_info_struct(handles.png);
    if (!handles.info) throw std::bad_alloc();
    if (!run_encode(handles.png, handles.info, img, state))
        throw std::runtime_error(std::string("PNG: encoding failed: ") + state.error.text);
    return std::move(state.output);
}

Image decode_png(const uint8_t *data, size_t size, const PngDecodeLimits &limits) {
    return decode(data, size, limits, false).image;
}

Image decode_png_grey(const uint8_t *data, size_t size, const PngDecodeLimits &limits) {
    const Image rgb = decode(data, size, limits, false).image;
    Image grey;
    grey.width = rgb.width;
    grey.height = rgb.height;
    grey.channels = 1;
    grey.pixels.resize(size_t(rgb.width) * size_t(rgb.height));
    for (size_t i = 0; i < grey.pixels.size(); ++i) {
        const uint32_t r = rgb.pixels[3 * i], g = rgb.pixels[3 * i + 1], b = rgb.pixels[3 * i + 2];
        grey.pixels[i] = static_cast<uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
    }
    return grey;
}

Image decode_png_alpha(const uint8_t *data, size_t size, const PngDecodeLimits &limits) {
    const Image rgba = decode(data, size, limits, false, true).image;
    Image alpha;
    alpha.width = rgba.width;
    alpha.height = rgba.height;
    alpha.channels = 1;
    alpha.pixels.resize(size_t(rgba.width) * size_t(rgba.height));
    for (size_t i = 0; i < alpha.pixels.size(); ++i) alpha.pixels[i] = rgba.pixels[4 * i + 3];
    return alpha;
}

std::map<std::string, std::string> read_png_text(const uint8_t *data, size_t size, const PngDecodeLimits &limits) {
    return decode(data, size, limits, true).text;
}

}  // namespace sdw
