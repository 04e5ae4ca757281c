// LMSDiscreteScheduler (diffusers 0.40, schedulers/scheduling_lms_discrete.py).
//
// - set_timesteps: float32 timestep grid per timestep_spacing; sigmas = np.interp over the
//   training sigmas, optionally Karras / exponential (timesteps from _sigma_to_t, not rounded);
//   a final 0; float32.
// - init_noise_sigma / scale_model_input / add_noise as EulerDiscreteScheduler.
// - step(order=4, as the pipelines call it): x0 from the prediction type; derivative =
//   (sample - x0) / sigma, kept for the last 4 steps; order = min(step_index + 1, 4);
//   prev = sample + sum(coeff_j * derivative_{newest - j}), zip-truncated to the derivatives
//   available. coeff_j integrates the Lagrange basis polynomial of the last `order` sigmas from
//   sigma to sigma_next. diffusers integrates with scipy.integrate.quad (QUADPACK QAGS) while the
//   integrand runs in float32 (tau - sigmas[k] with sigmas a float32 tensor); this code evaluates
//   the same float32 integrand at QUADPACK's 21-point Gauss-Kronrod nodes and sums in QUADPACK's
//   order. The rule is exact for these polynomials of degree <= 3, and QAGS accepts it on the
//   first pass (its error estimate is the float32 noise, far below epsrel 1e-4).
//   Each coefficient multiplies the float32 derivative as float32 (Python float * tensor).
#include <algorithm>
#include <cmath>
#include <deque>

#include "schedulers/noise_schedule.h"
#include "schedulers/sigma_scheduler.h"

namespace sdw::sched {

nlohmann::json lms_defaults() {
    return {{"num_train_timesteps", 1000}, {"beta_start", 0.0001},
            {"beta_end", 0.02},            {"beta_schedule", "linear"},
            {"trained_betas", nullptr},    {"use_karras_sigmas", false},
            {"use_exponential_sigmas", false}, {"use_beta_sigmas", false},
            {"prediction_type", "epsilon"}, {"timestep_spacing", "linspace"},
            {"steps_offset", 0}};
}

namespace {

// QUADPACK dqk21: integral of f over [a, b] with the 21-point Kronrod rule.
template <typename F>
double gauss_kronrod_21(F&& f, double a, double b) {
    static constexpr double xgk[11] = {
        0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
        0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
        0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
        0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
        0.294392862701460198131126603103866, 0.148874338981631210884826001129720,
        0.000000000000000000000000000000000};
    static constexpr double wgk[11] = {
        0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
        0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
        0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
        0.123491976262065851077958109831074, 0.134709217311473325928054001771707,
        0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
        0.149445554002916905664936468389821};
    const double centr = 0.5 * (a + b);
    const double hlgth = 0.5 * (b - a);
    const double fc = f(centr);
    double resk = wgk[10] * fc;
    for (int j = 1; j <= 5; ++j) {  // Gauss nodes
        const int jtw = 2 * j - 1;   // zero-based xgk(2j)
        const double absc = hlgth * xgk[jtw];
        const double fsum = f(centr - absc) + f(centr + absc);
        resk = resk + wgk[jtw] * fsum;
    }
    for (int j = 1; j <= 5; ++j) {  // Kronrod-only nodes
        const int jtwm1 = 2 * j - 2;  // zero-based xgk(2j-1)
        const double absc = hlgth * xgk[jtwm1];
        const double fsum = f(centr - absc) + f(centr + absc);
        resk = resk + wgk[jtwm1] * fsum;
    }
    return resk * hlgth;
}

enum class Prediction { epsilon, sample, v_prediction };

class LmsScheduler final : public SigmaScheduler {
public:
    explicit LmsScheduler(const SchedulerConfig& cfg) : SigmaScheduler(cfg) {
        const std::string p = cfg.text("prediction_type");
        if (p == "epsilon") prediction_ = Prediction::epsilon;
        else if (p == "sample") prediction_ = Prediction::sample;
        else if (p == "v_prediction") prediction_ = Prediction::v_prediction;
        else cfg.reject("prediction_type", "must be epsilon, sample or v_prediction");
        cfg.require_false("use_beta_sigmas", "is not supported");
        if (cfg.flag("use_karras_sigmas") + cfg.flag("use_exponential_sigmas") > 1)
            cfg.reject("use_karras_sigmas", "cannot be combined with use_exponential_sigmas");
        train_sigmas_ = train_sigmas(alphas_cumprod_of(make_betas(cfg, false)));
    }

    void set_timesteps(int steps) override {
        check_steps(steps, cfg_.integer("num_train_timesteps"));
        const SigmaKind kind = cfg_.flag("use_karras_sigmas")       ? SigmaKind::karras
                               : cfg_.flag("use_exponential_sigmas") ? SigmaKind::exponential
                                                                      : SigmaKind::interpolated;
        SigmaSchedule s = interpolated_sigmas(train_sigmas_, sigma_timestep_grid(cfg_, steps), kind,
                                              std::nullopt, std::nullopt);
        use_schedule(std::move(s), 0.0f);
        derivatives_.clear();
    }
    void step(const float* model_output, int step_index, float* sample, size_t n,
              const NoiseFn&) override {
        const int i = index_.sync(step_index, timesteps_.size());
        const float sigma = sigmas_[static_cast<size_t>(i)];
        const float sigma_sq_1 = sigma * sigma + 1.0f;
        const float v_coeff = -sigma / std::sqrt(sigma_sq_1);
        std::vector<float> derivative(n);
        for (size_t k = 0; k < n; ++k) {
            const float x = sample[k];
            const float m = model_output[k];
            float x0;
            switch (prediction_) {
            case Prediction::epsilon: x0 = x - sigma * m; break;
            case Prediction::sample: x0 = m; break;
            default: x0 = m * v_coeff + x / sigma_sq_1; break;
            }
            derivative[k] = (x - x0) / sigma;
        }
        derivatives_.push_back(std::move(derivative));
        if (derivatives_.size() > static_cast<size_t>(kOrder)) derivatives_.pop_front();

        const int order = std::min(i + 1, kOrder);
        std::vector<float> coeffs;
        for (int j = 0; j < order; ++j) coeffs.push_back(static_cast<float>(lms_coefficient(order, i, j)));
        // sum(coeff * derivative for coeff, derivative in zip(coeffs, reversed(derivatives))),
        // starting from the integer 0, then added to the sample.
        const size_t terms = std::min(coeffs.size(), derivatives_.size());
        for (size_t k = 0; k < n; ++k) {
            float total = 0.0f;
            for (size_t j = 0; j < terms; ++j)
                total = total + coeffs[j] * derivatives_[derivatives_.size() - 1 - j][k];
            sample[k] = sample[k] + total;
        }
        index_.advance();
    }

private:
    static constexpr int kOrder = 4;

    // get_lms_coefficient(order, t, current_order).
    double lms_coefficient(int order, int t, int current) const {
        auto sig = [&](int k) { return sigmas_[static_cast<size_t>(k)]; };
        auto basis = [&](double tau) -> double {
            // prod = 1.0; prod *= (tau - s[t-k]) / (s[t-current] - s[t-k]), in float32 once a
            // tensor enters (tau rounded to float32).
            float prod = 1.0f;
            const auto tau_f = static_cast<float>(tau);
            for (int k = 0; k < order; ++k) {
                if (k == current) continue;
                prod = prod * ((tau_f - sig(t - k)) / (sig(t - current) - sig(t - k)));
            }
            return static_cast<double>(prod);
        };
        return gauss_kronrod_21(basis, static_cast<double>(sig(t)), static_cast<double>(sig(t + 1)));
    }

    Prediction prediction_ = Prediction::epsilon;
    std::vector<float> train_sigmas_;
    std::deque<std::vector<float>> derivatives_;
};

}  // namespace

std::unique_ptr<Scheduler> make_lms(const SchedulerConfig& cfg) {
    return std::make_unique<LmsScheduler>(cfg);
}

}  // namespace sdw::sched
