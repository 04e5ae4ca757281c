// A dense float32 tensor in host memory: latents, embeddings and images as the
// pipeline moves them between the scheduler and the plugin's components.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdw {

struct FloatTensor {
    std::vector<int64_t> shape;
    std::vector<float> data;

    FloatTensor() = default;
    explicit FloatTensor(std::vector<int64_t> s) : shape(std::move(s)), data(count(shape), 0.0f) {}

    static size_t count(const std::vector<int64_t> &s) {
        size_t n = 1;
        for (int64_t d : s) n *= static_cast<size_t>(d);
        return n;
    }
    size_t numel() const { return data.size(); }
    // Elements per index of the outermost dimension (one batch item).
    size_t item_size() const { return shape.empty() || shape[0] == 0 ? 0 : numel() / shape[0]; }
};

// Stacks `copies` repetitions of every item of `t` along the batch dimension, in
// torch's `repeat` order: [a, b] x2 -> [a, b, a, b].
FloatTensor repeat_batch(const FloatTensor &t, int64_t copies);
// Concatenates along the batch dimension.
FloatTensor concat_batch(const FloatTensor &a, const FloatTensor &b);
// Concatenates NCHW tensors of equal N, H, W along the channel dimension.
FloatTensor concat_channels(const std::vector<const FloatTensor *> &parts);

std::string shape_string(const std::vector<int64_t> &shape);

}  // namespace sdw
