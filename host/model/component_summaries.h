// What the host needs to know about each component, read from its config.json.
//
// Keys every real diffusers/transformers config carries (channel counts, layer counts, hidden
// sizes) are required: a config without them is an error naming the file and key. Keys that
// newer library versions added (scaling_factor, shift_factor, addition_embed_type, ...) fall back
// to the defaults of the diffusers/transformers constructors, as those libraries do, so configs
// written by old versions (SD 1.5's VAE config has no scaling_factor) still load.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sdw {

// UNet2DConditionModel.
struct UNetSummary {
    int64_t in_channels = 0;   // 4; 9 for inpainting UNets (latents + mask + masked latents)
    int64_t out_channels = 0;
    int64_t sample_height = 0;  // latent size the model was trained at (sample_size)
    int64_t sample_width = 0;
    int64_t cross_attention_dim = 0;  // width of encoder_hidden_states
    std::vector<int64_t> block_out_channels;
    std::vector<int64_t> layers_per_block;     // one entry, or one per block
    std::vector<int64_t> attention_head_dim;   // one entry, or one per block
    std::optional<std::vector<int64_t>> num_attention_heads;
    std::vector<int64_t> transformer_layers_per_block;  // one entry, or one per block
    bool use_linear_projection = false;
    std::optional<std::string> addition_embed_type;  // "text_time" for SDXL
    std::optional<int64_t> addition_time_embed_dim;
    std::optional<int64_t> projection_class_embeddings_input_dim;
    std::optional<int64_t> time_cond_proj_dim;  // guidance embedding of LCM-distilled UNets
};

// AutoencoderKL.
struct VaeSummary {
    int64_t in_channels = 0;
    int64_t out_channels = 0;
    int64_t latent_channels = 0;
    std::vector<int64_t> block_out_channels;
    int64_t downscale_factor = 0;  // 2^(len(block_out_channels) - 1): 8 for SD
    int64_t sample_size = 0;
    double scaling_factor = 0.0;
    std::optional<double> shift_factor;
    bool force_upcast = true;
    std::optional<std::vector<double>> latents_mean;
    std::optional<std::vector<double>> latents_std;
};

// CLIPTextModel / CLIPTextModelWithProjection.
struct TextEncoderSummary {
    int64_t hidden_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t intermediate_size = 0;
    int64_t max_position_embeddings = 0;
    int64_t vocab_size = 0;
    std::string hidden_act;  // "quick_gelu" (OpenAI CLIP) or "gelu" (OpenCLIP)
    double layer_norm_eps = 0.0;
    // True when the weights include text_projection.weight (the pooled output is projected).
    bool has_projection = false;
    // Width of the pooled output: projection_dim with a projection, hidden_size without.
    int64_t pooled_dim = 0;
};

UNetSummary summarize_unet(const nlohmann::json& config, const std::filesystem::path& path);
// The values of a scheduler_config.json that every scheduler reads (train timesteps, beta
// schedule and range), so that a bad one stops the load instead of failing every job.
void check_scheduler_config(const nlohmann::json& config, const std::filesystem::path& path);
VaeSummary summarize_vae(const nlohmann::json& config, const std::filesystem::path& path);
TextEncoderSummary summarize_text_encoder(const nlohmann::json& config,
                                          const std::filesystem::path& path, bool has_projection);

}  // namespace sdw
