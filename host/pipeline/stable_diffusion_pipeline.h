// Stable Diffusion 1.x / 2.x text-to-image, image-to-image and inpainting, step for
// step what diffusers' StableDiffusion{,Img2Img,Inpaint}Pipeline do, so that a seed
// gives the reference's image. The networks run in a plugin (DiffusionComponents);
// tokenization, noise, scheduling, guidance and latent bookkeeping happen here.
#pragma once

#include "pipeline/diffusion_components.h"
#include "pipeline/generation.h"
#include "tokenizer/clip_tokenizer.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace sdw {

// What the pipeline needs to know about the model, read from its config files.
struct PipelineModel {
    std::string name;
    std::string path;
    int64_t unet_in_channels = 4;     // 9 for inpainting UNets
    int64_t latent_channels = 4;
    int64_t vae_scale_factor = 8;     // 2^(len(vae.block_out_channels) - 1)
    float scaling_factor = 0.18215f;  // vae config
    int64_t sample_size = 64;         // unet config, in latent pixels
    int64_t text_encoder_layers = 12; // the shallower text encoder's num_hidden_layers
    nlohmann::json scheduler_config;  // scheduler/scheduler_config.json
};

class StableDiffusionPipeline final : public Generator {
public:
    StableDiffusionPipeline(PipelineModel model, ClipTokenizer tokenizer,
                            std::unique_ptr<DiffusionComponents> components);

    ModelDescription describe() const override;
    GenerationResult generate(const GenerationRequest &request,
                              const GenerationCallbacks &callbacks) override;

private:
    PipelineModel model_;
    ClipTokenizer tokenizer_;
    std::unique_ptr<DiffusionComponents> components_;
};

}  // namespace sdw
