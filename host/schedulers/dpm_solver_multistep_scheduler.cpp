// DPMSolverMultistepScheduler (diffusers 0.40, schedulers/scheduling_dpmsolver_multistep.py).
//
// - set_timesteps: int64 timesteps. last = T - searchsorted(flip(lambda_t), lambda_min_clipped);
//   "linspace" round(linspace(0, last-1, n+1)) reversed minus the last; "leading" arange(n+1) *
//   (last // (n+1)) reversed minus the last, + steps_offset; "trailing" round(arange(last, 0,
//   -T/n)) - 1. Sigmas: np.interp at those timesteps, or Karras / exponential sigmas over the
//   whole training range with timesteps from _sigma_to_t (rounded unless squaredcos_cap_v2);
//   final sigma 0 ("zero") or the smallest training sigma; float32.
// - init_noise_sigma 1.0, scale_model_input identity.
// - step: the model output is converted to an x0 prediction (dpmsolver++) and kept in a history
//   of solver_order outputs; first order at the first step and when lower_order_final applies
//   (last step with final_sigmas_type zero, or fewer than 15 steps), second order (midpoint or
//   heun) otherwise, third order when solver_order 3. alpha_t = 1 / (sigma**2 + 1) ** 0.5,
//   sigma_t = sigma * alpha_t, lambda = log(alpha_t) - log(sigma_t): float32 0-dim tensors, and
//   the update in the latents' float32, one torch op at a time. sde-dpmsolver++ draws
//   randn(model_output.shape) before each update.
// - add_noise: alpha_t * original + sigma_t * noise at sigmas[index].
// - Not supported: algorithm_type dpmsolver / sde-dpmsolver (deprecated upstream), thresholding,
//   learned variance, beta / Lu lambda / flow sigmas, dynamic shifting.
#include <algorithm>
#include <cmath>
#include <limits>

#include "schedulers/noise_schedule.h"
#include "schedulers/scheduler_support.h"

namespace sdw::sched {

nlohmann::json dpm_solver_multistep_defaults() {
    return {{"num_train_timesteps", 1000},
            {"beta_start", 0.0001},
            {"beta_end", 0.02},
            {"beta_schedule", "linear"},
            {"trained_betas", nullptr},
            {"solver_order", 2},
            {"prediction_type", "epsilon"},
            {"thresholding", false},
            {"dynamic_thresholding_ratio", 0.995},
            {"sample_max_value", 1.0},
            {"algorithm_type", "dpmsolver++"},
            {"solver_type", "midpoint"},
            {"lower_order_final", true},
            {"euler_at_final", false},
            {"use_karras_sigmas", false},
            {"use_exponential_sigmas", false},
            {"use_beta_sigmas", false},
            {"use_lu_lambdas", false},
            {"use_flow_sigmas", false},
            {"flow_shift", 1.0},
            {"final_sigmas_type", "zero"},
            {"lambda_min_clipped", "-Infinity"},
            {"variance_type", nullptr},
            {"timestep_spacing", "linspace"},
            {"steps_offset", 0},
            {"rescale_betas_zero_snr", false},
            {"use_dynamic_shifting", false},
            {"time_shift_type", "exponential"}};
}

namespace {

enum class Prediction { epsilon, sample, v_prediction };

struct AlphaSigma {
    float alpha;
    float sigma;
    float lambda;
};

// _sigma_to_alpha_sigma_t and lambda = log(alpha_t) - log(sigma_t), float32.
AlphaSigma alpha_sigma(float sigma) {
    AlphaSigma out;
    out.alpha = 1.0f / std::sqrt(sigma * sigma + 1.0f);
    out.sigma = sigma * out.alpha;
    out.lambda = std::log(out.alpha) - std::log(out.sigma);
    return out;
}

class DpmSolverMultistepScheduler final : public Scheduler {
public:
    explicit DpmSolverMultistepScheduler(const SchedulerConfig& cfg) : cfg_(cfg) {
        const std::string p = cfg.text("prediction_type");
        if (p == "epsilon") prediction_ = Prediction::epsilon;
        else if (p == "sample") prediction_ = Prediction::sample;
        else if (p == "v_prediction") prediction_ = Prediction::v_prediction;
        else cfg.reject("prediction_type", "must be epsilon, sample or v_prediction");
        const std::string algorithm = cfg.text("algorithm_type");
        if (algorithm == "dpmsolver++" || algorithm == "deis") sde_ = false;  // deis maps to ++
        else if (algorithm == "sde-dpmsolver++") sde_ = true;
        else cfg.reject("algorithm_type", "is not supported (dpmsolver++ or sde-dpmsolver++)");
        const std::string solver = cfg.text("solver_type");
        if (solver == "heun") heun_ = true;
        else if (solver == "midpoint" || solver == "logrho" || solver == "bh1" || solver == "bh2") heun_ = false;
        else cfg.reject("solver_type", "must be midpoint or heun");
        order_ = cfg.integer("solver_order");
        if (order_ < 1 || order_ > 3) cfg.reject("solver_order", "must be 1, 2 or 3");
        if (sde_ && order_ == 3) cfg.reject("solver_order", "3 is not available for sde-dpmsolver++");
        cfg.require_false("thresholding", "(dynamic thresholding) is not supported");
        cfg.require_false("use_beta_sigmas", "is not supported");
        cfg.require_false("use_lu_lambdas", "is not supported");
        cfg.require_false("use_flow_sigmas", "is not supported");
        cfg.require_false("use_dynamic_shifting", "is not supported");
        if (!cfg.raw("variance_type").is_null()) cfg.reject("variance_type", "(learned variance) is not supported");
        if (cfg.flag("use_karras_sigmas") + cfg.flag("use_exponential_sigmas") > 1)
            cfg.reject("use_karras_sigmas", "cannot be combined with use_exponential_sigmas");
        const std::string final_type = cfg.text("final_sigmas_type");
        if (final_type != "zero" && final_type != "sigma_min")
            cfg.reject("final_sigmas_type", "must be zero or sigma_min");
        const std::string spacing = cfg.text("timestep_spacing");
        if (spacing != "linspace" && spacing != "leading" && spacing != "trailing")
            cfg.reject("timestep_spacing", "must be linspace, leading or trailing");

        alphas_cumprod_ = alphas_cumprod_of(make_betas(cfg, true));
        if (cfg.flag("rescale_betas_zero_snr")) alphas_cumprod_.back() = std::ldexp(1.0f, -24);
        train_sigmas_ = train_sigmas(alphas_cumprod_);
    }

    void set_timesteps(int steps) override {
        const int train = cfg_.integer("num_train_timesteps");
        check_steps(steps, train);
        // clipped_idx = searchsorted(flip(lambda_t), lambda_min_clipped): how many of the
        // ascending lambdas lie below the clip.
        const double lambda_min = cfg_.number("lambda_min_clipped");
        int64_t clipped = 0;
        for (size_t k = alphas_cumprod_.size(); k-- > 0;) {
            const float a = alphas_cumprod_[k];
            const float lambda = std::log(std::sqrt(a)) - std::log(std::sqrt(1.0f - a));
            if (static_cast<double>(lambda) < lambda_min) ++clipped;
            else break;
        }
        const int64_t last = train - clipped;

        const std::string spacing = cfg_.text("timestep_spacing");
        std::vector<double> ts;
        if (spacing == "linspace") {
            ts = np_linspace(0, static_cast<double>(last - 1), steps + 1);
            for (double& v : ts) v = np_round(v);
            std::reverse(ts.begin(), ts.end());
            ts.pop_back();
        } else if (spacing == "leading") {
            const int64_t ratio = last / (steps + 1);
            for (int64_t i = 0; i <= steps; ++i) ts.push_back(static_cast<double>(i * ratio));
            std::reverse(ts.begin(), ts.end());
            ts.pop_back();
            for (double& v : ts) v += cfg_.integer("steps_offset");
        } else {
            ts = trailing_grid(last, train, steps);
            for (double& v : ts) v -= 1;
        }

        std::vector<double> sigmas;
        const bool karras = cfg_.flag("use_karras_sigmas");
        if (karras || cfg_.flag("use_exponential_sigmas")) {
            // Over the whole training range: np.flip(sigmas), in_sigmas[-1] / [0].
            const double lo = train_sigmas_.front();
            const double hi = train_sigmas_.back();
            sigmas = karras ? karras_sigmas(lo, hi, steps) : exponential_sigmas(lo, hi, steps);
            const std::vector<float> log_sigmas = log_f32(train_sigmas_);
            ts.clear();
            for (double s : sigmas) ts.push_back(sigma_to_t(s, log_sigmas));
            if (karras && cfg_.text("beta_schedule") != "squaredcos_cap_v2")
                for (double& v : ts) v = np_round(v);
        } else {
            sigmas = np_interp_index(ts, train_sigmas_);
        }
        sigmas_.clear();
        for (double s : sigmas) sigmas_.push_back(static_cast<float>(s));
        const float a0 = alphas_cumprod_[0];
        sigmas_.push_back(cfg_.text("final_sigmas_type") == "zero" ? 0.0f : std::sqrt((1.0f - a0) / a0));
        // .to(torch.int64) truncates toward zero.
        timesteps_.clear();
        for (double v : ts) timesteps_.push_back(static_cast<double>(static_cast<int64_t>(v)));

        history_.assign(static_cast<size_t>(order_), {});
        lower_order_nums_ = 0;
        index_.reset();
    }

    const std::vector<double>& timesteps() const override { return timesteps_; }
    float init_noise_sigma() const override { return 1.0f; }
    void set_begin_index(int index) override { index_.set_begin(index); }
    void scale_model_input(float*, size_t, int step_index) override {
        index_.sync(step_index, timesteps_.size());
    }

    void step(const float* model_output, int step_index, float* sample, size_t n,
              const NoiseFn& noise) override {
        const int i = index_.sync(step_index, timesteps_.size());
        const auto count = static_cast<int>(timesteps_.size());
        const bool lower_order_final =
            i == count - 1 && (cfg_.flag("euler_at_final") || (cfg_.flag("lower_order_final") && count < 15) ||
                               cfg_.text("final_sigmas_type") == "zero");
        const bool lower_order_second = i == count - 2 && cfg_.flag("lower_order_final") && count < 15;

        // convert_model_output: the x0 prediction at sigmas[i].
        const AlphaSigma s0 = alpha_sigma(sigmas_[static_cast<size_t>(i)]);
        std::vector<float> x0(n);
        for (size_t k = 0; k < n; ++k) {
            const float m = model_output[k];
            switch (prediction_) {
            case Prediction::epsilon: x0[k] = (sample[k] - s0.sigma * m) / s0.alpha; break;
            case Prediction::sample: x0[k] = m; break;
            default: x0[k] = s0.alpha * sample[k] - s0.sigma * m; break;
            }
        }
        std::rotate(history_.begin(), history_.begin() + 1, history_.end());
        history_.back() = std::move(x0);

        std::vector<float> z;
        if (sde_) {
            z.resize(n);
            noise(z.data(), n);
        }
        if (order_ == 1 || lower_order_nums_ < 1 || lower_order_final)
            first_order(i, sample, n, z);
        else if (order_ == 2 || lower_order_nums_ < 2 || lower_order_second)
            second_order(i, sample, n, z);
        else
            third_order(i, sample, n);
        if (lower_order_nums_ < order_) ++lower_order_nums_;
        index_.advance();
    }

    void add_noise(const float* original, const float* noise, int step_index, float* out,
                   size_t n) const override {
        check_index(step_index, timesteps_.size());
        const AlphaSigma s = alpha_sigma(sigmas_[static_cast<size_t>(step_index)]);
        for (size_t k = 0; k < n; ++k) out[k] = s.alpha * original[k] + s.sigma * noise[k];
    }

private:
    void first_order(int i, float* sample, size_t n, const std::vector<float>& z) const {
        const AlphaSigma t = alpha_sigma(sigmas_[static_cast<size_t>(i) + 1]);
        const AlphaSigma s = alpha_sigma(sigmas_[static_cast<size_t>(i)]);
        const float h = t.lambda - s.lambda;
        const std::vector<float>& m = history_.back();
        if (!sde_) {
            const float c_sample = t.sigma / s.sigma;
            const float c_model = t.alpha * (std::exp(-h) - 1.0f);
            for (size_t k = 0; k < n; ++k) sample[k] = c_sample * sample[k] - c_model * m[k];
        } else {
            const float c_sample = t.sigma / s.sigma * std::exp(-h);
            const float c_model = t.alpha * (1.0f - std::exp(-2.0f * h));
            const float c_noise = std::sqrt(1.0f - std::exp(-2.0f * h));
            for (size_t k = 0; k < n; ++k)
                sample[k] = c_sample * sample[k] + c_model * m[k] + t.sigma * c_noise * z[k];
        }
    }

    void second_order(int i, float* sample, size_t n, const std::vector<float>& z) const {
        const auto u = static_cast<size_t>(i);
        const AlphaSigma t = alpha_sigma(sigmas_[u + 1]);
        const AlphaSigma s0 = alpha_sigma(sigmas_[u]);
        const AlphaSigma s1 = alpha_sigma(sigmas_[u - 1]);
        const std::vector<float>& m0 = history_[history_.size() - 1];
        const std::vector<float>& m1 = history_[history_.size() - 2];
        const float h = t.lambda - s0.lambda;
        const float h_0 = s0.lambda - s1.lambda;
        const float r0 = h_0 / h;
        const float inv_r0 = 1.0f / r0;
        if (!sde_) {
            const float c_sample = t.sigma / s0.sigma;
            const float c_d0 = t.alpha * (std::exp(-h) - 1.0f);
            if (!heun_) {
                const float c_d1 = 0.5f * (t.alpha * (std::exp(-h) - 1.0f));
                for (size_t k = 0; k < n; ++k) {
                    const float d1 = inv_r0 * (m0[k] - m1[k]);
                    sample[k] = c_sample * sample[k] - c_d0 * m0[k] - c_d1 * d1;
                }
            } else {
                const float c_d1 = t.alpha * ((std::exp(-h) - 1.0f) / h + 1.0f);
                for (size_t k = 0; k < n; ++k) {
                    const float d1 = inv_r0 * (m0[k] - m1[k]);
                    sample[k] = c_sample * sample[k] - c_d0 * m0[k] + c_d1 * d1;
                }
            }
        } else {
            const float c_sample = t.sigma / s0.sigma * std::exp(-h);
            const float c_d0 = t.alpha * (1.0f - std::exp(-2.0f * h));
            const float c_d1 = heun_ ? t.alpha * ((1.0f - std::exp(-2.0f * h)) / (-2.0f * h) + 1.0f)
                                     : 0.5f * (t.alpha * (1.0f - std::exp(-2.0f * h)));
            const float c_noise = std::sqrt(1.0f - std::exp(-2.0f * h));
            for (size_t k = 0; k < n; ++k) {
                const float d1 = inv_r0 * (m0[k] - m1[k]);
                sample[k] = c_sample * sample[k] + c_d0 * m0[k] + c_d1 * d1 + t.sigma * c_noise * z[k];
            }
        }
    }

    void third_order(int i, float* sample, size_t n) const {
        const auto u = static_cast<size_t>(i);
        const AlphaSigma t = alpha_sigma(sigmas_[u + 1]);
        const AlphaSigma s0 = alpha_sigma(sigmas_[u]);
        const AlphaSigma s1 = alpha_sigma(sigmas_[u - 1]);
        const AlphaSigma s2 = alpha_sigma(sigmas_[u - 2]);
        const size_t last = history_.size() - 1;
        const std::vector<float>& m0 = history_[last];
        const std::vector<float>& m1 = history_[last - 1];
        const std::vector<float>& m2 = history_[last - 2];
        const float h = t.lambda - s0.lambda;
        const float h_0 = s0.lambda - s1.lambda;
        const float h_1 = s1.lambda - s2.lambda;
        const float r0 = h_0 / h;
        const float r1 = h_1 / h;
        const float inv_r0 = 1.0f / r0;
        const float inv_r1 = 1.0f / r1;
        const float w1 = r0 / (r0 + r1);
        const float inv_r01 = 1.0f / (r0 + r1);
        const float c_sample = t.sigma / s0.sigma;
        const float c_d0 = t.alpha * (std::exp(-h) - 1.0f);
        const float c_d1 = t.alpha * ((std::exp(-h) - 1.0f) / h + 1.0f);
        const float c_d2 = t.alpha * ((std::exp(-h) - 1.0f + h) / (h * h) - 0.5f);
        for (size_t k = 0; k < n; ++k) {
            const float d1_0 = inv_r0 * (m0[k] - m1[k]);
            const float d1_1 = inv_r1 * (m1[k] - m2[k]);
            const float d1 = d1_0 + w1 * (d1_0 - d1_1);
            const float d2 = inv_r01 * (d1_0 - d1_1);
            sample[k] = c_sample * sample[k] - c_d0 * m0[k] + c_d1 * d1 - c_d2 * d2;
        }
    }

    SchedulerConfig cfg_;
    Prediction prediction_ = Prediction::epsilon;
    bool sde_ = false;
    bool heun_ = false;
    int order_ = 2;
    std::vector<float> alphas_cumprod_;
    std::vector<float> train_sigmas_;
    std::vector<float> sigmas_;
    std::vector<double> timesteps_;
    std::vector<std::vector<float>> history_;
    int lower_order_nums_ = 0;
    StepIndex index_;
};

}  // namespace

std::unique_ptr<Scheduler> make_dpm_solver_multistep(const SchedulerConfig& cfg) {
    return std::make_unique<DpmSolverMultistepScheduler>(cfg);
}

}  // namespace sdw::sched
