#include "image/png.h"
#include "raw_png_writer.h"

#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>

namespace sdw {
namespace {

using test::RawPng;
using test::write_raw_png;

RawPng raw_spec(int width, int height, int bit_depth, int color_type, bool interlaced = false) {
    RawPng spec;
    spec.width = width;
    spec.height = height;
    spec.bit_depth = bit_depth;
    spec.color_type = color_type;
    spec.interlaced = interlaced;
    return spec;
}

Image random_image(int width, int height, int channels, uint32_t seed) {
    Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    img.pixels.resize(size_t(width) * height * channels);
    std::mt19937 rng(seed);
    for (auto &p : img.pixels) p = static_cast<uint8_t>(rng());
    return img;
}

// The chunk types of a PNG byte stream, in order.
std::vector<std::string> chunk_types(const std::vector<uint8_t> &png) {
    std::vector<std::string> types;
    size_t at = 8;
    while (at + 8 <= png.size()) {
        const uint32_t length = (uint32_t{png[at]} << 24) | (uint32_t{png[at + 1]} << 16) |
                                (uint32_t{png[at + 2]} << 8) | png[at + 3];
        types.emplace_back(reinterpret_cast<const char *>(&png[at + 4]), 4);
        at += 12 + length;
    }
    return types;
}

std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void expect_corrupt(const std::vector<uint8_t> &bytes) {
    try {
        (void)decode_png(bytes.data(), bytes.size());
        FAIL() << "decode_png accepted " << bytes.size() << " bytes of corrupt data";
    } catch (const std::runtime_error &e) {
        EXPECT_EQ(std::string(e.what()).rfind("PNG: ", 0), 0u) << e.what();
    }
}

TEST(Png, RgbRoundTripIsLossless) {
    const Image img = random_image(7, 5, 3, 1);
    const std::vector<uint8_t> png = encode_png(img);
    ASSERT_TRUE(looks_like_png(png.data(), png.size()));
    EXPECT_EQ(png[25], PNG_COLOR_TYPE_RGB);  // IHDR colour type byte
    const Image back = decode_png(png.data(), png.size());
    EXPECT_EQ(back.width, 7);
    EXPECT_EQ(back.height, 5);
    EXPECT_EQ(back.channels, 3);
    EXPECT_EQ(back.pixels, img.pixels);
}

TEST(Png, GreyRoundTripAndExpansionToRgb) {
    const Image img = random_image(9, 4, 1, 2);
    const std::vector<uint8_t> png = encode_png(img);
    EXPECT_EQ(png[25], PNG_COLOR_TYPE_GRAY);
    const Image grey = decode_png_grey(png.data(), png.size());
    EXPECT_EQ(grey.channels, 1);
    EXPECT_EQ(grey.pixels, img.pixels);
    const Image rgb = decode_png(png.data(), png.size());
    ASSERT_EQ(rgb.pixels.size(), img.pixels.size() * 3);
    for (size_t i = 0; i < img.pixels.size(); ++i)
        for (int c = 0; c < 3; ++c) EXPECT_EQ(rgb.pixels[3 * i + c], img.pixels[i]);
}

TEST(Png, RgbaDropsAlphaLikePilConvertRgb) {
    RawPng spec = raw_spec(2, 1, 8, PNG_COLOR_TYPE_RGB_ALPHA);
    spec.rows = {10, 20, 30, 0, 200, 100, 50, 128};
    const auto png = write_raw_png(spec);
    const Image img = decode_png(png.data(), png.size());
    EXPECT_EQ(img.pixels, (std::vector<uint8_t>{10, 20, 30, 200, 100, 50}));
}

TEST(Png, GreyAlphaDropsAlpha) {
    RawPng spec = raw_spec(3, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA);
    spec.rows = {0, 255, 77, 0, 255, 10};
    const auto png = write_raw_png(spec);
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels,
              (std::vector<uint8_t>{0, 0, 0, 77, 77, 77, 255, 255, 255}));
    EXPECT_EQ(decode_png_grey(png.data(), png.size()).pixels, (std::vector<uint8_t>{0, 77, 255}));
}

TEST(Png, AlphaDecoderKeepsEveryFlavoursAlpha) {
    RawPng rgba = raw_spec(3, 1, 8, PNG_COLOR_TYPE_RGB_ALPHA);
    rgba.rows = {10, 20, 30, 0, 200, 100, 50, 128, 1, 2, 3, 255};
    auto png = write_raw_png(rgba);
    Image alpha = decode_png_alpha(png.data(), png.size());
    EXPECT_EQ(alpha.width, 3);
    EXPECT_EQ(alpha.height, 1);
    EXPECT_EQ(alpha.channels, 1);
    EXPECT_EQ(alpha.pixels, (std::vector<uint8_t>{0, 128, 255}));

    RawPng grey_alpha = raw_spec(3, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA);
    grey_alpha.rows = {0, 255, 77, 0, 255, 10};
    png = write_raw_png(grey_alpha);
    EXPECT_EQ(decode_png_alpha(png.data(), png.size()).pixels, (std::vector<uint8_t>{255, 0, 10}));

    // tRNS covers the first palette entries; the others are opaque.
    RawPng palette = raw_spec(4, 1, 8, PNG_COLOR_TYPE_PALETTE);
    palette.palette = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    palette.palette_alpha = {0, 128};
    palette.rows = {2, 1, 0, 2};
    png = write_raw_png(palette);
    EXPECT_EQ(decode_png_alpha(png.data(), png.size()).pixels, (std::vector<uint8_t>{255, 128, 0, 255}));

    RawPng sixteen = raw_spec(2, 1, 16, PNG_COLOR_TYPE_RGB_ALPHA);
    sixteen.rows = {1, 2, 3, 4, 5, 6, 0x00, 0xFF, 1, 2, 3, 4, 5, 6, 0xAB, 0x00};
    png = write_raw_png(sixteen);
    EXPECT_EQ(decode_png_alpha(png.data(), png.size()).pixels, (std::vector<uint8_t>{0x00, 0xAB}));

    const Image img = random_image(13, 11, 4, 12);
    RawPng interlaced = raw_spec(13, 11, 8, PNG_COLOR_TYPE_RGB_ALPHA, true);
    interlaced.rows = img.pixels;
    png = write_raw_png(interlaced);
    alpha = decode_png_alpha(png.data(), png.size());
    ASSERT_EQ(alpha.pixels.size(), size_t(13 * 11));
    for (size_t i = 0; i < alpha.pixels.size(); ++i) ASSERT_EQ(alpha.pixels[i], img.pixels[4 * i + 3]) << i;
    // The colour decoders still drop that alpha.
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels.size(), size_t(13 * 11 * 3));
}

TEST(Png, AlphaDecoderIsOpaqueWithoutAlpha) {
    const std::vector<uint8_t> rgb = encode_png(random_image(5, 3, 3, 13));
    EXPECT_EQ(decode_png_alpha(rgb.data(), rgb.size()).pixels, std::vector<uint8_t>(15, 255));
    const std::vector<uint8_t> grey = encode_png(random_image(5, 3, 1, 14));
    EXPECT_EQ(decode_png_alpha(grey.data(), grey.size()).pixels, std::vector<uint8_t>(15, 255));
    RawPng low_grey = raw_spec(8, 1, 1, PNG_COLOR_TYPE_GRAY);
    low_grey.rows = {0b10100001};
    auto png = write_raw_png(low_grey);
    EXPECT_EQ(decode_png_alpha(png.data(), png.size()).pixels, std::vector<uint8_t>(8, 255));
    RawPng palette = raw_spec(3, 1, 4, PNG_COLOR_TYPE_PALETTE);
    palette.palette = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    palette.rows = {0x21, 0x00};
    png = write_raw_png(palette);
    EXPECT_EQ(decode_png_alpha(png.data(), png.size()).pixels, std::vector<uint8_t>(3, 255));
}

TEST(Png, AlphaDecoderRefusesLikeTheOthers) {
    RawPng spec = raw_spec(6, 5, 8, PNG_COLOR_TYPE_RGB_ALPHA);
    spec.rows = random_image(6, 5, 4, 15).pixels;
    const auto png = write_raw_png(spec);
    for (size_t length = 0; length < png.size(); ++length) {
        try {
            (void)decode_png_alpha(png.data(), length);
            FAIL() << "accepted a prefix of " << length << " bytes";
        } catch (const std::runtime_error &e) {
            EXPECT_EQ(std::string(e.what()).rfind("PNG: ", 0), 0u) << e.what();
        }
    }
    PngDecodeLimits small;
    small.max_pixels = 29;
    EXPECT_THROW((void)decode_png_alpha(png.data(), png.size(), small), std::runtime_error);
    small.max_pixels = 30;
    EXPECT_NO_THROW((void)decode_png_alpha(png.data(), png.size(), small));
}

TEST(Png, PaletteWithTransparencyLooksUpColours) {
    RawPng spec = raw_spec(4, 1, 8, PNG_COLOR_TYPE_PALETTE);
    spec.palette = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    spec.palette_alpha = {0, 128};
    spec.rows = {2, 1, 0, 2};
    const auto png = write_raw_png(spec);
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels,
              (std::vector<uint8_t>{0, 0, 255, 0, 255, 0, 255, 0, 0, 0, 0, 255}));
}

TEST(Png, FourBitPaletteUnpacks) {
    RawPng spec = raw_spec(3, 1, 4, PNG_COLOR_TYPE_PALETTE);
    spec.palette = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    spec.rows = {0x21, 0x00};  // indices 2, 1, 0 (low nibble of the second byte is padding)
    const auto png = write_raw_png(spec);
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels, (std::vector<uint8_t>{7, 8, 9, 4, 5, 6, 1, 2, 3}));
}

TEST(Png, LowBitDepthGreyScalesToFullRange) {
    {
        RawPng spec = raw_spec(8, 1, 1, PNG_COLOR_TYPE_GRAY);
        spec.rows = {0b10100001};
        const auto png = write_raw_png(spec);
        EXPECT_EQ(decode_png_grey(png.data(), png.size()).pixels,
                  (std::vector<uint8_t>{255, 0, 255, 0, 0, 0, 0, 255}));
    }
    {
        RawPng spec = raw_spec(4, 1, 2, PNG_COLOR_TYPE_GRAY);
        spec.rows = {0b00011011};
        const auto png = write_raw_png(spec);
        EXPECT_EQ(decode_png_grey(png.data(), png.size()).pixels, (std::vector<uint8_t>{0, 85, 170, 255}));
    }
    {
        RawPng spec = raw_spec(2, 1, 4, PNG_COLOR_TYPE_GRAY);
        spec.rows = {0x0F, 0x00};
        spec.rows.resize(1);
        const auto png = write_raw_png(spec);
        EXPECT_EQ(decode_png_grey(png.data(), png.size()).pixels, (std::vector<uint8_t>{0, 255}));
    }
}

TEST(Png, SixteenBitKeepsTheHighByte) {
    RawPng rgb = raw_spec(1, 1, 16, PNG_COLOR_TYPE_RGB);
    rgb.rows = {0x12, 0xFF, 0xAB, 0x00, 0xFF, 0x80};
    auto png = write_raw_png(rgb);
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels, (std::vector<uint8_t>{0x12, 0xAB, 0xFF}));

    RawPng rgba = raw_spec(1, 1, 16, PNG_COLOR_TYPE_RGB_ALPHA);
    rgba.rows = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x00};
    png = write_raw_png(rgba);
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels, (std::vector<uint8_t>{0x01, 0x03, 0x05}));

    RawPng grey = raw_spec(2, 1, 16, PNG_COLOR_TYPE_GRAY);
    grey.rows = {0x7F, 0xFF, 0xC0, 0x01};
    png = write_raw_png(grey);
    EXPECT_EQ(decode_png_grey(png.data(), png.size()).pixels, (std::vector<uint8_t>{0x7F, 0xC0}));
}

TEST(Png, InterlacedDecodesToTheSamePixels) {
    const Image img = random_image(13, 11, 3, 3);
    RawPng spec = raw_spec(13, 11, 8, PNG_COLOR_TYPE_RGB, true);
    spec.rows = img.pixels;
    const auto png = write_raw_png(spec);
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels, img.pixels);
}

TEST(Png, GreyConversionUsesPilLuma) {
    // PIL's Image.convert("L") gives 76, 150, 29 for pure red, green and blue.
    Image img;
    img.width = 4;
    img.height = 1;
    img.pixels = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    const auto png = encode_png(img);
    EXPECT_EQ(decode_png_grey(png.data(), png.size()).pixels, (std::vector<uint8_t>{76, 150, 29, 255}));
}

TEST(Png, TextChunksRoundTrip) {
    const std::map<std::string, std::string> text = {
        {"parameters", "a cat\nSteps: 20, Sampler: DDIM, CFG scale: 7.5, Seed: 42"},
        {"Comment", "café, 猫 🎨"},
        {"empty", ""},
    };
    const Image img = random_image(3, 3, 3, 4);
    const auto png = encode_png(img, text);
    const auto types = chunk_types(png);
    EXPECT_EQ(std::count(types.begin(), types.end(), "tEXt"), 2);  // ASCII values
    EXPECT_EQ(std::count(types.begin(), types.end(), "iTXt"), 1);  // the UTF-8 one
    EXPECT_EQ(read_png_text(png.data(), png.size()), text);
    EXPECT_EQ(decode_png(png.data(), png.size()).pixels, img.pixels);
}

TEST(Png, ReadsLatin1AndCompressedTextAnywhereInTheFile) {
    RawPng spec = raw_spec(1, 1, 8, PNG_COLOR_TYPE_GRAY);
    spec.rows = {42};
    spec.text_before_image = {{"Title", "caf\xe9", PNG_TEXT_COMPRESSION_NONE},
                              {"Big", std::string(5000, 'z'), PNG_TEXT_COMPRESSION_zTXt}};
    spec.text_after_image = {{"parameters", "after IDAT", PNG_TEXT_COMPRESSION_NONE},
                             {"Packed", "ünïcode", PNG_ITXT_COMPRESSION_zTXt}};
    const auto png = write_raw_png(spec);
    const auto types = chunk_types(png);
    ASSERT_LT(std::find(types.begin(), types.end(), "IDAT"), std::find(types.begin(), types.end(), "iTXt"));
    const auto text = read_png_text(png.data(), png.size());
    EXPECT_EQ(text.at("Title"), "café");
    EXPECT_EQ(text.at("Big"), std::string(5000, 'z'));
    EXPECT_EQ(text.at("parameters"), "after IDAT");
    EXPECT_EQ(text.at("Packed"), "ünïcode");
}

TEST(Png, RejectsInvalidTextKeysAndValues) {
    const Image img = random_image(1, 1, 3, 5);
    for (const std::string &key : std::vector<std::string>{"", " lead", "trail ", "dou  ble", std::string(80, 'k'), "tab\tkey", "nön"})
        EXPECT_THROW(encode_png(img, {{key, "v"}}), std::invalid_argument) << key;
    EXPECT_THROW(encode_png(img, {{"k", std::string("a\0b", 3)}}), std::invalid_argument);
    EXPECT_NO_THROW(encode_png(img, {{std::string(79, 'k'), "v"}}));
}

TEST(Png, RejectsInconsistentImages) {
    Image img = random_image(2, 2, 3, 6);
    img.channels = 4;
    EXPECT_THROW(encode_png(img), std::invalid_argument);
    img = random_image(2, 2, 3, 6);
    img.pixels.pop_back();
    EXPECT_THROW(encode_png(img), std::invalid_argument);
    EXPECT_THROW(encode_png(Image{}), std::invalid_argument);
}

TEST(Png, RejectsDataThatIsNotPng) {
    const std::string jpeg = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01";
    for (const std::string &data : {std::string(), std::string("hello"), jpeg, std::string("\x89PNG")}) {
        try {
            (void)decode_png(reinterpret_cast<const uint8_t *>(data.data()), data.size());
            FAIL() << "accepted " << data;
        } catch (const std::runtime_error &e) {
            EXPECT_NE(std::string(e.what()).find("not a PNG"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW((void)decode_png(nullptr, 0), std::runtime_error);
}

TEST(Png, EveryTruncationIsRejected) {
    RawPng spec = raw_spec(6, 5, 8, PNG_COLOR_TYPE_RGB);
    spec.rows = random_image(6, 5, 3, 7).pixels;
    spec.text_after_image = {{"k", "v", PNG_TEXT_COMPRESSION_NONE}};
    const auto png = write_raw_png(spec);
    for (size_t length = 8; length < png.size(); ++length)
        expect_corrupt(std::vector<uint8_t>(png.begin(), png.begin() + long(length)));
}

TEST(Png, CorruptCriticalChunksAreRejected) {
    const auto png = encode_png(random_image(16, 16, 3, 8));
    auto bad_ihdr = png;
    bad_ihdr[16] ^= 0x01;  // width byte: IHDR CRC no longer matches
    expect_corrupt(bad_ihdr);
    auto bad_idat = png;
    bad_idat[bad_idat.size() - 20] ^= 0x40;  // inside the IDAT payload/CRC
    expect_corrupt(bad_idat);
}

TEST(Png, ChunkLongerThanTheFileIsRefusedBeforeLibpngAllocatesIt) {
    // Found by fuzz_png (fuzz/corpus/png/regression_itxt_declares_128mib.png): libpng
    // allocates a text chunk's declared length before reading it, 128 MiB for a 352-byte
    // file, whatever png_set_chunk_malloc_max says.
    auto png = encode_png(random_image(8, 8, 3, 1), {{"k", "v"}});
    const std::string type = "tEXt";
    const auto at = std::search(png.begin(), png.end(), type.begin(), type.end());
    ASSERT_NE(at, png.end());
    at[-4] = 0x08;  // big-endian length 0x08000000: 128 MiB
    at[-3] = at[-2] = at[-1] = 0;
    try {
        (void)decode_png(png.data(), png.size());
        FAIL() << "decode_png accepted a chunk longer than the file";
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("declares 134217728 bytes"), std::string::npos) << e.what();
    }
    // Found by fuzz_png too (fuzz/corpus/png/regression_ztxt_header_at_the_end.png): the
    // file ends after the chunk's length and type, before its CRC; libpng allocates on
    // those 8 bytes alone (1.4 GB there).
    png.resize(static_cast<size_t>(at - png.begin()) + 4 + 1);
    try {
        (void)decode_png(png.data(), png.size());
        FAIL() << "decode_png accepted a chunk header at the end of the file";
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("declares 134217728 bytes, more than the 0 left"), std::string::npos)
            << e.what();
    }
}

TEST(Png, RandomMutationsNeverCrash) {
    // Run under ASan: every mutated file must either decode to a consistent image or
    // throw std::runtime_error; no leak, no overflow, no other exception.
    const auto png = encode_png(random_image(24, 17, 3, 9), {{"parameters", "x"}});
    std::mt19937 rng(10);
    int rejected = 0;
    for (int iteration = 0; iteration < 3000; ++iteration) {
        auto bytes = png;
        const int flips = 1 + int(rng() % 4);
        for (int f = 0; f < flips; ++f) bytes[8 + rng() % (bytes.size() - 8)] = static_cast<uint8_t>(rng());
        try {
            const Image img = decode_png(bytes.data(), bytes.size());
            EXPECT_EQ(img.pixels.size(), size_t(img.width) * img.height * 3);
            (void)read_png_text(bytes.data(), bytes.size());
        } catch (const std::runtime_error &) {
            ++rejected;
        }
    }
    EXPECT_GT(rejected, 0);
}

TEST(Png, DecompressionBombIsRefusedFromTheHeader) {
    Image img = random_image(64, 64, 1, 11);
    const auto png = encode_png(img);
    PngDecodeLimits small;
    small.max_pixels = 64 * 63;
    EXPECT_THROW((void)decode_png(png.data(), png.size(), small), std::runtime_error);
    small = {};
    small.max_width = 32;
    EXPECT_THROW((void)decode_png(png.data(), png.size(), small), std::runtime_error);
    small = {};
    small.max_pixels = 64 * 64;
    EXPECT_NO_THROW((void)decode_png(png.data(), png.size(), small));

    // A header declaring 60000 x 60000 (10 GiB of RGB) with hardly any data.
    auto bomb = png;
    const uint8_t big[4] = {0x00, 0x00, 0xEA, 0x60};
    std::memcpy(&bomb[16], big, 4);
    std::memcpy(&bomb[20], big, 4);
    const uint32_t crc = png_uint_32(crc32(0, &bomb[12], 17));  // over "IHDR" + 13 bytes
    bomb[29] = uint8_t(crc >> 24);
    bomb[30] = uint8_t(crc >> 16);
    bomb[31] = uint8_t(crc >> 8);
    bomb[32] = uint8_t(crc);
    try {
        (void)decode_png(bomb.data(), bomb.size());
        FAIL();
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("60000"), std::string::npos) << e.what();
    }
}

TEST(Png, DecodesTheDiffusersGoldenImage) {
    const auto bytes = read_file(SDW_TEST_FIXTURES "/golden/tiny-sd/txt2img.ddim.image.png");
    ASSERT_FALSE(bytes.empty());
    const Image img = decode_png(bytes.data(), bytes.size());
    EXPECT_EQ(img.width, 64);
    EXPECT_EQ(img.height, 64);
    const auto again = encode_png(img);
    EXPECT_EQ(decode_png(again.data(), again.size()).pixels, img.pixels);
}

}  // namespace
}  // namespace sdw
