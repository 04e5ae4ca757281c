#include "timestep_embedding.h"

#include <cmath>

namespace sdw::nn {

std::vector<float> timestep_embedding(const std::vector<float> &timesteps, int dim,
                                      bool flip_sin_to_cos, float downscale_freq_shift) {
    const int half = dim / 2;
    std::vector<float> frequencies(static_cast<size_t>(half));
    const float log_max_period = static_cast<float>(-std::log(10000.0));
    const float denominator = static_cast<float>(half) - downscale_freq_shift;
    for (int i = 0; i < half; ++i) {
        const float exponent = log_max_period * static_cast<float>(i) / denominator;
        frequencies[static_cast<size_t>(i)] = std::exp(exponent);
    }
    std::vector<float> out(timesteps.size() * static_cast<size_t>(dim), 0.0f);
    for (size_t b = 0; b < timesteps.size(); ++b) {
        float *row = out.data() + b * static_cast<size_t>(dim);
        float *sin_part = flip_sin_to_cos ? row + half : row;
        float *cos_part = flip_sin_to_cos ? row : row + half;
        for (int i = 0; i < half; ++i) {
            const float angle = timesteps[b] * frequencies[static_cast<size_t>(i)];
            sin_part[i] = std::sin(angle);
            cos_part[i] = std::cos(angle);
        }
    }
    return out;
}

}  // namespace sdw::nn
