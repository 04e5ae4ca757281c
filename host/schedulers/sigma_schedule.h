// The sigma-space set_timesteps shared by EulerDiscreteScheduler, EulerAncestralDiscreteScheduler
// and LMSDiscreteScheduler (diffusers 0.40): the float32 timestep grid of a spacing, sigmas from
// np.interp over the training sigmas, optionally replaced by Karras or exponential sigmas (with
// timesteps from _sigma_to_t), and the init_noise_sigma / scale_model_input they share.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "schedulers/scheduler_config.h"

namespace sdw::sched {

// float32 timesteps, descending: "linspace" np.linspace(0, T-1, n, dtype=float32) reversed
// (not rounded); "leading" arange(n) * (T // n) reversed as float32, + steps_offset;
// "trailing" round(arange(T, 0, -T/n)) as float32, - 1.
std::vector<float> sigma_timestep_grid(const SchedulerConfig& cfg, int steps);

enum class SigmaKind { interpolated, karras, exponential };

struct SigmaSchedule {
    std::vector<float> timesteps;  // float32 values handed to the UNet
    std::vector<float> sigmas;     // float32, one more than timesteps (the final sigma)
};

// np.interp of the training sigmas at `grid`; Karras / exponential conversions replace the sigmas
// and derive timesteps with _sigma_to_t (float64, then float32). `sigma_min` / `sigma_max`
// override the ends of the converted range when given (Euler's config keys). The final sigma is
// appended by the caller.
SigmaSchedule interpolated_sigmas(const std::vector<float>& train_sigmas, const std::vector<float>& grid,
                                  SigmaKind kind, std::optional<double> sigma_min,
                                  std::optional<double> sigma_max);

// init_noise_sigma: sigmas.max() for "linspace" / "trailing", (max ** 2 + 1) ** 0.5 otherwise,
// in float32.
float sigma_init_noise(const std::vector<float>& sigmas, const std::string& spacing);

// scale_model_input: sample / (sigma ** 2 + 1) ** 0.5 in float32.
void sigma_scale_input(float sigma, float* sample, size_t n);

// add_noise of the sigma schedulers: original + noise * sigma in float32.
void sigma_add_noise(float sigma, const float* original, const float* noise, float* out, size_t n);

}  // namespace sdw::sched
