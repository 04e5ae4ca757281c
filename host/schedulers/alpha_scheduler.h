// The base of the schedulers that step on alphas_cumprod at integer timesteps (diffusers'
// DDIM, PNDM and LCM): the initial noise is unscaled (init_noise_sigma 1) and add_noise is
// sqrt(a_t) * original + sqrt(1 - a_t) * noise at the step's timestep. A subclass
// computes the timesteps, keeps its own step-index rules and takes the step.
#pragma once

#include "schedulers/noise_schedule.h"
#include "schedulers/scheduler.h"
#include "schedulers/scheduler_support.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace sdw::sched {

class AlphaScheduler : public Scheduler {
public:
    const std::vector<double>& timesteps() const final { return timesteps_; }
    float init_noise_sigma() const final { return 1.0f; }
    void add_noise(const float* original, const float* noise, int step_index, float* out,
                   size_t n) const final {
        check_index(step_index, timesteps_.size());
        add_noise_alpha(alpha_at(static_cast<int64_t>(timesteps_[static_cast<size_t>(step_index)])),
                        original, noise, out, n);
    }

protected:
    // `name` prefixes errors ("DDIMScheduler"); set_alpha_to_one makes the alpha before
    // the first training step 1 rather than alphas_cumprod[0].
    AlphaScheduler(std::string name, std::vector<float> alphas_cumprod, bool set_alpha_to_one)
        : name_(std::move(name)),
          alphas_cumprod_(std::move(alphas_cumprod)),
          final_alpha_cumprod_(set_alpha_to_one ? 1.0f : alphas_cumprod_.at(0)) {}

    float alpha_at(int64_t t) const {
        if (t < 0 || t >= static_cast<int64_t>(alphas_cumprod_.size()))
            throw std::out_of_range(name_ + ": timestep " + std::to_string(t) + " out of range");
        return alphas_cumprod_[static_cast<size_t>(t)];
    }

    std::string name_;
    std::vector<float> alphas_cumprod_;
    float final_alpha_cumprod_;
    std::vector<double> timesteps_;
};

}  // namespace sdw::sched
