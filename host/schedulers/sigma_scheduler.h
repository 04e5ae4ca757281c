// The base of the schedulers that work in sigma space (diffusers' EulerDiscrete,
// EulerAncestralDiscrete and LMSDiscrete): once set_timesteps has filled the sigmas (one
// more than the timesteps: the final sigma) they share init_noise_sigma, the begin-index
// bookkeeping, scale_model_input (sample / sqrt(sigma^2 + 1)) and add_noise
// (original + noise * sigma). A subclass computes the schedule and takes the step.
#pragma once

#include "schedulers/scheduler.h"
#include "schedulers/scheduler_config.h"
#include "schedulers/scheduler_support.h"
#include "schedulers/sigma_schedule.h"

#include <vector>

namespace sdw::sched {

class SigmaScheduler : public Scheduler {
public:
    const std::vector<double>& timesteps() const final { return timesteps_; }
    float init_noise_sigma() const final {
        return sigma_init_noise(sigmas_, cfg_.text("timestep_spacing"));
    }
    void set_begin_index(int index) final { index_.set_begin(index); }
    void scale_model_input(float* sample, size_t n, int step_index) final {
        const int i = index_.sync(step_index, timesteps_.size());
        sigma_scale_input(sigmas_[static_cast<size_t>(i)], sample, n);
    }
    void add_noise(const float* original, const float* noise, int step_index, float* out,
                   size_t n) const final {
        check_index(step_index, timesteps_.size());
        sigma_add_noise(sigmas_[static_cast<size_t>(step_index)], original, noise, out, n);
    }

protected:
    // Refuses an unknown timestep_spacing now rather than at the first job.
    explicit SigmaScheduler(const SchedulerConfig& cfg) : cfg_(cfg) { sigma_timestep_grid(cfg, 1); }

    // The schedule of set_timesteps: `schedule`'s sigmas followed by `final_sigma`, its
    // timesteps as the UNet's; the step index starts over.
    void use_schedule(SigmaSchedule schedule, float final_sigma) {
        sigmas_ = std::move(schedule.sigmas);
        sigmas_.push_back(final_sigma);
        timesteps_.assign(schedule.timesteps.begin(), schedule.timesteps.end());
        index_.reset();
    }

    SchedulerConfig cfg_;
    std::vector<float> sigmas_;
    std::vector<double> timesteps_;
    StepIndex index_;
};

}  // namespace sdw::sched
