// torch's CPU generator: std::mt19937 words turned into floats the way ATen's CPU kernels do.
#pragma once

#include <optional>
#include <random>

#include "rng/torch_generator.h"

namespace sdw {

class CpuGenerator final : public TorchGenerator {
public:
    explicit CpuGenerator(uint64_t seed);

    void randn(float* out, size_t n) override;
    void rand(float* out, size_t n) override;

private:
    // at::uniform_real_distribution<float>(0, 1): the low 24 bits of one 32-bit word.
    float uniform_float();
    // at::uniform_real_distribution<double>(0, 1): the low 53 bits of two words (first = high).
    double uniform_double();
    // at::normal_distribution<double>(0, 1), which caches the second Box-Muller value in the
    // generator: the next scalar draw, even in a later call, returns it.
    double normal_double();
    // The vectorised path torch takes for 16 or more contiguous float32 elements.
    void normal_fill(float* out, size_t n);

    std::mt19937 engine_;
    std::optional<double> cached_normal_;
};

}  // namespace sdw
