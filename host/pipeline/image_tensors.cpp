#include "pipeline/image_tensors.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sdw {

FloatTensor image_to_tensor(const Image &image) {
    if (image.channels != 3) throw std::invalid_argument("image_to_tensor: expected an RGB image");
    const int64_t h = image.height, w = image.width;
    FloatTensor t({1, 3, h, w});
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x) {
                const float v = static_cast<float>(image.pixels[(y * w + x) * 3 + c]) / 255.0f;
                t.data[(c * h + y) * w + x] = 2.0f * v - 1.0f;
            }
    return t;
}

FloatTensor mask_to_tensor(const Image &mask) {
    if (mask.channels != 1) throw std::invalid_argument("mask_to_tensor: expected a grey image");
    FloatTensor t({1, 1, mask.height, mask.width});
    for (size_t i = 0; i < t.numel(); ++i)
        t.data[i] = static_cast<float>(mask.pixels[i]) / 255.0f < 0.5f ? 0.0f : 1.0f;
    return t;
}

FloatTensor masked_image(const FloatTensor &image, const FloatTensor &mask) {
    const int64_t channels = image.shape.at(1);
    const size_t plane = static_cast<size_t>(image.shape.at(2) * image.shape.at(3));
    if (mask.numel() != plane) throw std::invalid_argument("masked_image: mask size differs from image");
    FloatTensor out = image;
    for (int64_t c = 0; c < channels; ++c)
        for (size_t i = 0; i < plane; ++i)
            if (!(mask.data[i] < 0.5f)) out.data[c * plane + i] = 0.0f;
    return out;
}

FloatTensor resize_nearest(const FloatTensor &x, int64_t h, int64_t w) {
    const int64_t n = x.shape.at(0), c = x.shape.at(1), ih = x.shape.at(2), iw = x.shape.at(3);
    FloatTensor out({n, c, h, w});
    // torch's legacy "nearest": src = floor(dst * (in / out)) computed in float.
    const float sy = static_cast<float>(ih) / static_cast<float>(h);
    const float sx = static_cast<float>(iw) / static_cast<float>(w);
    for (int64_t p = 0; p < n * c; ++p)
        for (int64_t y = 0; y < h; ++y) {
            const int64_t src_y = std::min<int64_t>(static_cast<int64_t>(std::floor(y * sy)), ih - 1);
            for (int64_t xx = 0; xx < w; ++xx) {
                const int64_t src_x =
                    std::min<int64_t>(static_cast<int64_t>(std::floor(xx * sx)), iw - 1);
                out.data[(p * h + y) * w + xx] = x.data[(p * ih + src_y) * iw + src_x];
            }
        }
    return out;
}

std::vector<Image> tensor_to_images(const FloatTensor &decoded) {
    const int64_t n = decoded.shape.at(0), c = decoded.shape.at(1), h = decoded.shape.at(2),
                  w = decoded.shape.at(3);
    if (c != 3) throw std::invalid_argument("tensor_to_images: expected 3 channels");
    std::vector<Image> images(static_cast<size_t>(n));
    for (int64_t b = 0; b < n; ++b) {
        Image &img = images[b];
        img.width = static_cast<int>(w);
        img.height = static_cast<int>(h);
        img.channels = 3;
        img.pixels.resize(static_cast<size_t>(w * h * 3));
        for (int64_t ch = 0; ch < 3; ++ch)
            for (int64_t i = 0; i < h * w; ++i) {
                float v = decoded.data[(b * 3 + ch) * h * w + i] * 0.5f + 0.5f;
                v = std::clamp(v, 0.0f, 1.0f);
                img.pixels[i * 3 + ch] = static_cast<uint8_t>(std::nearbyint(v * 255.0f));
            }
    }
    return images;
}

}  // namespace sdw
