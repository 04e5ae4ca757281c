// EulerDiscreteScheduler (diffusers 0.40, schedulers/scheduling_euler_discrete.py).
//
// - set_timesteps: float32 timestep grid per timestep_spacing; sigmas = np.interp(timesteps,
//   arange(T), training sigmas) in float64, optionally converted to Karras / exponential sigmas
//   (then timesteps from _sigma_to_t); a final sigma of 0 ("zero") or the smallest training
//   sigma ("sigma_min") appended; all cast to float32. timestep_type "continuous" with
//   v_prediction hands 0.25 * log(sigma) to the UNet instead.
// - init_noise_sigma: max sigma ("linspace", "trailing") or (max ** 2 + 1) ** 0.5 ("leading").
// - scale_model_input: sample / (sigma ** 2 + 1) ** 0.5.
// - step (s_churn = 0 as the pipelines call it, so gamma = 0 and sigma_hat = sigma, no noise):
//   x0 = sample - sigma_hat * eps (or the v / sample forms); derivative = (sample - x0) /
//   sigma_hat; prev = sample + derivative * (sigma_next - sigma_hat). float32 throughout.
// - add_noise: original + noise * sigmas[index].
// - Not supported: interpolation_type "log_linear", use_beta_sigmas (needs scipy's beta ppf).
#include <cmath>

#include "schedulers/noise_schedule.h"
#include "schedulers/sigma_scheduler.h"

namespace sdw::sched {

nlohmann::json euler_defaults() {
    return {{"num_train_timesteps", 1000},   {"beta_start", 0.0001},
            {"beta_end", 0.02},              {"beta_schedule", "linear"},
            {"trained_betas", nullptr},      {"prediction_type", "epsilon"},
            {"interpolation_type", "linear"}, {"use_karras_sigmas", false},
            {"use_exponential_sigmas", false}, {"use_beta_sigmas", false},
            {"sigma_min", nullptr},          {"sigma_max", nullptr},
            {"timestep_spacing", "linspace"}, {"timestep_type", "discrete"},
            {"steps_offset", 0},             {"rescale_betas_zero_snr", false},
            {"final_sigmas_type", "zero"}};
}

namespace {

enum class Prediction { epsilon, sample, v_prediction };

class EulerScheduler final : public SigmaScheduler {
public:
    explicit EulerScheduler(const SchedulerConfig& cfg) : SigmaScheduler(cfg) {
        const std::string p = cfg.text("prediction_type");
        if (p == "epsilon") prediction_ = Prediction::epsilon;
        else if (p == "v_prediction") prediction_ = Prediction::v_prediction;
        else if (p == "sample" || p == "original_sample") prediction_ = Prediction::sample;
        else cfg.reject("prediction_type", "must be epsilon, v_prediction or sample");
        if (cfg.text("interpolation_type") != "linear")
            cfg.reject("interpolation_type", "is not supported (only \"linear\")");
        cfg.require_false("use_beta_sigmas", "is not supported");
        if (cfg.flag("use_karras_sigmas") + cfg.flag("use_exponential_sigmas") > 1)
            cfg.reject("use_karras_sigmas", "cannot be combined with use_exponential_sigmas");
        const std::string final_type = cfg.text("final_sigmas_type");
        if (final_type != "zero" && final_type != "sigma_min")
            cfg.reject("final_sigmas_type", "must be zero or sigma_min");
        const std::string timestep_type = cfg.text("timestep_type");
        if (timestep_type != "discrete" && timestep_type != "continuous")
            cfg.reject("timestep_type", "must be discrete or continuous");
        continuous_ = timestep_type == "continuous" && prediction_ == Prediction::v_prediction;

        alphas_cumprod_ = alphas_cumprod_of(make_betas(cfg, true));
        if (cfg.flag("rescale_betas_zero_snr")) alphas_cumprod_.back() = std::ldexp(1.0f, -24);
        train_sigmas_ = train_sigmas(alphas_cumprod_);
    }

    void set_timesteps(int steps) override {
        check_steps(steps, cfg_.integer("num_train_timesteps"));
        const SigmaKind kind = cfg_.flag("use_karras_sigmas")       ? SigmaKind::karras
                               : cfg_.flag("use_exponential_sigmas") ? SigmaKind::exponential
                                                                      : SigmaKind::interpolated;
        SigmaSchedule s = interpolated_sigmas(train_sigmas_, sigma_timestep_grid(cfg_, steps), kind,
                                              cfg_.optional_number("sigma_min"),
                                              cfg_.optional_number("sigma_max"));
        const float a0 = alphas_cumprod_[0];
        use_schedule(std::move(s), cfg_.text("final_sigmas_type") == "zero" ? 0.0f : std::sqrt((1.0f - a0) / a0));
        if (continuous_) {
            for (size_t i = 0; i + 1 < sigmas_.size(); ++i)
                timesteps_[i] = static_cast<double>(0.25f * std::log(sigmas_[i]));
        }
    }
    void step(const float* model_output, int step_index, float* sample, size_t n,
              const NoiseFn&) override {
        const auto i = static_cast<size_t>(index_.sync(step_index, timesteps_.size()));
        const float sigma = sigmas_[i];
        const float sigma_hat = sigma * (0.0f + 1.0f);  // gamma = 0 without s_churn
        const float dt = sigmas_[i + 1] - sigma_hat;
        const float sigma_sq_1 = sigma * sigma + 1.0f;
        const float v_coeff = -sigma / std::sqrt(sigma_sq_1);
        for (size_t k = 0; k < n; ++k) {
            const float x = sample[k];
            const float m = model_output[k];
            float x0;
            switch (prediction_) {
            case Prediction::epsilon: x0 = x - sigma_hat * m; break;
            case Prediction::sample: x0 = m; break;
            default: x0 = m * v_coeff + x / sigma_sq_1; break;
            }
            const float derivative = (x - x0) / sigma_hat;
            sample[k] = x + derivative * dt;
        }
        index_.advance();
    }

private:
    Prediction prediction_ = Prediction::epsilon;
    bool continuous_ = false;
    std::vector<float> alphas_cumprod_;
    std::vector<float> train_sigmas_;
};

}  // namespace

std::unique_ptr<Scheduler> make_euler(const SchedulerConfig& cfg) {
    return std::make_unique<EulerScheduler>(cfg);
}

}  // namespace sdw::sched
