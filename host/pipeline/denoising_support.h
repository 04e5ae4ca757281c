// What every diffusion pipeline of the host does the same way: build the request's
// scheduler and noise source, poll for cancellation, time its phases, and combine the
// unconditional and conditional noise predictions (classifier-free guidance).
#pragma once

#include "pipeline/diffusion_components.h"
#include "pipeline/generation.h"
#include "rng/torch_generator.h"
#include "schedulers/scheduler.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace sdw {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start);

// The request's cancel check; never empty.
CancelCheck cancel_check(const GenerationCallbacks &callbacks);

// The request's scheduler from the model's scheduler_config.json; an unknown name or a
// refused option is GenerationInvalid("scheduler").
std::unique_ptr<Scheduler> make_request_scheduler(const GenerationRequest &request,
                                                  const nlohmann::json &scheduler_config);

// The request's torch-compatible generator ("cpu" or "cuda"), seeded with its seed;
// anything else is GenerationInvalid("rng").
std::unique_ptr<TorchGenerator> make_request_generator(const GenerationRequest &request);

// `pred` holds the UNet's output for [uncond; cond] when `guided`, else for the latents
// alone; writes uncond + scale * (cond - uncond) (or the prediction as is) into `out`,
// which has the latents' `item` elements. Throws if `pred` has the wrong size.
void combine_guidance(const FloatTensor &pred, bool guided, float scale,
                      const std::vector<int64_t> &latent_shape, std::vector<float> &out);

}  // namespace sdw
