#include "pipeline/denoising_support.h"

#include <algorithm>
#include <stdexcept>

namespace sdw {

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

CancelCheck cancel_check(const GenerationCallbacks &callbacks) {
    if (callbacks.should_cancel) return callbacks.should_cancel;
    return [] { return false; };
}

std::unique_ptr<Scheduler> make_request_scheduler(const GenerationRequest &request,
                                                  const nlohmann::json &scheduler_config) {
    try {
        return make_scheduler(request.scheduler, scheduler_config, SchedulerOptions{});
    } catch (const std::invalid_argument &e) {
        throw GenerationInvalid("scheduler", e.what());
    }
}

std::unique_ptr<TorchGenerator> make_request_generator(const GenerationRequest &request) {
    if (request.rng == "cpu") return make_cpu_generator(request.seed);
    if (request.rng == "cuda") return make_cuda_generator(request.seed);
    throw GenerationInvalid("rng", "rng must be \"cpu\" or \"cuda\"");
}

void combine_guidance(const FloatTensor &pred, bool guided, float scale,
                      const std::vector<int64_t> &latent_shape, std::vector<float> &out) {
    const size_t item = out.size();
    if (pred.numel() != (guided ? 2 : 1) * item)
        throw std::runtime_error("unet returned " + shape_string(pred.shape) +
                                 ", expected the latent shape " + shape_string(latent_shape));
    if (!guided) {
        std::copy(pred.data.begin(), pred.data.end(), out.begin());
        return;
    }
    // In float32, in diffusers' order: uncond + g * (text - uncond).
    const float *uncond = pred.data.data();
    const float *text = uncond + item;
    for (size_t k = 0; k < item; ++k) out[k] = uncond[k] + scale * (text[k] - uncond[k]);
}

}  // namespace sdw
