#include "pipeline/tiled_vae_decode.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace sdw {
namespace {

// An NCHW tensor of batch 1 as rows of planes: element (c, y, x).
struct Planes {
    FloatTensor &t;
    int64_t channels() const { return t.shape[1]; }
    int64_t height() const { return t.shape[2]; }
    int64_t width() const { return t.shape[3]; }
    float &at(int64_t c, int64_t y, int64_t x) { return t.data[static_cast<size_t>((c * height() + y) * width() + x)]; }
};

enum class Axis { rows, columns };

// b's first rows (or columns) fade in from a's last ones over e of them:
// b[k] = a[n_a - e + k] (1 - k/e) + b[k] (k/e). The weights are computed in double and
// applied in float, as torch applies a Python float to a float32 tensor.
void blend(FloatTensor &a_tensor, FloatTensor &b_tensor, int64_t extent, Axis axis) {
    Planes a{a_tensor}, b{b_tensor};
    const bool rows = axis == Axis::rows;
    const int64_t a_length = rows ? a.height() : a.width();
    const int64_t e = std::min({a_length, rows ? b.height() : b.width(), extent});
    const int64_t across = rows ? b.width() : b.height();
    for (int64_t k = 0; k < e; ++k) {
        const float keep = static_cast<float>(static_cast<double>(k) / static_cast<double>(e));
        const float fade = static_cast<float>(1.0 - static_cast<double>(k) / static_cast<double>(e));
        for (int64_t c = 0; c < b.channels(); ++c)
            for (int64_t n = 0; n < across; ++n) {
                float &out = rows ? b.at(c, k, n) : b.at(c, n, k);
                const float from = rows ? a.at(c, a_length - e + k, n) : a.at(c, n, a_length - e + k);
                out = from * fade + out * keep;
            }
    }
}

FloatTensor crop_latents(const FloatTensor &latents, int64_t top, int64_t left, int64_t size) {
    const int64_t channels = latents.shape[1], height = latents.shape[2], width = latents.shape[3];
    const int64_t h = std::min(size, height - top), w = std::min(size, width - left);
    FloatTensor tile({1, channels, h, w});
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t y = 0; y < h; ++y)
            std::copy_n(latents.data.begin() + ((c * height + top + y) * width + left), w,
                        tile.data.begin() + (c * h + y) * w);
    return tile;
}

}  // namespace

VaeTiling VaeTiling::for_vae(int64_t sample_size, int64_t downscale_factor) {
    VaeTiling tiling;
    tiling.sample_tile = sample_size;
    tiling.latent_tile = sample_size / downscale_factor;
    return tiling;
}

bool VaeTiling::applies(int64_t latent_h, int64_t latent_w) const {
    return latent_tile > 0 && latent_h * latent_w > 4 * latent_tile * latent_tile;
}

FloatTensor tiled_vae_decode(const FloatTensor &latents, const VaeTiling &tiling,
                             const std::function<FloatTensor(const FloatTensor &)> &decode) {
    if (latents.shape.size() != 4 || latents.shape[0] != 1)
        throw std::invalid_argument("tiled_vae_decode: latents must be [1, C, H, W], got " + shape_string(latents.shape));
    const int64_t height = latents.shape[2], width = latents.shape[3];
    // diffusers truncates these products to integers.
    const auto stride = static_cast<int64_t>(static_cast<double>(tiling.latent_tile) * (1.0 - tiling.overlap_factor));
    const auto blend_extent = static_cast<int64_t>(static_cast<double>(tiling.sample_tile) * tiling.overlap_factor);
    const int64_t keep = tiling.sample_tile - blend_extent;  // of each tile, what lands in the image
    if (stride <= 0 || keep <= 0) throw std::invalid_argument("tiled_vae_decode: tiles too small to overlap");

    FloatTensor image;
    std::vector<FloatTensor> above;  // the previous row of tiles, already blended
    int64_t out_y = 0;
    for (int64_t top = 0; top < height; top += stride) {
        std::vector<FloatTensor> row;
        int64_t out_x = 0, row_height = 0;
        for (int64_t left = 0; left < width; left += stride) {
            FloatTensor tile = decode(crop_latents(latents, top, left, tiling.latent_tile));
            if (image.shape.empty()) {
                const int64_t scale = tile.shape[2] / std::min(tiling.latent_tile, height);
                image = FloatTensor({1, tile.shape[1], height * scale, width * scale});
            }
            const size_t column = row.size();
            if (!above.empty()) blend(above[column], tile, blend_extent, Axis::rows);
            if (!row.empty()) blend(row.back(), tile, blend_extent, Axis::columns);

            Planes src{tile}, dst{image};
            const int64_t h = std::min(keep, src.height()), w = std::min(keep, src.width());
            for (int64_t c = 0; c < src.channels(); ++c)
                for (int64_t y = 0; y < h; ++y)
                    for (int64_t x = 0; x < w; ++x) dst.at(c, out_y + y, out_x + x) = src.at(c, y, x);
            out_x += w;
            row_height = h;
            row.push_back(std::move(tile));
        }
        out_y += row_height;
        above = std::move(row);
    }
    return image;
}

}  // namespace sdw
