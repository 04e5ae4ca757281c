// What sdw-make-model writes for each model family: the folder layout, the real diffusers and
// transformers configs, and every tensor's name and shape.
//
// Shapes come from the golden key lists of the real checkpoints where one exists (SD 1.5 UNet,
// SD VAE, CLIP ViT-L/14 text encoder, SDXL UNet). Names are the real checkpoints' too: every
// text encoder tensor carries transformers 4's "text_model." prefix (the ViT-L/14 key list,
// written by transformers 5, does not), except CLIPTextModelWithProjection's
// text_projection.weight. The rest is derived:
//   - SD 2.1 UNet: the SD 1.5 key list with the two differences of its architecture applied
//     (use_linear_projection: proj_in/proj_out are [C, C] linears instead of [C, C, 1, 1] convs;
//     cross_attention_dim 1024: attn2.to_k/to_v are [C, 1024]).
//   - OpenCLIP text encoders (SD 2.1's ViT-H, SDXL's ViT-bigG): clip_text_tensors(), which the
//     tests check against the ViT-L key list.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/safetensors_writer.h"

namespace sdw::make_model {

enum class Family { Sd15, Sd21, Sdxl };
std::optional<Family> parse_family(std::string_view text);  // "sd15", "sd21", "sdxl"

struct ComponentPlan {
    std::string folder;        // "unet", "text_encoder_2", ...
    std::string weights_file;  // "diffusion_pytorch_model.safetensors" / "model.safetensors"
    nlohmann::ordered_json config;
    std::vector<TensorSpec> tensors;  // in file order, dtype already chosen
};

struct TokenizerPlan {
    std::string folder;                // "tokenizer", "tokenizer_2"
    std::optional<std::string> pad_token;  // overrides the copied files' pad token (SDXL's "!")
};

struct ModelPlan {
    Family family;
    nlohmann::ordered_json model_index;
    nlohmann::ordered_json scheduler_config;
    std::vector<ComponentPlan> components;
    std::vector<TokenizerPlan> tokenizers;
};

// Everything to write for `family` with floating-point weights in `dtype` (F16 or F32).
ModelPlan plan_model(Family family, DType dtype);

// Architecture of a CLIP text transformer, as in transformers' CLIPTextConfig.
struct ClipTextShape {
    int64_t hidden_size;
    int64_t intermediate_size;
    int64_t num_hidden_layers;
    int64_t vocab_size = 49408;
    int64_t max_position_embeddings = 77;
    std::optional<int64_t> projection_dim;  // CLIPTextModelWithProjection: text_projection.weight
};

// The tensors of a CLIP text encoder. `name_prefix` is "text_model." (what the real checkpoints,
// saved by transformers 4, carry, and what plan_model writes) or "" (transformers 5's
// CLIPTextModel, as in the ViT-L/14 key list); text_projection.weight is never prefixed.
std::vector<TensorSpec> clip_text_tensors(const ClipTextShape& shape, DType dtype,
                                          const std::string& name_prefix);

// The tensors of an embedded key list (see embedded_key_lists.h), in the list's order.
std::vector<TensorSpec> key_list_tensors(std::string_view key_file, DType dtype);

}  // namespace sdw::make_model
