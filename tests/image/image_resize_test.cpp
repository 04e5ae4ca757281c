#include "image/image_resize.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sdw {
namespace {

// The test pattern, identical to the Python below:
//   pattern(w, h, ch) = bytes(((x * 37 + y * 11 + c * 71) * 13 + (x * y) % 7 * 29) % 256
//                             for y in range(h) for x in range(w) for c in range(ch))
Image pattern(int width, int height, int channels) {
    Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < channels; ++c)
                img.pixels.push_back(
                    static_cast<uint8_t>(((x * 37 + y * 11 + c * 71) * 13 + (x * y) % 7 * 29) % 256));
    return img;
}

// Expected bytes, produced with Pillow 13.0.0 (tests/clients/requirements.txt's pin):
//   rgb = Image.frombytes("RGB", (16, 12), pattern(16, 12, 3))
//   grey = Image.frombytes("L", (5, 4), pattern(5, 4, 1))
//   k_down2x = rgb.resize((8, 6), Image.LANCZOS).tobytes()
//   k_up     = grey.resize((9, 7), Image.LANCZOS).tobytes()
//   k_odd    = rgb.resize((7, 12), Image.LANCZOS).tobytes()   (width only)
//   k_odd2   = rgb.resize((16, 5), Image.LANCZOS).tobytes()   (height only)
//   k_crop_wide, k_crop_tall = a1111_crop(rgb, 8, 8), a1111_crop(rgb, 16, 8), where
//   a1111_crop is resize_image's resize_mode 1 from A1111's modules/images.py:
//     ratio = width / height; src_ratio = im.width / im.height
//     src_w = width if ratio > src_ratio else im.width * height // im.height
//     src_h = height if ratio <= src_ratio else im.height * width // im.width
//     resized = im.resize((src_w, src_h), resample=Image.LANCZOS)
//     res = Image.new("RGB", (width, height))
//     res.paste(resized, box=(width // 2 - src_w // 2, height // 2 - src_h // 2))
const std::vector<uint8_t> k_down2x = {
    117, 107, 119, 163, 63, 206, 137, 26, 173, 101, 140, 155, 149, 116, 139, 191, 71, 167, 134,
    67, 189, 134, 143, 85, 108, 149, 126, 98, 108, 154, 167, 93, 156, 149, 137, 76, 98, 146,
    176, 172, 98, 143, 93, 144, 111, 154, 89, 115, 126, 159, 98, 139, 98, 113, 174, 144, 121,
    154, 166, 109, 95, 175, 134, 103, 143, 130, 102, 101, 90, 127, 103, 122, 193, 137, 71, 157,
    35, 180, 122, 120, 127, 106, 132, 148, 165, 105, 64, 138, 95, 188, 123, 129, 128, 96, 157,
    148, 93, 94, 110, 98, 101, 156, 134, 50, 192, 122, 118, 117, 131, 144, 170, 178, 54, 151,
    132, 105, 131, 119, 132, 172, 93, 118, 100, 80, 148, 102, 134, 151, 134, 136, 171, 162, 118,
    149, 134, 105, 125, 103, 134, 158, 77, 142, 92, 129
};
const std::vector<uint8_t> k_up = {
    0, 50, 207, 255, 198, 175, 161, 140, 131, 53, 97, 194, 222, 181, 166, 154, 135, 126, 140,
    144, 151, 150, 144, 142, 140, 134, 132, 87, 77, 62, 81, 112, 113, 121, 150, 169, 30, 41, 62,
    75, 79, 86, 122, 174, 202, 110, 145, 177, 115, 42, 64, 143, 187, 203, 178, 227, 255, 148,
    25, 57, 158, 190, 194
};
const std::vector<uint8_t> k_odd = {
    133, 139, 73, 183, 47, 218, 84, 88, 151, 49, 198, 66, 204, 103, 57, 139, 38, 199, 66, 183,
    119, 142, 41, 196, 137, 36, 191, 134, 33, 188, 176, 75, 230, 178, 77, 233, 172, 71, 224,
    212, 111, 50, 44, 218, 97, 123, 101, 183, 224, 117, 74, 97, 207, 128, 163, 60, 162, 71, 157,
    51, 94, 48, 165, 165, 119, 105, 118, 112, 162, 125, 93, 155, 91, 132, 56, 134, 158, 143,
    166, 137, 128, 147, 150, 104, 80, 137, 147, 122, 91, 121, 169, 184, 70, 140, 171, 164, 106,
    130, 165, 55, 93, 123, 147, 91, 99, 142, 158, 52, 191, 96, 115, 170, 132, 147, 129, 206, 92,
    84, 148, 146, 134, 100, 74, 86, 87, 143, 174, 159, 117, 124, 82, 149, 180, 135, 139, 113,
    85, 126, 136, 134, 114, 114, 173, 104, 143, 126, 136, 213, 114, 50, 148, 34, 195, 50, 176,
    130, 128, 171, 35, 207, 65, 145, 109, 95, 186, 44, 217, 94, 119, 18, 173, 114, 13, 168, 111,
    10, 165, 153, 52, 207, 155, 54, 209, 149, 48, 203, 189, 88, 243, 21, 192, 71, 100, 189, 170,
    201, 86, 162, 73, 228, 98, 143, 123, 141, 158, 135, 28, 68, 143, 142, 142, 99, 82, 99, 73,
    132, 88, 160, 158, 171, 154, 136, 137, 124, 106, 137, 116, 108, 125, 127, 81, 57, 111, 127,
    99, 178, 82, 146, 164, 137, 120, 146, 185, 67, 110, 135, 113, 181, 86, 182, 65, 178
};
const std::vector<uint8_t> k_odd2 = {
    66, 111, 124, 157, 112, 105, 150, 99, 211, 142, 41, 196, 137, 39, 214, 144, 32, 132, 131,
    123, 139, 103, 146, 159, 92, 151, 144, 196, 76, 148, 181, 80, 138, 199, 78, 186, 117, 86,
    178, 124, 71, 175, 148, 139, 88, 129, 134, 89, 109, 134, 151, 135, 129, 123, 44, 202, 75,
    122, 23, 176, 227, 113, 177, 106, 179, 103, 178, 74, 79, 159, 185, 85, 97, 168, 162, 60,
    171, 153, 161, 60, 229, 162, 152, 39, 88, 149, 116, 64, 105, 130, 175, 74, 112, 147, 112,
    107, 158, 180, 66, 168, 136, 79, 182, 95, 137, 129, 16, 183, 160, 159, 64, 163, 153, 133,
    121, 167, 159, 150, 120, 108, 108, 175, 118, 122, 149, 26, 168, 67, 219, 49, 198, 141, 118,
    97, 87, 144, 106, 95, 90, 124, 154, 103, 145, 113, 126, 95, 112, 137, 96, 74, 122, 81, 189,
    115, 69, 169, 105, 27, 198, 134, 101, 162, 119, 99, 112, 85, 111, 150, 153, 135, 113, 174,
    117, 124, 154, 53, 208, 183, 66, 151, 147, 71, 144, 97, 138, 143, 136, 173, 177, 98, 114,
    163, 68, 122, 135, 128, 93, 95, 9, 179, 59, 97, 156, 151, 199, 92, 151, 72, 164, 133, 159,
    155, 148, 124, 167, 174, 173, 132, 134, 44, 218, 121, 136, 35, 190, 136, 131, 17, 118, 218,
    106, 133, 80, 97, 159, 108, 103, 119, 105, 171
};
const std::vector<uint8_t> k_crop_wide = {
    195, 65, 197, 140, 32, 204, 104, 41, 169, 76, 158, 155, 134, 118, 118, 208, 99, 106, 160,
    40, 241, 141, 69, 168, 96, 142, 142, 143, 42, 213, 194, 79, 110, 155, 138, 131, 113, 140,
    191, 180, 43, 207, 142, 139, 103, 96, 118, 128, 71, 144, 89, 160, 80, 189, 117, 167, 104,
    150, 118, 65, 65, 191, 121, 151, 114, 158, 121, 150, 93, 100, 105, 140, 124, 113, 115, 192,
    93, 102, 167, 152, 128, 174, 174, 120, 98, 183, 148, 91, 125, 164, 103, 134, 81, 97, 65,
    107, 200, 69, 159, 100, 74, 160, 157, 182, 116, 98, 111, 162, 137, 143, 4, 181, 92, 160, 83,
    160, 139, 154, 143, 96, 128, 50, 173, 119, 25, 179, 102, 63, 155, 92, 105, 134, 178, 94,
    152, 164, 62, 196, 155, 22, 199, 116, 129, 181, 59, 183, 81, 125, 99, 207, 158, 101, 162,
    143, 145, 113, 99, 212, 140, 136, 91, 154, 197, 116, 35, 91, 138, 109, 52, 126, 85, 144,
    138, 116, 91, 181, 116, 147, 155, 204, 133, 141, 122, 95, 90, 135, 81, 196, 98, 174, 101,
    101
};
const std::vector<uint8_t> k_crop_tall = {
    30, 185, 84, 57, 212, 111, 84, 239, 138, 111, 10, 165, 191, 90, 245, 218, 117, 16, 245, 144,
    43, 69, 224, 123, 96, 251, 150, 123, 22, 177, 150, 49, 204, 230, 129, 28, 1, 156, 55, 28,
    183, 82, 108, 7, 162, 135, 34, 189, 173, 72, 227, 229, 128, 27, 29, 184, 83, 138, 37, 192,
    194, 93, 248, 47, 202, 101, 103, 2, 157, 212, 111, 10, 12, 167, 66, 68, 223, 122, 177, 76,
    231, 233, 132, 31, 86, 241, 140, 142, 41, 196, 251, 150, 49, 51, 206, 105, 60, 215, 114,
    145, 44, 199, 27, 182, 81, 112, 11, 166, 250, 149, 48, 79, 234, 133, 217, 116, 15, 99, 254,
    153, 184, 83, 238, 66, 221, 120, 151, 50, 205, 33, 188, 87, 118, 17, 172, 0, 155, 54, 138,
    37, 192, 223, 122, 21, 203, 102, 1, 61, 216, 115, 228, 127, 26, 139, 38, 193, 253, 152, 51,
    164, 63, 218, 75, 230, 129, 242, 141, 40, 100, 255, 154, 11, 166, 65, 178, 77, 232, 36, 191,
    90, 203, 102, 1, 114, 13, 168, 25, 180, 79, 139, 38, 193, 90, 245, 144, 233, 132, 31, 173,
    72, 227, 113, 12, 167, 53, 208, 107, 249, 148, 47, 189, 88, 243, 129, 28, 183, 16, 171, 70,
    212, 111, 10, 152, 51, 206, 92, 247, 146, 32, 187, 86, 228, 127, 26, 168, 67, 222, 55, 210,
    109, 233, 132, 31, 202, 101, 0, 171, 70, 225, 140, 39, 194, 109, 8, 163, 78, 233, 132, 47,
    202, 101, 16, 171, 70, 241, 140, 39, 210, 109, 8, 179, 78, 233, 148, 47, 202, 117, 16, 171,
    86, 241, 140, 55, 210, 109, 24, 179, 78, 120, 19, 174, 118, 17, 172, 116, 15, 170, 114, 13,
    168, 112, 11, 166, 110, 9, 164, 108, 7, 162, 159, 58, 213, 157, 56, 211, 155, 54, 209, 153,
    52, 207, 151, 50, 205, 149, 48, 203, 147, 46, 201, 198, 97, 252, 196, 95, 250, 7, 162, 61,
    34, 189, 88, 61, 216, 115, 88, 243, 142, 168, 67, 222, 195, 94, 249, 222, 121, 20, 46, 201,
    100, 73, 228, 127, 100, 255, 154, 127, 26, 181, 207, 106, 5, 234, 133, 32, 5, 160, 59, 85,
    240, 139, 112, 11, 166
};

void expect_pixels(const Image &got, int width, int height, int channels,
                   const std::vector<uint8_t> &expected) {
    ASSERT_EQ(got.width, width);
    ASSERT_EQ(got.height, height);
    ASSERT_EQ(got.channels, channels);
    ASSERT_EQ(got.pixels.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i)
        ASSERT_EQ(int(got.pixels[i]), int(expected[i])) << "byte " << i;
}

TEST(ImageResize, SameSizeIsAnExactCopy) {
    Image src = pattern(13, 9, 3);
    Image out = resize_lanczos(src, 13, 9);
    EXPECT_EQ(out.pixels, src.pixels);
    EXPECT_EQ(out.width, 13);
    EXPECT_EQ(out.height, 9);
}

TEST(ImageResize, ConstantImageStaysConstant) {
    for (uint8_t value : {uint8_t{0}, uint8_t{1}, uint8_t{128}, uint8_t{254}, uint8_t{255}}) {
        Image src;
        src.width = 40;
        src.height = 24;
        src.channels = 3;
        src.pixels.assign(40 * 24 * 3, value);
        for (auto [w, h] : {std::pair{20, 12}, std::pair{64, 64}, std::pair{7, 31}, std::pair{40, 5}}) {
            Image out = resize_lanczos(src, w, h);
            ASSERT_EQ(out.pixels.size(), size_t(w) * h * 3);
            for (uint8_t p : out.pixels) ASSERT_EQ(int(p), int(value)) << w << "x" << h;
        }
    }
}

TEST(ImageResize, DownsampleTwoXMatchesPillow) {
    expect_pixels(resize_lanczos(pattern(16, 12, 3), 8, 6), 8, 6, 3, k_down2x);
}

TEST(ImageResize, UpsampleGreyMatchesPillow) {
    expect_pixels(resize_lanczos(pattern(5, 4, 1), 9, 7), 9, 7, 1, k_up);
}

TEST(ImageResize, OneAxisOnlyMatchesPillow) {
    expect_pixels(resize_lanczos(pattern(16, 12, 3), 7, 12), 7, 12, 3, k_odd);
    expect_pixels(resize_lanczos(pattern(16, 12, 3), 16, 5), 16, 5, 3, k_odd2);
}

uint32_t fnv1a(const std::vector<uint8_t> &bytes) {
    uint32_t h = 2166136261u;
    for (uint8_t b : bytes) h = (h ^ b) * 16777619u;
    return h;
}

// Larger scale factors (wide filter supports), compared by a 32-bit FNV-1a of the bytes:
//   def fnv1a(data):
//       h = 2166136261
//       for b in data: h = ((h ^ b) * 16777619) & 0xFFFFFFFF
//       return h
//   big = Image.frombytes("RGB", (300, 200), pattern(300, 200, 3))
//   small = Image.frombytes("L", (37, 29), pattern(37, 29, 1))
//   fnv1a(big.resize((64, 48), Image.LANCZOS).tobytes())     == 0xaae0690b
//   fnv1a(small.resize((256, 200), Image.LANCZOS).tobytes()) == 0xfbe96bd8
//   fnv1a(big.resize((512, 96), Image.LANCZOS).tobytes())    == 0x34983967
// The last one grows the width and shrinks the height: Pillow 13 runs the vertical pass
// first there (the others, and every case above, horizontal first).
TEST(ImageResize, LargeFactorsMatchPillow) {
    EXPECT_EQ(fnv1a(resize_lanczos(pattern(300, 200, 3), 64, 48).pixels), 0xaae0690bu);
    EXPECT_EQ(fnv1a(resize_lanczos(pattern(37, 29, 1), 256, 200).pixels), 0xfbe96bd8u);
    EXPECT_EQ(fnv1a(resize_lanczos(pattern(300, 200, 3), 512, 96).pixels), 0x34983967u);
}

TEST(ImageResize, CropAndResizeMatchesA1111) {
    expect_pixels(resize_crop_lanczos(pattern(16, 12, 3), 8, 8), 8, 8, 3, k_crop_wide);
    expect_pixels(resize_crop_lanczos(pattern(16, 12, 3), 16, 8), 16, 8, 3, k_crop_tall);
}

TEST(ImageResize, CropAtTheSameAspectRatioIsAPlainResize) {
    Image src = pattern(24, 16, 3);
    EXPECT_EQ(resize_crop_lanczos(src, 12, 8).pixels, resize_lanczos(src, 12, 8).pixels);
    EXPECT_EQ(resize_crop_lanczos(src, 24, 16).pixels, src.pixels);
}

TEST(ImageResize, RefusesInconsistentInputAndEmptyTargets) {
    Image src = pattern(8, 8, 3);
    EXPECT_THROW(resize_lanczos(src, 0, 8), std::invalid_argument);
    EXPECT_THROW(resize_crop_lanczos(src, 8, -1), std::invalid_argument);
    src.pixels.pop_back();
    EXPECT_THROW(resize_lanczos(src, 4, 4), std::invalid_argument);
}

}  // namespace
}  // namespace sdw
