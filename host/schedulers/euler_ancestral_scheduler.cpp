// EulerAncestralDiscreteScheduler (diffusers 0.40, schedulers/scheduling_euler_ancestral_discrete.py).
//
// - set_timesteps: float32 timestep grid per timestep_spacing; sigmas = np.interp over the
//   training sigmas, then a final 0, cast to float32 (no Karras option in this class).
// - init_noise_sigma / scale_model_input / add_noise as EulerDiscreteScheduler.
// - step: x0 = sample - sigma * eps (or the v form; "sample" prediction is refused, as diffusers
//   raises NotImplementedError); sigma_up = (s_to**2 * (s_from**2 - s_to**2) / s_from**2) ** 0.5,
//   sigma_down = (s_to**2 - sigma_up**2) ** 0.5; prev = sample + (sample - x0) / sigma *
//   (sigma_down - sigma), then + randn * sigma_up. The noise is drawn at every step, the last
//   one included (where sigma_up is 0), with the shape of the model output. float32 throughout.
#include <cmath>

#include "schedulers/noise_schedule.h"
#include "schedulers/sigma_scheduler.h"

namespace sdw::sched {

nlohmann::json euler_ancestral_defaults() {
    return {{"num_train_timesteps", 1000}, {"beta_start", 0.0001},       {"beta_end", 0.02},
            {"beta_schedule", "linear"},   {"trained_betas", nullptr},   {"prediction_type", "epsilon"},
            {"timestep_spacing", "linspace"}, {"steps_offset", 0},     {"rescale_betas_zero_snr", false}};
}

namespace {

class EulerAncestralScheduler final : public SigmaScheduler {
public:
    explicit EulerAncestralScheduler(const SchedulerConfig& cfg) : SigmaScheduler(cfg) {
        const std::string p = cfg.text("prediction_type");
        if (p != "epsilon" && p != "v_prediction")
            cfg.reject("prediction_type", "must be epsilon or v_prediction");
        v_prediction_ = p == "v_prediction";
        alphas_cumprod_ = alphas_cumprod_of(make_betas(cfg, true));
        if (cfg.flag("rescale_betas_zero_snr")) alphas_cumprod_.back() = std::ldexp(1.0f, -24);
        train_sigmas_ = train_sigmas(alphas_cumprod_);
    }

    void set_timesteps(int steps) override {
        check_steps(steps, cfg_.integer("num_train_timesteps"));
        SigmaSchedule s = interpolated_sigmas(train_sigmas_, sigma_timestep_grid(cfg_, steps),
                                              SigmaKind::interpolated, std::nullopt, std::nullopt);
        use_schedule(std::move(s), 0.0f);
    }
    void step(const float* model_output, int step_index, float* sample, size_t n,
              const NoiseFn& noise) override {
        const auto i = static_cast<size_t>(index_.sync(step_index, timesteps_.size()));
        const float sigma = sigmas_[i];
        const float sigma_from = sigma;
        const float sigma_to = sigmas_[i + 1];
        const float to_sq = sigma_to * sigma_to;
        const float from_sq = sigma_from * sigma_from;
        const float sigma_up = std::sqrt(to_sq * (from_sq - to_sq) / from_sq);
        const float sigma_down = std::sqrt(to_sq - sigma_up * sigma_up);
        const float dt = sigma_down - sigma;
        const float sigma_sq_1 = sigma * sigma + 1.0f;
        const float v_coeff = -sigma / std::sqrt(sigma_sq_1);
        for (size_t k = 0; k < n; ++k) {
            const float x = sample[k];
            const float m = model_output[k];
            const float x0 = v_prediction_ ? m * v_coeff + x / sigma_sq_1 : x - sigma * m;
            const float derivative = (x - x0) / sigma;
            sample[k] = x + derivative * dt;
        }
        std::vector<float> z(n);
        noise(z.data(), n);
        for (size_t k = 0; k < n; ++k) sample[k] = sample[k] + z[k] * sigma_up;
        index_.advance();
    }

private:
    bool v_prediction_ = false;
    std::vector<float> alphas_cumprod_;
    std::vector<float> train_sigmas_;
};

}  // namespace

std::unique_ptr<Scheduler> make_euler_ancestral(const SchedulerConfig& cfg) {
    return std::make_unique<EulerAncestralScheduler>(cfg);
}

}  // namespace sdw::sched
