#include "pipeline/denoising_loop.h"

#include "pipeline/denoising_support.h"

namespace sdw {

void run_denoising_loop(OperationLatents &op, Scheduler &scheduler, bool guided, float guidance_scale,
                        const NoisePredictor &predict, const NoiseFn &noise, const CancelCheck &cancel,
                        const GenerationCallbacks &callbacks) {
    FloatTensor &latents = op.latents();
    const int64_t copies = guided ? 2 : 1;
    const size_t item = latents.numel();
    std::vector<float> guided_pred(item);
    const int end = op.start_index() + op.total_steps();
    for (int i = op.start_index(); i < end; ++i) {
        if (cancel()) throw GenerationCancelled();
        FloatTensor model_input = latents;
        scheduler.scale_model_input(model_input.data.data(), model_input.numel(), i);
        if (guided) model_input = repeat_batch(model_input, 2);
        model_input = op.unet_input(std::move(model_input), copies);
        const float t = static_cast<float>(scheduler.timestep_value(i));
        const std::vector<float> ts(static_cast<size_t>(model_input.shape[0]), t);
        const FloatTensor pred = predict(model_input, ts);
        combine_guidance(pred, guided, guidance_scale, latents.shape, guided_pred);
        scheduler.step(guided_pred.data(), i, latents.data.data(), item, noise);
        op.after_step(scheduler, i);
        const int step = i - op.start_index() + 1;
        if (callbacks.on_step) callbacks.on_step(step, op.total_steps());
        if (callbacks.on_latents) callbacks.on_latents(step, latents.shape, latents.data.data());
    }
}

}  // namespace sdw
