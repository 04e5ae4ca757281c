// A single-file checkpoint in the original (LDM / SGM) layout, as A1111 and ComfyUI keep them:
// one .safetensors file with every network under its original prefix,
//
//   model.diffusion_model.*               the UNet (input_blocks, middle_block, output_blocks)
//   first_stage_model.*                   the VAE (encoder.down.N.block.M, mid.attn_1, ...)
//   cond_stage_model.transformer.*        SD 1.x: OpenAI CLIP ViT-L in transformers' names
//   cond_stage_model.model.*              SD 2.x: OpenCLIP ViT-H (resblocks, fused in_proj)
//   conditioner.embedders.0.transformer.* SDXL base: CLIP ViT-L ...
//   conditioner.embedders.1.model.*       ... and OpenCLIP ViT-bigG
//   conditioner.embedders.0.model.*       SDXL refiner: OpenCLIP ViT-bigG alone
//
// read as the diffusers components the pipelines take. Names are mapped to diffusers' as its
// from_single_file maps them (tools/references/single_file.py writes the test checkpoints the
// other way and checks diffusers reads them back bit for bit), and
// each component's config is derived from the tensors' shapes. What no shape says comes from
// the family's published configs, as every single-file loader does: 32 group-norm groups;
// 64-channel CLIP heads; 8 UNet heads for SD 1.x and 64-channel UNet heads for SD 2.x and
// SDXL; the training schedule; SD 2.x conditioning on its encoder's penultimate layer. The
// prediction type comes from the file when it says (a "v_pred" tensor, or the ModelSpec
// metadata key modelspec.prediction_type), else from SingleFileOptions, else epsilon.
//
// Weights are views into the one memory-mapped file (a fused q/k/v projection is three views
// of it); only OpenCLIP's text projection, stored transposed, is copied.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/model_component.h"

namespace sdw {

struct SingleFileOptions {
    // Holds the tokenizers a single file is served with (single files carry none):
    //   clip/       CLIP ViT-L's (pads with its end-of-text token)
    //   open-clip/  OpenCLIP's: the same vocabulary, padding with "!" (SD 2.x, SDXL's second)
    std::filesystem::path tokenizers_dir;
    // "epsilon" or "v_prediction"; set: used whatever the file says (for files that say
    // nothing, like most SD 2.x 768 checkpoints, which are v-prediction).
    std::optional<std::string> prediction_type;
};

// A regular file named *.safetensors (what --model takes besides a diffusers folder).
bool is_single_file_checkpoint(const std::filesystem::path& path);

enum class CheckpointFamily { sd1, sd2, sdxl_base, sdxl_refiner };

// The components of one checkpoint, in diffusers' terms, ready for ModelFolder.
struct SingleFileCheckpoint {
    CheckpointFamily family = CheckpointFamily::sd1;
    nlohmann::json model_index;       // as diffusers' model_index.json would say
    nlohmann::json scheduler_config;  // the family's published scheduler config
    std::unique_ptr<ModelComponent> unet, vae, text_encoder, text_encoder_2;  // encoders may be null
    std::filesystem::path tokenizer_dir, tokenizer_2_dir;                   // empty when unused
};

// Throws std::runtime_error naming the file and what is missing or inconsistent.
SingleFileCheckpoint read_single_file_checkpoint(const std::filesystem::path& file,
                                                 const SingleFileOptions& options);

}  // namespace sdw
