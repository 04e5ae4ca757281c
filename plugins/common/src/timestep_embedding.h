// diffusers get_timestep_embedding (scale 1, max_period 10000), computed on the host:
// it is a few hundred numbers per sample, and float32 step by step the way torch
// evaluates it, since sin(t * f) for t near 1000 magnifies any rounding difference.
#pragma once

#include <vector>

namespace sdw::nn {

// [timesteps.size(), dim], row-major.
std::vector<float> timestep_embedding(const std::vector<float> &timesteps, int dim,
                                      bool flip_sin_to_cos, float downscale_freq_shift);

}  // namespace sdw::nn
