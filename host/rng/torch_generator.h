// Random number streams that reproduce torch's generators bit for bit, so that a seed gives
// the same noise (and so the same image) here as in diffusers.
//
// A generator is a stream: like a torch.Generator, every call continues where the previous one
// stopped, and a call's result depends only on the number of elements asked for, never on the
// shape they are later given (torch draws a contiguous float32 tensor in element order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sdw {

class TorchGenerator {
public:
    virtual ~TorchGenerator() = default;

    // Same values as torch.randn(n, generator=g, dtype=torch.float32) (any shape of n elements).
    virtual void randn(float* out, size_t n) = 0;
    // Same values as torch.rand(n, generator=g, dtype=torch.float32).
    virtual void rand(float* out, size_t n) = 0;
};

// torch.Generator("cpu").manual_seed(seed): Mersenne Twister (torch keeps only the low 32 bits
// of the seed).
std::unique_ptr<TorchGenerator> make_cpu_generator(uint64_t seed);

// torch.Generator("cuda").manual_seed(seed): Philox4x32-10 consumed the way torch's CUDA
// kernels consume it. Computed on the host; see cuda_generator.cpp for how close it gets.
std::unique_ptr<TorchGenerator> make_cuda_generator(uint64_t seed);

}  // namespace sdw
