// The denoising schedulers of diffusers 0.40, reproduced step for step.
//
// A scheduler is built from the model's scheduler/scheduler_config.json exactly as
// `XScheduler.from_config(model_config, **kwargs)` builds it: the keys of the config that the
// target class accepts are carried over, the rest of its arguments keep diffusers' defaults,
// and the name's implied options plus the request's options override both.
//
//   name               diffusers class                    implied options
//   ddim               DDIMScheduler
//   pndm               PNDMScheduler                      skip_prk_steps=true (overridable)
//   euler              EulerDiscreteScheduler
//   euler_a            EulerAncestralDiscreteScheduler
//   dpmpp_2m           DPMSolverMultistepScheduler        (defaults: order 2, dpmsolver++, midpoint)
//   dpmpp_2m_karras    DPMSolverMultistepScheduler        use_karras_sigmas=true
//   lms                LMSDiscreteScheduler               (step order 4, as the pipeline calls it)
//   lcm                LCMScheduler
//
// The arithmetic follows torch's dtypes: where diffusers computes in float32 tensors the code
// computes in float, one rounding per torch operation and in torch's order; where it computes
// in numpy float64 the code uses double. Latents are float32, batch-major, in host memory.
//
// How the pipeline drives it (diffusers' StableDiffusion pipelines):
//   set_timesteps(steps); [img2img/inpaint: i0 = img2img_start_index(...); set_begin_index(i0)]
//   latents = noise * init_noise_sigma()   or   add_noise(image_latents, noise, i0, latents)
//   for i in [i0, timesteps().size()):
//       x = latents; scale_model_input(x, i); eps = unet(x, timestep_value(i)); (guidance)
//       step(eps, i, latents, noise)
// `step_index` is always the absolute position in timesteps(). Each scheduler must see
// consecutive indices starting at the begin index (0 for txt2img), once each, as the pipeline
// calls it; a scheduler that keeps a step counter checks this and throws std::logic_error.
// PNDM with skip_prk_steps has one timestep more than steps (the first one is evaluated twice),
// and PNDM with PRK steps many more: loop over timesteps(), never over `steps`.
//
// A Scheduler is not thread-safe; it holds the state of one generation (PNDM's past model
// outputs, DPM-Solver's x0 predictions, LMS's derivatives, the step index). Make one per job.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sdw {

// Draws n standard normals from the job's torch-compatible generator, in one call, as
// torch.randn(shape, generator) draws a tensor of n elements.
using NoiseFn = std::function<void(float* out, size_t n)>;

struct SchedulerOptions {
    // Karras sigmas (euler, lms, dpmpp_2m; dpmpp_2m_karras implies it). Refused by schedulers
    // that have no such option.
    bool use_karras_sigmas = false;
    // DDIM's eta: 0 is deterministic DDIM, 1 is DDPM-like. Refused by other schedulers when
    // non-zero.
    double eta = 0.0;
    // Further `from_config` keyword arguments, e.g. {"timestep_spacing": "trailing"} or
    // {"prediction_type": "v_prediction"}. A key the scheduler class does not accept is refused
    // (std::invalid_argument), unlike unknown keys of the model's config, which are ignored.
    nlohmann::json config_overrides = nlohmann::json::object();
};

class Scheduler {
public:
    virtual ~Scheduler() = default;

    // Computes the timesteps (and sigmas) for a generation; resets all per-generation state.
    virtual void set_timesteps(int num_inference_steps) = 0;
    // diffusers' scheduler.timesteps as float64 (integer or float32 values, exactly).
    virtual const std::vector<double>& timesteps() const = 0;
    // diffusers' init_noise_sigma after set_timesteps, as the float32 the pipeline multiplies by.
    virtual float init_noise_sigma() const = 0;
    // diffusers' set_begin_index; a no-op for schedulers that have none (DDIM, PNDM).
    virtual void set_begin_index(int index) = 0;
    // diffusers' scale_model_input for the step at timesteps()[step_index], in place.
    virtual void scale_model_input(float* sample, size_t n, int step_index) = 0;
    // One denoising step: sample <- prev_sample. model_output has n elements (the guided
    // prediction). Ancestral / stochastic schedulers call `noise` exactly when and for as many
    // elements as diffusers draws; the others never call it.
    virtual void step(const float* model_output, int step_index, float* sample, size_t n,
                      const NoiseFn& noise) = 0;
    // diffusers' add_noise(original, noise, timesteps[step_index]) for img2img / inpaint, with the
    // index bookkeeping the pipelines rely on (sigma schedulers use the index, not the value).
    virtual void add_noise(const float* original, const float* noise, int step_index, float* out,
                           size_t n) const = 0;
    // The timestep handed to the UNet at that index.
    virtual double timestep_value(int step_index) const;
    // diffusers' scheduler.order (1 for all eight; used by img2img_start_index).
    virtual int order() const { return 1; }
};

// Throws std::invalid_argument naming an unknown scheduler, an option the scheduler does not
// accept, an invalid config value, or a diffusers feature this implementation does not support
// (dynamic thresholding, beta sigmas, flow sigmas, ...).
std::unique_ptr<Scheduler> make_scheduler(const std::string& name,
                                          const nlohmann::json& model_scheduler_config,
                                          const SchedulerOptions& options);
const std::vector<std::string>& scheduler_names();

// StableDiffusionImg2ImgPipeline.get_timesteps(num_inference_steps, strength): the index of the
// first timestep that runs (t_start * order). `strength` is a Python float there, so
// int(steps * strength) must be computed on the double the user wrote: the float overload
// widens by the shortest decimal that round-trips (0.7f -> 0.7, not 0.699999988).
int img2img_start_index(const Scheduler& scheduler, int num_inference_steps, double strength);
int img2img_start_index(const Scheduler& scheduler, int num_inference_steps, float strength);

}  // namespace sdw
