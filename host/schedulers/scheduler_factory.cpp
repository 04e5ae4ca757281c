// make_scheduler: the sd-worker scheduler names onto diffusers classes, with from_config
// semantics (see scheduler_config.h); img2img_start_index: the img2img / inpaint pipelines'
// get_timesteps.
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

#include "schedulers/scheduler.h"
#include "schedulers/scheduler_config.h"
#include "schedulers/scheduler_support.h"

namespace sdw {

double Scheduler::timestep_value(int step_index) const {
    const std::vector<double>& ts = timesteps();
    sched::check_index(step_index, ts.size());
    return ts[static_cast<size_t>(step_index)];
}

const std::vector<std::string>& scheduler_names() {
    static const std::vector<std::string> names = {"ddim", "pndm",  "euler", "euler_a", "dpmpp_2m",
                                                   "dpmpp_2m_karras", "lms", "lcm"};
    return names;
}

namespace {

std::string known_names() {
    std::string out;
    for (const std::string& n : scheduler_names()) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const nlohmann::json& model_config,
                                          const SchedulerOptions& options) {
    using namespace sched;
    nlohmann::json kwargs = options.config_overrides.is_null() ? nlohmann::json::object()
                                                               : options.config_overrides;
    if (!kwargs.is_object()) throw std::invalid_argument("scheduler options must be a JSON object");
    auto implied = [&](const char* key, const nlohmann::json& value) {
        if (kwargs.contains(key) && kwargs[key] != value)
            throw std::invalid_argument("scheduler " + name + " implies " + key + "=" + value.dump());
        kwargs[key] = value;
    };
    if (options.use_karras_sigmas) kwargs["use_karras_sigmas"] = true;
    if (options.eta != 0.0 && name != "ddim")
        throw std::invalid_argument("eta applies to the ddim scheduler only, not " + name);
    if (!std::isfinite(options.eta)) throw std::invalid_argument("eta must be a finite number");

    auto build = [&](const char* class_name, nlohmann::json defaults) {
        return SchedulerConfig::resolve(class_name, defaults, model_config, kwargs);
    };
    if (name == "ddim") return make_ddim(build("DDIMScheduler", ddim_defaults()), options.eta);
    if (name == "pndm") {
        // The name's default; an explicit skip_prk_steps=false selects the Runge-Kutta warm-up.
        if (!kwargs.contains("skip_prk_steps")) kwargs["skip_prk_steps"] = true;
        return make_pndm(build("PNDMScheduler", pndm_defaults()));
    }
    if (name == "euler") return make_euler(build("EulerDiscreteScheduler", euler_defaults()));
    if (name == "euler_a")
        return make_euler_ancestral(build("EulerAncestralDiscreteScheduler", euler_ancestral_defaults()));
    if (name == "dpmpp_2m")
        return make_dpm_solver_multistep(build("DPMSolverMultistepScheduler", dpm_solver_multistep_defaults()));
    if (name == "dpmpp_2m_karras") {
        implied("use_karras_sigmas", true);
        return make_dpm_solver_multistep(build("DPMSolverMultistepScheduler", dpm_solver_multistep_defaults()));
    }
    if (name == "lms") return make_lms(build("LMSDiscreteScheduler", lms_defaults()));
    if (name == "lcm") return make_lcm(build("LCMScheduler", lcm_defaults()));
    throw std::invalid_argument("unknown scheduler \"" + name + "\" (known: " + known_names() + ")");
}

int img2img_start_index(const Scheduler& scheduler, int num_inference_steps, double strength) {
    if (!(strength >= 0.0 && strength <= 1.0))
        throw std::invalid_argument("strength must be between 0 and 1");
    // init_timestep = min(int(steps * strength), steps); t_start = max(steps - init_timestep, 0)
    const double product = static_cast<double>(num_inference_steps) * strength;
    const int init_timestep = std::min(static_cast<int>(product), num_inference_steps);
    const int t_start = std::max(num_inference_steps - init_timestep, 0);
    return t_start * scheduler.order();
}

int img2img_start_index(const Scheduler& scheduler, int num_inference_steps, float strength) {
    // The shortest decimal that reads back as this float is what the user wrote; read it as a
    // double, as Python would have.
    char buffer[64];
    const auto written = std::to_chars(buffer, buffer + sizeof buffer, strength);
    double widened = static_cast<double>(strength);
    if (written.ec == std::errc()) std::from_chars(buffer, written.ptr, widened);
    return img2img_start_index(scheduler, num_inference_steps, widened);
}

}  // namespace sdw
