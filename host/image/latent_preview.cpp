#include "image/latent_preview.h"

#include <algorithm>
#include <cmath>

namespace sdw {
namespace {

struct LinearMap {
    float factors[4][3];  // [latent channel][R, G, B]
    float bias[3];
};

// Published latent-to-RGB factors (as used by ComfyUI's and A1111's live previews);
// the result is in [-1, 1] like the VAE decoder's output.
constexpr LinearMap kSdMap{{{0.3512f, 0.2297f, 0.3227f},
                            {0.3250f, 0.4974f, 0.2350f},
                            {-0.2829f, 0.1762f, 0.2721f},
                            {-0.2120f, -0.2616f, -0.7177f}},
                           {0.0f, 0.0f, 0.0f}};
constexpr LinearMap kSdxlMap{{{0.3920f, 0.4054f, 0.4549f},
                              {-0.2634f, -0.0196f, 0.0653f},
                              {0.0568f, 0.1687f, -0.0755f},
                              {-0.3112f, -0.2359f, -0.2076f}},
                             {0.0f, 0.0f, 0.0f}};

uint8_t to_byte(float v) {
    // [-1, 1] -> [0, 255], clamped: noisy early latents reach far outside the range.
    float scaled = (v + 1.0f) * 127.5f;
    if (!(scaled > 0.0f)) return 0;  // also NaN
    return static_cast<uint8_t>(std::min(255.0f, std::round(scaled)));
}

}  // namespace

std::optional<Image> latent_preview_image(LatentFormat format, const std::vector<int64_t> &shape,
                                          const float *latents) {
    if (shape.size() != 4 || shape[1] != 4 || shape[0] < 1 || shape[2] < 1 || shape[3] < 1)
        return std::nullopt;
    const LinearMap &map = format == LatentFormat::sdxl ? kSdxlMap : kSdMap;
    const int64_t n = shape[0], h = shape[2], w = shape[3], plane = h * w;
    Image image;
    image.width = static_cast<int>(n * w);
    image.height = static_cast<int>(h);
    image.channels = 3;
    image.pixels.resize(static_cast<size_t>(n * plane * 3));
    for (int64_t b = 0; b < n; ++b) {
        const float *base = latents + b * 4 * plane;
        for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x) {
                const int64_t at = y * w + x;
                uint8_t *out = &image.pixels[static_cast<size_t>(((y * n + b) * w + x) * 3)];
                for (int c = 0; c < 3; ++c) {
                    float v = map.bias[c];
                    for (int k = 0; k < 4; ++k) v += base[k * plane + at] * map.factors[k][c];
                    out[c] = to_byte(v);
                }
            }
    }
    return image;
}

}  // namespace sdw
