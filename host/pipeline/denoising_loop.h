// The denoising loop every pipeline runs, as diffusers' pipelines do: per step, scale the
// latents, duplicate them for classifier-free guidance, add the operation's extra UNet
// channels, predict the noise, combine the guidance, step the scheduler, let the operation
// hold its unmasked region, report the step. What differs between model families is only
// how the UNet is called (its conditioning), which the pipeline passes in.
#pragma once

#include "pipeline/diffusion_components.h"
#include "pipeline/generation.h"
#include "pipeline/operation_latents.h"
#include "schedulers/scheduler.h"

#include <functional>
#include <vector>

namespace sdw {

// The family's UNet call: the model input (guidance copies and extra channels included)
// and one timestep per item -> the noise prediction of the same batch.
using NoisePredictor =
    std::function<FloatTensor(const FloatTensor &input, const std::vector<float> &timesteps)>;

// Runs op's steps on op.latents() in place. `guided`: the conditioning is [uncond, cond]
// and the prediction is combined with `guidance_scale`. Throws GenerationCancelled when
// `cancel` says so between steps.
void run_denoising_loop(OperationLatents &op, Scheduler &scheduler, bool guided, float guidance_scale,
                        const NoisePredictor &predict, const NoiseFn &noise, const CancelCheck &cancel,
                        const GenerationCallbacks &callbacks);

}  // namespace sdw
