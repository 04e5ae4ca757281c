// Internals shared by the scheduler implementations: diffusers' step-index bookkeeping and the
// registry of constructors the factory dispatches to.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "schedulers/scheduler.h"
#include "schedulers/scheduler_config.h"

namespace sdw::sched {

// diffusers' _step_index / _begin_index: the step index is fixed on the first
// scale_model_input or step after set_timesteps (to the begin index when one was set), then
// advances by one per step. The pipeline's absolute index must agree with it.
class StepIndex {
public:
    void reset() {
        current_.reset();
        begin_.reset();
    }
    void set_begin(int index) { begin_ = index; }
    std::optional<int> begin() const { return begin_; }
    std::optional<int> current() const { return current_; }

    // The index diffusers uses for the call made with the pipeline's `step_index`.
    int sync(int step_index, size_t num_timesteps) {
        if (step_index < 0 || static_cast<size_t>(step_index) >= num_timesteps)
            throw std::out_of_range("scheduler: step index " + std::to_string(step_index) +
                                    " outside the " + std::to_string(num_timesteps) + " timesteps");
        if (!current_) current_ = begin_ ? *begin_ : step_index;
        if (*current_ != step_index)
            throw std::logic_error("scheduler: called for step " + std::to_string(step_index) +
                                   " but the next step is " + std::to_string(*current_));
        return *current_;
    }
    void advance() { ++*current_; }

private:
    std::optional<int> current_;
    std::optional<int> begin_;
};

inline void check_index(int step_index, size_t num_timesteps) {
    if (num_timesteps == 0) throw std::logic_error("scheduler: set_timesteps was not called");
    if (step_index < 0 || static_cast<size_t>(step_index) >= num_timesteps)
        throw std::out_of_range("scheduler: step index " + std::to_string(step_index) +
                                " outside the " + std::to_string(num_timesteps) + " timesteps");
}

inline void check_steps(int num_inference_steps, int num_train_timesteps) {
    if (num_inference_steps < 1)
        throw std::invalid_argument("scheduler: the number of steps must be at least 1");
    if (num_inference_steps > num_train_timesteps)
        throw std::invalid_argument("scheduler: " + std::to_string(num_inference_steps) +
                                    " steps exceed num_train_timesteps " +
                                    std::to_string(num_train_timesteps));
}

// Defaults of each class's __init__ (diffusers 0.40) and its constructor.
nlohmann::json ddim_defaults();
nlohmann::json pndm_defaults();
nlohmann::json euler_defaults();
nlohmann::json euler_ancestral_defaults();
nlohmann::json dpm_solver_multistep_defaults();
nlohmann::json lms_defaults();
nlohmann::json lcm_defaults();

std::unique_ptr<Scheduler> make_ddim(const SchedulerConfig& cfg, double eta);
std::unique_ptr<Scheduler> make_pndm(const SchedulerConfig& cfg);
std::unique_ptr<Scheduler> make_euler(const SchedulerConfig& cfg);
std::unique_ptr<Scheduler> make_euler_ancestral(const SchedulerConfig& cfg);
std::unique_ptr<Scheduler> make_dpm_solver_multistep(const SchedulerConfig& cfg);
std::unique_ptr<Scheduler> make_lms(const SchedulerConfig& cfg);
std::unique_ptr<Scheduler> make_lcm(const SchedulerConfig& cfg);

}  // namespace sdw::sched
