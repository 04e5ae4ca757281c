// DDIMScheduler (diffusers 0.40, schedulers/scheduling_ddim.py).
//
// - Timesteps: int64; "linspace" np.linspace(0, T-1, n).round() reversed; "leading"
//   arange(n) * (T // n) reversed + steps_offset; "trailing" round(arange(T, 0, -T/n)) - 1.
// - step(): prev_t = t - T // n; alphas_cumprod[prev_t] or final_alpha_cumprod (1 or
//   alphas_cumprod[0] per set_alpha_to_one); x0 and eps from the prediction type; optional
//   clip_sample; std_dev_t = eta * variance ** 0.5; prev = a_prev ** 0.5 * x0 +
//   (1 - a_prev - std ** 2) ** 0.5 * eps, plus std_dev_t * randn when eta > 0 (drawn only then).
//   All float32 (alphas_cumprod is a float32 tensor), one rounding per torch op.
// - init_noise_sigma 1.0, scale_model_input is the identity, no set_begin_index (the img2img
//   pipeline's hasattr check fails), add_noise on alphas_cumprod[t].
// - Not supported: thresholding (dynamic thresholding is for pixel-space models).
#include <algorithm>
#include <cmath>

#include "schedulers/noise_schedule.h"
#include "schedulers/alpha_scheduler.h"

namespace sdw::sched {

nlohmann::json ddim_defaults() {
    return {{"num_train_timesteps", 1000},    {"beta_start", 0.0001},
            {"beta_end", 0.02},               {"beta_schedule", "linear"},
            {"trained_betas", nullptr},       {"clip_sample", true},
            {"set_alpha_to_one", true},       {"steps_offset", 0},
            {"prediction_type", "epsilon"},   {"thresholding", false},
            {"dynamic_thresholding_ratio", 0.995}, {"clip_sample_range", 1.0},
            {"sample_max_value", 1.0},        {"timestep_spacing", "leading"},
            {"rescale_betas_zero_snr", false}};
}

namespace {

enum class Prediction { epsilon, sample, v_prediction };

Prediction parse_prediction(const SchedulerConfig& cfg) {
    const std::string p = cfg.text("prediction_type");
    if (p == "epsilon") return Prediction::epsilon;
    if (p == "sample") return Prediction::sample;
    if (p == "v_prediction") return Prediction::v_prediction;
    cfg.reject("prediction_type", "must be epsilon, sample or v_prediction");
}

class DdimScheduler final : public AlphaScheduler {
public:
    DdimScheduler(const SchedulerConfig& cfg, double eta)
        : AlphaScheduler("DDIMScheduler", alphas_cumprod_of(make_betas(cfg, true)), cfg.flag("set_alpha_to_one")),
          train_steps_(cfg.integer("num_train_timesteps")),
          steps_offset_(cfg.integer("steps_offset")),
          spacing_(cfg.text("timestep_spacing")),
          prediction_(parse_prediction(cfg)),
          clip_sample_(cfg.flag("clip_sample")),
          clip_range_(static_cast<float>(cfg.number("clip_sample_range"))),
          eta_(eta) {
        cfg.require_false("thresholding", "(dynamic thresholding) is not supported");
        if (spacing_ != "linspace" && spacing_ != "leading" && spacing_ != "trailing")
            cfg.reject("timestep_spacing", "must be linspace, leading or trailing");
        if (eta < 0) throw std::invalid_argument("DDIMScheduler: eta must not be negative");
    }

    void set_timesteps(int steps) override {
        check_steps(steps, train_steps_);
        steps_ = steps;
        timesteps_.clear();
        if (spacing_ == "linspace") {
            for (double v : np_linspace(0, train_steps_ - 1, steps)) timesteps_.push_back(np_round(v));
            std::reverse(timesteps_.begin(), timesteps_.end());
        } else if (spacing_ == "leading") {
            timesteps_ = leading_grid(train_steps_, steps);
            std::reverse(timesteps_.begin(), timesteps_.end());
            for (double& t : timesteps_) t += steps_offset_;
        } else {
            timesteps_ = trailing_grid(train_steps_, train_steps_, steps);
            for (double& t : timesteps_) t -= 1;
        }
    }
    void set_begin_index(int) override {}
    void scale_model_input(float*, size_t, int step_index) override {
        check_index(step_index, timesteps_.size());
    }

    void step(const float* model_output, int step_index, float* sample, size_t n,
              const NoiseFn& noise) override {
        check_index(step_index, timesteps_.size());
        const auto t = static_cast<int64_t>(timesteps_[static_cast<size_t>(step_index)]);
        const int64_t prev_t = t - train_steps_ / steps_;
        const float alpha_t = alpha_at(t);
        const float alpha_prev = prev_t >= 0 ? alpha_at(prev_t) : final_alpha_cumprod_;
        const float beta_t = 1.0f - alpha_t;
        const float sqrt_alpha_t = std::sqrt(alpha_t);
        const float sqrt_beta_t = std::sqrt(beta_t);

        // _get_variance, then std_dev_t = eta * variance ** 0.5 (eta rounded to float32).
        const float beta_prev = 1.0f - alpha_prev;
        const float variance = (beta_prev / beta_t) * (1.0f - alpha_t / alpha_prev);
        const float std_dev = static_cast<float>(eta_) * std::sqrt(variance);
        const float direction_coeff = std::sqrt(1.0f - alpha_prev - std_dev * std_dev);
        const float sqrt_alpha_prev = std::sqrt(alpha_prev);

        for (size_t i = 0; i < n; ++i) {
            const float m = model_output[i];
            const float x = sample[i];
            float x0, eps;
            switch (prediction_) {
            case Prediction::epsilon:
                x0 = (x - sqrt_beta_t * m) / sqrt_alpha_t;
                eps = m;
                break;
            case Prediction::sample:
                x0 = m;
                eps = (x - sqrt_alpha_t * x0) / sqrt_beta_t;
                break;
            default:
                x0 = sqrt_alpha_t * x - sqrt_beta_t * m;
                eps = sqrt_alpha_t * m + sqrt_beta_t * x;
                break;
            }
            if (clip_sample_) x0 = std::clamp(x0, -clip_range_, clip_range_);
            sample[i] = sqrt_alpha_prev * x0 + direction_coeff * eps;
        }
        if (eta_ > 0) {
            std::vector<float> z(n);
            noise(z.data(), n);
            for (size_t i = 0; i < n; ++i) sample[i] = sample[i] + std_dev * z[i];
        }
    }


private:

    int train_steps_;
    int steps_offset_;
    std::string spacing_;
    Prediction prediction_;
    bool clip_sample_;
    float clip_range_;
    double eta_;
    int steps_ = 0;
};

}  // namespace

std::unique_ptr<Scheduler> make_ddim(const SchedulerConfig& cfg, double eta) {
    return std::make_unique<DdimScheduler>(cfg, eta);
}

}  // namespace sdw::sched
