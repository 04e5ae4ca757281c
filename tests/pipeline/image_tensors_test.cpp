// The pixel <-> tensor conversions follow diffusers' VaeImageProcessor arithmetic.
#include "pipeline/float_tensor.h"
#include "pipeline/image_tensors.h"

#include <gtest/gtest.h>

namespace sdw {
namespace {

TEST(ImageTensors, RgbToMinusOneOne) {
    Image img{2, 1, 3, {0, 128, 255, 10, 20, 30}};
    const FloatTensor t = image_to_tensor(img);
    ASSERT_EQ(t.shape, (std::vector<int64_t>{1, 3, 1, 2}));
    EXPECT_EQ(t.data[0], 2.0f * (0.0f / 255.0f) - 1.0f);     // R of pixel 0
    EXPECT_EQ(t.data[1], 2.0f * (10.0f / 255.0f) - 1.0f);    // R of pixel 1
    EXPECT_EQ(t.data[2], 2.0f * (128.0f / 255.0f) - 1.0f);   // G of pixel 0
    EXPECT_EQ(t.data[4], 1.0f);                              // B of pixel 0
}

TEST(ImageTensors, MaskBinarizesAtHalf) {
    Image mask{4, 1, 1, {0, 127, 128, 255}};
    const FloatTensor t = mask_to_tensor(mask);
    EXPECT_EQ(t.data, (std::vector<float>{0, 0, 1, 1}));  // 127/255 < 0.5 <= 128/255
}

TEST(ImageTensors, MaskedImageZeroesRepaintedPixels) {
    FloatTensor image({1, 2, 1, 2});
    image.data = {1, 2, 3, 4};
    FloatTensor mask({1, 1, 1, 2});
    mask.data = {1, 0};
    EXPECT_EQ(masked_image(image, mask).data, (std::vector<float>{0, 2, 0, 4}));
}

TEST(ImageTensors, NearestResizePicksTopLeftOfEachBlock) {
    FloatTensor x({1, 1, 4, 4});
    for (int i = 0; i < 16; ++i) x.data[i] = static_cast<float>(i);
    const FloatTensor y = resize_nearest(x, 2, 2);
    EXPECT_EQ(y.data, (std::vector<float>{0, 2, 8, 10}));
}

TEST(ImageTensors, DecodedToPixelsClampsAndRoundsHalfToEven) {
    FloatTensor d({1, 3, 1, 1});
    // 0.5 -> 0.75 -> 191.25 -> 191; -2 clamps to 0; (2*(0.5/255)-1) -> 0.5 level... ties to even
    d.data = {0.5f, -2.0f, 2.0f * (128.5f / 255.0f) - 1.0f};
    const std::vector<Image> images = tensor_to_images(d);
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0].pixels[0], 191);
    EXPECT_EQ(images[0].pixels[1], 0);
    EXPECT_NEAR(images[0].pixels[2], 128, 1);
}

TEST(FloatTensorOps, RepeatAndConcat) {
    FloatTensor a({1, 2});
    a.data = {1, 2};
    FloatTensor b({1, 2});
    b.data = {3, 4};
    EXPECT_EQ(repeat_batch(a, 2).data, (std::vector<float>{1, 2, 1, 2}));
    EXPECT_EQ(concat_batch(a, b).shape, (std::vector<int64_t>{2, 2}));
    FloatTensor x({2, 1, 1, 1}), m({2, 2, 1, 1});
    x.data = {1, 2};
    m.data = {5, 6, 7, 8};
    EXPECT_EQ(concat_channels({&x, &m}).data, (std::vector<float>{1, 5, 6, 2, 7, 8}));
}

}  // namespace
}  // namespace sdw
