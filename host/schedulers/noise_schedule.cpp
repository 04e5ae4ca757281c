#include "schedulers/noise_schedule.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sdw::sched {

std::vector<float> torch_linspace_f32(double start_d, double end_d, int64_t steps) {
    if (steps < 0) throw std::invalid_argument("linspace: negative number of steps");
    std::vector<float> out(static_cast<size_t>(steps));
    if (steps == 0) return out;
    const float start = static_cast<float>(start_d);
    const float end = static_cast<float>(end_d);
    if (steps == 1) {
        out[0] = start;
        return out;
    }
    // aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp: float step, filled from both ends so
    // that the last element is exactly `end`.
    const float step = (end - start) / static_cast<float>(steps - 1);
    const int64_t halfway = steps / 2;
    for (int64_t i = 0; i < steps; ++i) {
        out[static_cast<size_t>(i)] = i < halfway ? start + step * static_cast<float>(i)
                                                  : end - step * static_cast<float>(steps - i - 1);
    }
    return out;
}

namespace {

// diffusers' betas_for_alpha_bar(num, max_beta=0.999, "cosine"): Python floats, then float32.
std::vector<float> cosine_betas(int64_t num) {
    auto alpha_bar = [](double t) {
        const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
        return c * c;
    };
    std::vector<float> betas(static_cast<size_t>(num));
    for (int64_t i = 0; i < num; ++i) {
        const double t1 = static_cast<double>(i) / static_cast<double>(num);
        const double t2 = static_cast<double>(i + 1) / static_cast<double>(num);
        betas[static_cast<size_t>(i)] = static_cast<float>(std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999));
    }
    return betas;
}

}  // namespace

std::vector<float> make_betas(const SchedulerConfig& cfg, bool allow_rescale) {
    const int num = cfg.integer("num_train_timesteps");
    if (num < 2) cfg.reject("num_train_timesteps", "must be at least 2");
    std::vector<float> betas;
    const nlohmann::json& trained = cfg.raw("trained_betas");
    if (!trained.is_null()) {
        if (!trained.is_array() || trained.size() != static_cast<size_t>(num))
            cfg.reject("trained_betas", "must be null or an array of num_train_timesteps numbers");
        for (const auto& b : trained) {
            if (!b.is_number()) cfg.reject("trained_betas", "must hold numbers");
            betas.push_back(static_cast<float>(b.get<double>()));
        }
    } else {
        const std::string schedule = cfg.text("beta_schedule");
        const double beta_start = cfg.number("beta_start");
        const double beta_end = cfg.number("beta_end");
        if (schedule == "linear") {
            betas = torch_linspace_f32(beta_start, beta_end, num);
        } else if (schedule == "scaled_linear") {
            // Python's `x ** 0.5` is C pow, not sqrt.
            betas = torch_linspace_f32(std::pow(beta_start, 0.5), std::pow(beta_end, 0.5), num);
            for (float& b : betas) b = b * b;
        } else if (schedule == "squaredcos_cap_v2") {
            betas = cosine_betas(num);
        } else {
            cfg.reject("beta_schedule", "is not one of linear, scaled_linear, squaredcos_cap_v2");
        }
    }
    if (allow_rescale && cfg.flag("rescale_betas_zero_snr")) betas = rescale_zero_terminal_snr(betas);
    return betas;
}

std::vector<float> alphas_cumprod_of(const std::vector<float>& betas) {
    std::vector<float> out(betas.size());
    double acc = 1.0;
    for (size_t i = 0; i < betas.size(); ++i) {
        const float alpha = 1.0f - betas[i];
        acc *= static_cast<double>(alpha);
        out[i] = static_cast<float>(acc);
    }
    return out;
}

std::vector<float> rescale_zero_terminal_snr(const std::vector<float>& betas) {
    std::vector<float> s = alphas_cumprod_of(betas);
    for (float& v : s) v = std::sqrt(v);
    const float s0 = s.front();
    const float sT = s.back();
    const float scale = s0 / (s0 - sT);
    for (float& v : s) {
        v = v - sT;
        v = v * scale;
    }
    std::vector<float> bar(s.size());
    for (size_t i = 0; i < s.size(); ++i) bar[i] = s[i] * s[i];
    std::vector<float> out(s.size());
    out[0] = 1.0f - bar[0];
    for (size_t i = 1; i < s.size(); ++i) out[i] = 1.0f - bar[i] / bar[i - 1];
    return out;
}

std::vector<float> train_sigmas(const std::vector<float>& alphas_cumprod) {
    std::vector<float> out(alphas_cumprod.size());
    for (size_t i = 0; i < out.size(); ++i) {
        const float a = alphas_cumprod[i];
        out[i] = std::sqrt((1.0f - a) / a);
        // A schedule so long or so steep that alphas_cumprod underflows has infinite
        // sigmas, and every timestep derived from them would be NaN.
        if (!std::isfinite(out[i]))
            throw std::invalid_argument(
                "scheduler: alphas_cumprod underflows to " + std::to_string(a) + " at training timestep " +
                std::to_string(i) + " (sigma is not finite): check num_train_timesteps and the betas");
    }
    return out;
}

std::vector<float> log_f32(const std::vector<float>& values) {
    std::vector<float> out(values.size());
    for (size_t i = 0; i < values.size(); ++i) out[i] = std::log(values[i]);
    return out;
}

std::vector<double> np_linspace(double start, double stop, int64_t num, bool endpoint) {
    if (num < 0) throw std::invalid_argument("linspace: negative number of samples");
    std::vector<double> y(static_cast<size_t>(num));
    const int64_t div = endpoint ? num - 1 : num;
    const double delta = stop - start;
    if (div > 0) {
        const double step = delta / static_cast<double>(div);
        for (int64_t i = 0; i < num; ++i) {
            // numpy: step == 0 (denormal delta) divides first; otherwise multiplies by step.
            const double v = step == 0 ? static_cast<double>(i) / static_cast<double>(div) * delta
                                       : static_cast<double>(i) * step;
            y[static_cast<size_t>(i)] = v + start;
        }
    } else {
        for (int64_t i = 0; i < num; ++i) y[static_cast<size_t>(i)] = static_cast<double>(i) * delta + start;
    }
    if (endpoint && num > 1) y.back() = stop;
    return y;
}

std::vector<double> np_arange(double start, double stop, double step) {
    if (step == 0) throw std::invalid_argument("arange: zero step");
    const double length = std::ceil((stop - start) / step);
    if (!(length > 0)) return {};
    const auto n = static_cast<size_t>(length);
    std::vector<double> out(n);
    out[0] = start;
    if (n == 1) return out;
    out[1] = start + step;
    const double delta = out[1] - out[0];
    for (size_t i = 2; i < n; ++i) out[i] = start + static_cast<double>(i) * delta;
    return out;
}

double np_round(double value) {
    // np.round(decimals=0) is rint: to nearest, ties to even (the default FP environment).
    return std::nearbyint(value);
}

std::vector<double> np_interp_index(const std::vector<double>& x, const std::vector<float>& fp) {
    const size_t n = fp.size();
    if (n == 0) throw std::invalid_argument("interp: empty table");
    std::vector<double> out(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double xv = x[i];
        const auto last = static_cast<double>(n - 1);
        if (std::isnan(xv)) {
            out[i] = xv;
        } else if (xv > last) {
            out[i] = fp[n - 1];
        } else if (xv < 0) {
            out[i] = fp[0];
        } else {
            const auto j = static_cast<size_t>(std::floor(xv));
            if (j >= n - 1) {
                out[i] = fp[n - 1];
            } else if (static_cast<double>(j) == xv) {
                out[i] = fp[j];
            } else {
                const double slope = (static_cast<double>(fp[j + 1]) - static_cast<double>(fp[j])) /
                                     (static_cast<double>(j + 1) - static_cast<double>(j));
                out[i] = slope * (xv - static_cast<double>(j)) + static_cast<double>(fp[j]);
            }
        }
    }
    return out;
}

std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int64_t num) {
    const double rho = 7.0;
    const std::vector<double> ramp = np_linspace(0, 1, num);
    const double min_inv_rho = std::pow(sigma_min, 1 / rho);
    const double max_inv_rho = std::pow(sigma_max, 1 / rho);
    std::vector<double> out(ramp.size());
    for (size_t i = 0; i < ramp.size(); ++i)
        out[i] = std::pow(max_inv_rho + ramp[i] * (min_inv_rho - max_inv_rho), rho);
    return out;
}

std::vector<double> exponential_sigmas(double sigma_min, double sigma_max, int64_t num) {
    std::vector<double> out = np_linspace(std::log(sigma_max), std::log(sigma_min), num);
    for (double& v : out) v = std::exp(v);
    return out;
}

double sigma_to_t(double sigma, const std::vector<float>& log_sigmas) {
    const size_t n = log_sigmas.size();
    if (n < 2) throw std::invalid_argument("sigma_to_t: table too short");
    const double log_sigma = std::log(std::max(sigma, 1e-10));
    // np.cumsum(dists >= 0).argmax(): the first index at which the running count of
    // non-negative distances reaches its maximum.
    size_t count = 0, best = 0, low = 0;
    for (size_t i = 0; i < n; ++i) {
        if (log_sigma - static_cast<double>(log_sigmas[i]) >= 0) ++count;
        if (count > best) {
            best = count;
            low = i;
        }
    }
    low = std::min(low, n - 2);
    const size_t high = low + 1;
    const float lo = log_sigmas[low];
    const float hi = log_sigmas[high];
    // (low - log_sigma) is float64 (numpy 2 promotes to the float64 scalar); (low - high) stays
    // float32 (both float32).
    double w = (static_cast<double>(lo) - log_sigma) / static_cast<double>(lo - hi);
    w = std::clamp(w, 0.0, 1.0);
    return (1 - w) * static_cast<double>(low) + w * static_cast<double>(high);
}

std::vector<double> leading_grid(int64_t train_steps, int64_t steps) {
    const int64_t ratio = train_steps / steps;
    std::vector<double> out(static_cast<size_t>(steps));
    for (int64_t i = 0; i < steps; ++i) out[static_cast<size_t>(i)] = static_cast<double>(i * ratio);
    return out;
}

std::vector<double> trailing_grid(int64_t last, int64_t train_steps, int64_t steps) {
    const double ratio = static_cast<double>(train_steps) / static_cast<double>(steps);
    std::vector<double> out = np_arange(static_cast<double>(last), 0, -ratio);
    for (double& v : out) v = np_round(v);
    return out;
}

void add_noise_alpha(float alpha_cumprod, const float* original, const float* noise, float* out,
                     size_t n) {
    const float sqrt_alpha = std::sqrt(alpha_cumprod);
    const float sqrt_one_minus_alpha = std::sqrt(1.0f - alpha_cumprod);
    for (size_t i = 0; i < n; ++i) out[i] = sqrt_alpha * original[i] + sqrt_one_minus_alpha * noise[i];
}

}  // namespace sdw::sched
