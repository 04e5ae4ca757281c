// Stable Diffusion XL text-to-image, image-to-image and inpainting, step for step what
// diffusers' StableDiffusionXL{,Img2Img,Inpaint}Pipeline do, so that a seed gives the
// reference's image: both text encoders' penultimate hidden states side by side as the
// context, the second encoder's projected pooled output and the size/crop "time ids" as
// the UNet's added conditioning; the operations' latents as SD's (operation_latents.h),
// with a 4-channel or a 9-channel inpainting UNet. The networks run in a plugin
// (SdxlDiffusionComponents).
//
// A refiner (text_encoder_2 alone, requires_aesthetics_score) conditions on that
// encoder's states and on 5 time ids: sizes, crop and an aesthetic score.
//
// Not yet served: denoising_start / denoising_end, and the micro-conditioning arguments
// (original_size, crops_coords_top_left, target_size, aesthetic_score, their negative_*
// twins): they take diffusers' defaults, (height, width), (0, 0), (height, width), 6.0
// and 2.5 for the negative rows.
#pragma once

#include "pipeline/generation.h"
#include "pipeline/sdxl_diffusion_components.h"
#include "pipeline/stable_diffusion_pipeline.h"
#include "tokenizer/clip_tokenizer.h"

#include <memory>
#include <optional>
#include <vector>

namespace sdw {

// What SDXL adds to PipelineModel, read from model_index.json and the VAE config.
struct SdxlPipelineOptions {
    // model_index.json (diffusers' default: true): with guidance and no negative
    // prompt, the unconditional embeddings are zeros instead of the encoded "".
    bool force_zeros_for_empty_prompt = true;
    // model_index.json (default false; the refiner's is true): time ids are original
    // size, crop and an aesthetic score instead of original size, crop and target size.
    bool requires_aesthetics_score = false;
    // VAE config latents_mean / latents_std (null for SDXL base; empty here then).
    // With both, latents are un-normalised as latents * std / scaling_factor + mean.
    std::vector<float> latents_mean;
    std::vector<float> latents_std;
};

class StableDiffusionXLPipeline final : public Generator {
public:
    // `tokenizer` is nullopt for a refiner, which has no first text encoder.
    StableDiffusionXLPipeline(PipelineModel model, SdxlPipelineOptions options,
                              std::optional<ClipTokenizer> tokenizer, ClipTokenizer tokenizer_2,
                              std::unique_ptr<SdxlDiffusionComponents> components);

    ModelDescription describe() const override;
    // The request's negative_prompt is diffusers' negative_prompt, with one difference:
    // the API cannot tell an empty negative prompt from none, so an empty one is taken
    // as None (zero unconditional embeddings when force_zeros_for_empty_prompt, which
    // is what diffusers does for a request without one). clip_skip 1 (the default) is
    // diffusers' clip_skip=None, the penultimate layer; k is diffusers' k - 1. As in
    // diffusers, clip_skip applies to the prompt only; a negative prompt is always
    // encoded at the penultimate layer.
    GenerationResult generate(const GenerationRequest &request,
                              const GenerationCallbacks &callbacks) override;

private:
    struct Conditioning {
        FloatTensor context;      // [B, L, D1 + D2], or [B, L, D2] for a refiner
        FloatTensor text_embeds;  // [B, pooled_dim]
    };
    // One prompt through both encoders (a refiner: the second) at ABI clip_skip `layer`, batch 1.
    Conditioning encode_prompt(const std::string &text, int layer, const CancelCheck &cancel);

    PipelineModel model_;
    SdxlPipelineOptions options_;
    std::optional<ClipTokenizer> tokenizer_;
    ClipTokenizer tokenizer_2_;
    std::unique_ptr<SdxlDiffusionComponents> components_;
};

}  // namespace sdw
