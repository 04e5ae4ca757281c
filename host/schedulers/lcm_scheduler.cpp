// LCMScheduler (diffusers 0.40, schedulers/scheduling_lcm.py).
//
// - set_timesteps: k = T // original_inference_steps; the distillation grid
//   [1..original_inference_steps] * k - 1, reversed, sampled at floor(linspace(0, len, n,
//   endpoint=False)) (999 759 499 259 for n = 4). timestep_spacing and steps_offset are unused.
// - init_noise_sigma 1.0, scale_model_input identity.
// - step: prev_t = the next timestep (or t itself at the end); boundary scalings with the
//   timestep as a float32 tensor: s = t * timestep_scaling, c_skip = 0.25 / (s**2 + 0.25),
//   c_out = s / (s**2 + 0.25) ** 0.5; x0 from the prediction type (optionally clipped);
//   denoised = c_out * x0 + c_skip * sample; except at the last step, prev = a_prev ** 0.5 *
//   denoised + (1 - a_prev) ** 0.5 * randn (drawn with the model output's shape); at the last
//   step prev = denoised and nothing is drawn. float32 throughout.
// - add_noise on alphas_cumprod[t].
// - Not supported: thresholding.
#include <algorithm>
#include <cmath>

#include "schedulers/noise_schedule.h"
#include "schedulers/alpha_scheduler.h"

namespace sdw::sched {

nlohmann::json lcm_defaults() {
    return {{"num_train_timesteps", 1000}, {"beta_start", 0.00085},
            {"beta_end", 0.012},           {"beta_schedule", "scaled_linear"},
            {"trained_betas", nullptr},    {"original_inference_steps", 50},
            {"clip_sample", false},        {"clip_sample_range", 1.0},
            {"set_alpha_to_one", true},    {"steps_offset", 0},
            {"prediction_type", "epsilon"}, {"thresholding", false},
            {"dynamic_thresholding_ratio", 0.995}, {"sample_max_value", 1.0},
            {"timestep_spacing", "leading"}, {"timestep_scaling", 10.0},
            {"rescale_betas_zero_snr", false}};
}

namespace {

enum class Prediction { epsilon, sample, v_prediction };

class LcmScheduler final : public AlphaScheduler {
public:
    explicit LcmScheduler(const SchedulerConfig& cfg)
        : AlphaScheduler("LCMScheduler", alphas_cumprod_of(make_betas(cfg, true)), cfg.flag("set_alpha_to_one")),
          train_steps_(cfg.integer("num_train_timesteps")),
          original_steps_(cfg.integer("original_inference_steps")),
          clip_sample_(cfg.flag("clip_sample")),
          clip_range_(static_cast<float>(cfg.number("clip_sample_range"))),
          timestep_scaling_(static_cast<float>(cfg.number("timestep_scaling"))) {
        const std::string p = cfg.text("prediction_type");
        if (p == "epsilon") prediction_ = Prediction::epsilon;
        else if (p == "sample") prediction_ = Prediction::sample;
        else if (p == "v_prediction") prediction_ = Prediction::v_prediction;
        else cfg.reject("prediction_type", "must be epsilon, sample or v_prediction");
        cfg.require_false("thresholding", "(dynamic thresholding) is not supported");
        if (original_steps_ < 1 || original_steps_ > train_steps_)
            cfg.reject("original_inference_steps", "must be between 1 and num_train_timesteps");
    }

    void set_timesteps(int steps) override {
        check_steps(steps, train_steps_);
        const int64_t k = train_steps_ / original_steps_;
        std::vector<int64_t> origin;
        for (int64_t i = original_steps_; i >= 1; --i) origin.push_back(i * k - 1);  // reversed
        if (static_cast<int64_t>(origin.size()) / steps < 1)
            throw std::invalid_argument("LCMScheduler: " + std::to_string(steps) +
                                        " steps exceed original_inference_steps " +
                                        std::to_string(original_steps_));
        timesteps_.clear();
        for (double v : np_linspace(0, static_cast<double>(origin.size()), steps, false))
            timesteps_.push_back(static_cast<double>(origin[static_cast<size_t>(std::floor(v))]));
        index_.reset();
    }

    void set_begin_index(int index) override { index_.set_begin(index); }
    void scale_model_input(float*, size_t, int step_index) override {
        index_.sync(step_index, timesteps_.size());
    }

    void step(const float* model_output, int step_index, float* sample, size_t n,
              const NoiseFn& noise) override {
        const int i = index_.sync(step_index, timesteps_.size());
        const auto t = static_cast<int64_t>(timesteps_[static_cast<size_t>(i)]);
        const size_t prev_index = static_cast<size_t>(i) + 1;
        const int64_t prev_t = prev_index < timesteps_.size() ? static_cast<int64_t>(timesteps_[prev_index]) : t;
        const float alpha_t = alpha_at(t);
        const float alpha_prev = prev_t >= 0 ? alpha_at(prev_t) : final_alpha_cumprod_;
        const float beta_t = 1.0f - alpha_t;
        const float beta_prev = 1.0f - alpha_prev;

        // get_scalings_for_boundary_condition_discrete with the timestep as an int64 tensor.
        const float scaled = static_cast<float>(t) * timestep_scaling_;
        const float scaled_sq = scaled * scaled + 0.25f;
        const float c_skip = (1.0f / scaled_sq) * 0.25f;  // 0.25 / tensor is reciprocal * 0.25
        const float c_out = scaled / std::sqrt(scaled_sq);

        const float sqrt_alpha_t = std::sqrt(alpha_t);
        const float sqrt_beta_t = std::sqrt(beta_t);
        for (size_t k = 0; k < n; ++k) {
            const float m = model_output[k];
            const float x = sample[k];
            float x0;
            switch (prediction_) {
            case Prediction::epsilon: x0 = (x - sqrt_beta_t * m) / sqrt_alpha_t; break;
            case Prediction::sample: x0 = m; break;
            default: x0 = sqrt_alpha_t * x - sqrt_beta_t * m; break;
            }
            if (clip_sample_) x0 = std::clamp(x0, -clip_range_, clip_range_);
            sample[k] = c_out * x0 + c_skip * x;
        }
        if (i != static_cast<int>(timesteps_.size()) - 1) {
            std::vector<float> z(n);
            noise(z.data(), n);
            const float sqrt_alpha_prev = std::sqrt(alpha_prev);
            const float sqrt_beta_prev = std::sqrt(beta_prev);
            for (size_t k = 0; k < n; ++k) sample[k] = sqrt_alpha_prev * sample[k] + sqrt_beta_prev * z[k];
        }
        index_.advance();
    }


private:

    int train_steps_;
    int original_steps_;
    bool clip_sample_;
    float clip_range_;
    float timestep_scaling_;
    Prediction prediction_ = Prediction::epsilon;
    StepIndex index_;
};

}  // namespace

std::unique_ptr<Scheduler> make_lcm(const SchedulerConfig& cfg) {
    return std::make_unique<LcmScheduler>(cfg);
}

}  // namespace sdw::sched
