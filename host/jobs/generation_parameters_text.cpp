#include "jobs/generation_parameters_text.h"

#include <sstream>

namespace sdw {

std::string generation_parameters_text(const GenerationRequest &request, uint64_t image_seed,
                                       const std::string &model_name) {
    std::ostringstream out;
    out << request.prompt << '\n';
    if (!request.negative_prompt.empty())
        out << "Negative prompt: " << request.negative_prompt << '\n';
    out << "Steps: " << request.steps << ", Sampler: " << request.scheduler
        << ", CFG scale: " << request.guidance_scale << ", Seed: " << image_seed
        << ", Size: " << request.width << 'x' << request.height;
    if (!model_name.empty()) out << ", Model: " << model_name;
    if (request.clip_skip > 1) out << ", Clip skip: " << request.clip_skip;
    if (request.operation != Operation::txt2img)
        out << ", Denoising strength: " << request.strength;
    out << ", RNG: " << request.rng << ", Operation: " << to_string(request.operation);
    return out.str();
}

}  // namespace sdw
