// A Stable Diffusion model in the diffusers folder layout:
//
//   model_index.json                 pipeline class and its components
//   scheduler/scheduler_config.json
//   tokenizer/ (vocab.json, merges.txt)            text_encoder/ (config.json, model.safetensors)
//   tokenizer_2/, text_encoder_2/                  SDXL only, when model_index.json names them
//
// The first tokenizer and text encoder may be absent ([null, null]) only beside a second
// pair: SDXL's refiner conditions on text_encoder_2 alone.
//   unet/, vae/ (config.json, diffusion_pytorch_model.safetensors)
//
// Everything about the architecture is read from the config files, never assumed.
//
// A single-file checkpoint (model/single_file_checkpoint.h) opens as the same object: its
// networks, configs derived from their shapes, and the project's tokenizers.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/component_summaries.h"
#include "model/model_component.h"
#include "model/single_file_checkpoint.h"

namespace sdw {

struct TokenizerFiles {
    std::filesystem::path dir;
    std::filesystem::path vocab;   // vocab.json
    std::filesystem::path merges;  // merges.txt
    // tokenizer_config.json / special_tokens_map.json; empty objects when the file is absent.
    nlohmann::json config = nlohmann::json::object();
    nlohmann::json special_tokens_map = nlohmann::json::object();
};

class ModelFolder {
public:
    // Reads and validates the whole folder; weights are memory-mapped, not copied. Throws
    // std::runtime_error naming the missing or invalid path (and key, for config errors).
    static ModelFolder open(const std::filesystem::path& dir);
    // A diffusers folder as open() reads it, or a single-file checkpoint (*.safetensors).
    static ModelFolder open(const std::filesystem::path& path, const SingleFileOptions& single_file);

    const std::filesystem::path& path() const { return dir_; }
    const nlohmann::json& model_index() const { return model_index_; }
    // model_index.json's "_class_name", e.g. "StableDiffusionPipeline".
    const std::string& pipeline_class() const { return pipeline_class_; }

    const ModelComponent& unet() const { return *unet_; }
    const ModelComponent& vae() const { return *vae_; }
    // False for a refiner-style folder with text_encoder_2 only; text_encoder(),
    // tokenizer() and text_encoder_summary() then throw std::logic_error.
    bool has_text_encoder() const { return text_encoder_ != nullptr; }
    const ModelComponent& text_encoder() const;
    const ModelComponent* text_encoder_2() const { return text_encoder_2_.get(); }  // SDXL
    const TokenizerFiles& tokenizer() const;
    const TokenizerFiles* tokenizer_2() const { return tokenizer_2_ ? &*tokenizer_2_ : nullptr; }

    const std::string& scheduler_config_text() const { return scheduler_config_text_; }
    const nlohmann::json& scheduler_config() const { return scheduler_config_; }

    const UNetSummary& unet_summary() const { return unet_summary_; }
    const VaeSummary& vae_summary() const { return vae_summary_; }
    const TextEncoderSummary& text_encoder_summary() const;
    const TextEncoderSummary* text_encoder_2_summary() const {
        return text_encoder_2_summary_ ? &*text_encoder_2_summary_ : nullptr;
    }

    // SDXL-style conditioning: text_encoder_2 and addition_embed_type "text_time".
    bool has_text_time_conditioning() const { return time_id_count_.has_value(); }
    // Number of time ids the UNet expects with text_time conditioning (6 for SDXL base:
    // original size, crop top-left, target size; 5 for the refiner), derived from the configs.
    std::optional<int64_t> time_id_count() const { return time_id_count_; }

    // Set for a single-file checkpoint: which family its tensors say it is.
    const std::optional<CheckpointFamily>& single_file_family() const { return single_file_family_; }

private:
    ModelFolder() = default;
    static ModelFolder open_single_file(const std::filesystem::path& file, const SingleFileOptions& options);
    // Summaries and the cross-checks between components, once every part is read.
    void summarize_and_check();

    std::filesystem::path dir_;
    nlohmann::json model_index_;
    std::string pipeline_class_;
    // Behind pointers so the folder can be moved freely without touching the views.
    std::unique_ptr<ModelComponent> unet_, vae_, text_encoder_, text_encoder_2_;
    TokenizerFiles tokenizer_;
    std::optional<TokenizerFiles> tokenizer_2_;
    std::string scheduler_config_text_;
    nlohmann::json scheduler_config_;
    UNetSummary unet_summary_;
    VaeSummary vae_summary_;
    std::optional<TextEncoderSummary> text_encoder_summary_;
    std::optional<TextEncoderSummary> text_encoder_2_summary_;
    std::optional<int64_t> time_id_count_;
    std::optional<CheckpointFamily> single_file_family_;
};

}  // namespace sdw
