#include "model/model_folder.h"

#include <stdexcept>

#include "model/config_reader.h"

namespace sdw {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& path, const std::string& reason) {
    throw std::runtime_error(path.string() + ": " + reason);
}

// model_index.json lists a component as ["library", "Class"], or [null, null] when absent.
bool lists_component(const nlohmann::json& model_index, const std::string& name) {
    const auto it = model_index.find(name);
    if (it == model_index.end() || !it->is_array() || it->size() != 2) return false;
    return !(*it)[1].is_null();
}

void require_listed(const nlohmann::json& model_index, const fs::path& index_path,
                    const std::string& name) {
    if (!lists_component(model_index, name)) fail(index_path, name + ": missing");
}

TokenizerFiles read_tokenizer(const fs::path& dir) {
    std::error_code error;
    if (!fs::is_directory(dir, error)) fail(dir, "tokenizer folder not found");
    TokenizerFiles files;
    files.dir = dir;
    files.vocab = dir / "vocab.json";
    files.merges = dir / "merges.txt";
    if (!fs::is_regular_file(files.vocab, error)) fail(files.vocab, "file not found");
    if (!fs::is_regular_file(files.merges, error)) fail(files.merges, "file not found");
    if (fs::is_regular_file(dir / "tokenizer_config.json", error))
        files.config = read_json_object(dir / "tokenizer_config.json");
    if (fs::is_regular_file(dir / "special_tokens_map.json", error))
        files.special_tokens_map = read_json_object(dir / "special_tokens_map.json");
    return files;
}

std::unique_ptr<ModelComponent> load_component(const fs::path& dir, ComponentKind kind,
                                               const std::string& stem) {
    return std::make_unique<ModelComponent>(ModelComponent::load(dir, kind, stem));
}

// A component's config.json, or what stands for it in messages about a single file.
fs::path config_path(const ModelComponent& component, bool single_file) {
    return single_file ? component.dir() : component.dir() / "config.json";
}

TextEncoderSummary summarize(const ModelComponent& text_encoder, bool single_file) {
    return summarize_text_encoder(text_encoder.config(), config_path(text_encoder, single_file),
                                  text_encoder.find("text_projection.weight") != nullptr);
}

}  // namespace

ModelFolder ModelFolder::open(const fs::path& dir) {
    std::error_code error;
    if (!fs::is_directory(dir, error)) fail(dir, "model folder not found");

    ModelFolder folder;
    folder.dir_ = dir;
    const fs::path index_path = dir / "model_index.json";
    folder.model_index_ = read_json_object(index_path);
    folder.pipeline_class_ =
        ConfigReader(folder.model_index_, index_path).optional_string("_class_name").value_or("");
    for (const char* name : {"unet", "vae", "scheduler"}) require_listed(folder.model_index_, index_path, name);
    const bool has_second_encoder = lists_component(folder.model_index_, "text_encoder_2");
    const bool has_first_encoder = lists_component(folder.model_index_, "text_encoder") ||
                                   lists_component(folder.model_index_, "tokenizer") || !has_second_encoder;
    if (has_first_encoder) {
        require_listed(folder.model_index_, index_path, "text_encoder");
        require_listed(folder.model_index_, index_path, "tokenizer");
    }

    folder.scheduler_config_ = read_json_object(dir / "scheduler" / "scheduler_config.json",
                                                &folder.scheduler_config_text_);
    check_scheduler_config(folder.scheduler_config_, dir / "scheduler" / "scheduler_config.json");
    if (has_first_encoder) {
        folder.tokenizer_ = read_tokenizer(dir / "tokenizer");
        folder.text_encoder_ = load_component(dir / "text_encoder", ComponentKind::TextEncoder, "model");
    }
    folder.unet_ = load_component(dir / "unet", ComponentKind::UNet, "diffusion_pytorch_model");
    folder.vae_ = load_component(dir / "vae", ComponentKind::Vae, "diffusion_pytorch_model");

    if (has_second_encoder) {
        require_listed(folder.model_index_, index_path, "tokenizer_2");
        folder.tokenizer_2_ = read_tokenizer(dir / "tokenizer_2");
        folder.text_encoder_2_ =
            load_component(dir / "text_encoder_2", ComponentKind::TextEncoder, "model");
    }

    folder.summarize_and_check();
    return folder;
}

ModelFolder ModelFolder::open(const fs::path& path, const SingleFileOptions& single_file) {
    if (is_single_file_checkpoint(path)) return open_single_file(path, single_file);
    std::error_code error;
    if (fs::is_regular_file(path, error))
        fail(path, "not a model: expected a diffusers folder or a .safetensors single-file checkpoint");
    return open(path);
}

ModelFolder ModelFolder::open_single_file(const fs::path& file, const SingleFileOptions& options) {
    SingleFileCheckpoint checkpoint = read_single_file_checkpoint(file, options);
    ModelFolder folder;
    folder.dir_ = file;
    folder.model_index_ = std::move(checkpoint.model_index);
    folder.pipeline_class_ = folder.model_index_.value("_class_name", "");
    folder.scheduler_config_ = std::move(checkpoint.scheduler_config);
    folder.scheduler_config_text_ = folder.scheduler_config_.dump(2);
    folder.unet_ = std::move(checkpoint.unet);
    folder.vae_ = std::move(checkpoint.vae);
    folder.text_encoder_ = std::move(checkpoint.text_encoder);
    folder.text_encoder_2_ = std::move(checkpoint.text_encoder_2);
    if (folder.text_encoder_) folder.tokenizer_ = read_tokenizer(checkpoint.tokenizer_dir);
    if (folder.text_encoder_2_) folder.tokenizer_2_ = read_tokenizer(checkpoint.tokenizer_2_dir);
    folder.single_file_family_ = checkpoint.family;
    folder.summarize_and_check();
    return folder;
}

void ModelFolder::summarize_and_check() {
    const bool single_file = single_file_family_.has_value();
    unet_summary_ = summarize_unet(unet_->config(), config_path(*unet_, single_file));
    vae_summary_ = summarize_vae(vae_->config(), config_path(*vae_, single_file));
    if (text_encoder_) text_encoder_summary_ = summarize(*text_encoder_, single_file);
    if (text_encoder_2_) text_encoder_2_summary_ = summarize(*text_encoder_2_, single_file);

    // Cross-checks between components: a mismatch means parts of different models were mixed,
    // which would otherwise surface as an obscure shape error deep inside a plugin.
    const UNetSummary& unet = unet_summary_;
    const fs::path unet_config = config_path(*unet_, single_file);
    int64_t context_width = 0;
    std::string context_desc;
    for (const auto* summary : {text_encoder_ ? &*text_encoder_summary_ : nullptr,
                                text_encoder_2_summary_ ? &*text_encoder_2_summary_ : nullptr}) {
        if (summary == nullptr) continue;
        context_width += summary->hidden_size;
        context_desc += (context_desc.empty() ? "" : " + ") + std::to_string(summary->hidden_size);
    }
    if (unet.cross_attention_dim != context_width)
        fail(unet_config, "cross_attention_dim " + std::to_string(unet.cross_attention_dim) +
                              " does not match the text encoder hidden size " + context_desc);
    if (unet.out_channels != vae_summary_.latent_channels)
        fail(unet_config, "out_channels " + std::to_string(unet.out_channels) +
                              " does not match the VAE's latent_channels " +
                              std::to_string(vae_summary_.latent_channels));

    if (unet.addition_embed_type == "text_time") {
        if (!text_encoder_2_summary_)
            fail(unet_config, "addition_embed_type text_time needs text_encoder_2");
        // projection_class_embeddings_input_dim = pooled width + time ids * time embedding width.
        const int64_t pooled = text_encoder_2_summary_->pooled_dim;
        const int64_t rest = *unet.projection_class_embeddings_input_dim - pooled;
        const int64_t per_id = *unet.addition_time_embed_dim;
        if (per_id <= 0 || rest <= 0 || rest % per_id != 0)
            fail(unet_config, "projection_class_embeddings_input_dim " +
                                  std::to_string(*unet.projection_class_embeddings_input_dim) +
                                  " is not the pooled width " + std::to_string(pooled) +
                                  " plus a multiple of addition_time_embed_dim " +
                                  std::to_string(per_id));
        time_id_count_ = rest / per_id;
    } else if (unet.addition_embed_type) {
        fail(unet_config, "addition_embed_type \"" + *unet.addition_embed_type +
                              "\" is not supported");
    }
}

const ModelComponent& ModelFolder::text_encoder() const {
    if (!text_encoder_) throw std::logic_error(dir_.string() + ": this model has no text_encoder");
    return *text_encoder_;
}

const TokenizerFiles& ModelFolder::tokenizer() const {
    if (!text_encoder_) throw std::logic_error(dir_.string() + ": this model has no tokenizer");
    return tokenizer_;
}

const TextEncoderSummary& ModelFolder::text_encoder_summary() const {
    if (!text_encoder_summary_) throw std::logic_error(dir_.string() + ": this model has no text_encoder");
    return *text_encoder_summary_;
}

}  // namespace sdw
