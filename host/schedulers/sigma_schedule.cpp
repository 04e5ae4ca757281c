#include "schedulers/sigma_schedule.h"

#include <algorithm>
#include <cmath>

#include "schedulers/noise_schedule.h"

namespace sdw::sched {

std::vector<float> sigma_timestep_grid(const SchedulerConfig& cfg, int steps) {
    const int train = cfg.integer("num_train_timesteps");
    const std::string spacing = cfg.text("timestep_spacing");
    std::vector<float> out;
    if (spacing == "linspace") {
        for (double v : np_linspace(0, train - 1, steps)) out.push_back(static_cast<float>(v));
        std::reverse(out.begin(), out.end());
    } else if (spacing == "leading") {
        for (double v : leading_grid(train, steps)) out.push_back(static_cast<float>(v));
        std::reverse(out.begin(), out.end());
        const auto offset = static_cast<float>(cfg.integer("steps_offset"));
        for (float& t : out) t += offset;
    } else if (spacing == "trailing") {
        for (double v : trailing_grid(train, train, steps)) out.push_back(static_cast<float>(v));
        for (float& t : out) t -= 1.0f;
    } else {
        cfg.reject("timestep_spacing", "must be linspace, leading or trailing");
    }
    return out;
}

SigmaSchedule interpolated_sigmas(const std::vector<float>& train_sigmas_f32, const std::vector<float>& grid,
                                  SigmaKind kind, std::optional<double> sigma_min,
                                  std::optional<double> sigma_max) {
    std::vector<double> x(grid.begin(), grid.end());
    std::vector<double> sigmas = np_interp_index(x, train_sigmas_f32);
    SigmaSchedule out;
    if (kind == SigmaKind::interpolated) {
        out.timesteps = grid;
    } else {
        // in_sigmas[-1].item() / in_sigmas[0].item() unless the config pins them.
        const double lo = sigma_min.value_or(sigmas.back());
        const double hi = sigma_max.value_or(sigmas.front());
        const auto n = static_cast<int64_t>(grid.size());
        sigmas = kind == SigmaKind::karras ? karras_sigmas(lo, hi, n) : exponential_sigmas(lo, hi, n);
        const std::vector<float> log_sigmas = log_f32(train_sigmas_f32);
        for (double s : sigmas) out.timesteps.push_back(static_cast<float>(sigma_to_t(s, log_sigmas)));
    }
    for (double s : sigmas) out.sigmas.push_back(static_cast<float>(s));
    return out;
}

float sigma_init_noise(const std::vector<float>& sigmas, const std::string& spacing) {
    const float max_sigma = *std::max_element(sigmas.begin(), sigmas.end());
    if (spacing == "linspace" || spacing == "trailing") return max_sigma;
    return std::sqrt(max_sigma * max_sigma + 1.0f);
}

void sigma_scale_input(float sigma, float* sample, size_t n) {
    const float denom = std::sqrt(sigma * sigma + 1.0f);
    for (size_t i = 0; i < n; ++i) sample[i] = sample[i] / denom;
}

void sigma_add_noise(float sigma, const float* original, const float* noise, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = original[i] + noise[i] * sigma;
}

}  // namespace sdw::sched
