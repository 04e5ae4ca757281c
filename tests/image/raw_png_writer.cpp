#include "raw_png_writer.h"

#include <png.h>

#include <stdexcept>

namespace sdw::test {
namespace {

void append(png_structp png, png_bytep data, size_t length) {
    auto *out = static_cast<std::vector<uint8_t> *>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + length);
}

void flush(png_structp) {}

std::vector<png_text> to_png_text(const std::vector<RawText> &chunks) {
    std::vector<png_text> out;
    for (const RawText &chunk : chunks) {
        png_text text{};
        text.key = const_cast<char *>(chunk.key.c_str());
        text.text = const_cast<char *>(chunk.value.c_str());
        text.compression = chunk.compression;
        if (chunk.compression >= PNG_ITXT_COMPRESSION_NONE) text.itxt_length = chunk.value.size();
        else text.text_length = chunk.value.size();
        out.push_back(text);
    }
    return out;
}

// Test-only: the specs are trusted, so a libpng error simply aborts via the default handler.
bool write(png_structp png, png_infop info, const RawPng &spec, std::vector<png_bytep> &rows,
           std::vector<png_color> &palette, std::vector<uint8_t> &out) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_write_fn(png, &out, append, flush);
    png_set_IHDR(png, info, spec.width, spec.height, spec.bit_depth, spec.color_type,
                 spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
    if (!spec.palette_alpha.empty())
        png_set_tRNS(png, info, const_cast<png_bytep>(spec.palette_alpha.data()),
                     static_cast<int>(spec.palette_alpha.size()), nullptr);
    std::vector<png_text> before = to_png_text(spec.text_before_image);
    std::vector<png_text> after = to_png_text(spec.text_after_image);
    if (!before.empty()) png_set_text(png, info, before.data(), static_cast<int>(before.size()));
    png_write_info(png, info);
    png_write_image(png, rows.data());
    // Text set after png_write_info lands between the last IDAT and IEND.
    if (!after.empty()) png_set_text(png, info, after.data(), static_cast<int>(after.size()));
    png_write_end(png, info);
    return true;
}

}  // namespace

std::vector<uint8_t> write_raw_png(const RawPng &spec) {
    const size_t row_bytes = spec.rows.size() / size_t(spec.height);
    std::vector<png_bytep> rows(size_t(spec.height));
    for (int y = 0; y < spec.height; ++y) rows[size_t(y)] = const_cast<png_bytep>(spec.rows.data() + y * row_bytes);
    std::vector<png_color> palette;
    for (size_t i = 0; i + 2 < spec.palette.size(); i += 3)
        palette.push_back({spec.palette[i], spec.palette[i + 1], spec.palette[i + 2]});
    std::vector<uint8_t> out;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    const bool ok = write(png, info, spec, rows, palette, out);
    png_destroy_write_struct(&png, &info);
    if (!ok) throw std::runtime_error("write_raw_png: libpng refused the test spec");
    return out;
}

}  // namespace sdw::test
