#include "model_families.h"

#include <stdexcept>

#include "embedded_key_lists.h"

namespace sdw::make_model {
namespace {

using ojson = nlohmann::ordered_json;

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Real SD 1.x/2.x/SDXL checkpoints were saved by transformers 4, which names every CLIP text
// transformer tensor "text_model.<rest>" (other tools, stable-diffusion.cpp among them, look for
// it); the ViT-L/14 key list has transformers 5's prefix-less names.
const std::string kTextModelPrefix = "text_model.";

std::vector<TensorSpec> clip_vit_l14_tensors(DType dtype) {
    std::vector<TensorSpec> tensors = key_list_tensors("clip-vit-l14-text-diffusers.json", dtype);
    for (TensorSpec& t : tensors) t.name = kTextModelPrefix + t.name;
    return tensors;
}

// SD 2.1's UNet differs from SD 1.5's only in these tensor shapes (see the header).
std::vector<TensorSpec> sd21_unet_tensors(DType dtype) {
    std::vector<TensorSpec> tensors = key_list_tensors("sd15-unet-diffusers.json", dtype);
    for (TensorSpec& t : tensors) {
        const bool projection = ends_with(t.name, ".proj_in.weight") || ends_with(t.name, ".proj_out.weight");
        if (projection && t.shape.size() == 4) t.shape.resize(2);
        const bool context = ends_with(t.name, ".attn2.to_k.weight") || ends_with(t.name, ".attn2.to_v.weight");
        if (context) t.shape.at(1) = 1024;
    }
    return tensors;
}

ojson unet_config_common() {
    // The keys diffusers 0.40 writes, with UNet2DConditionModel's defaults; families override.
    return ojson{
        {"_class_name", "UNet2DConditionModel"},
        {"_diffusers_version", "0.40.0.dev0"},
        {"act_fn", "silu"},
        {"addition_embed_type", nullptr},
        {"addition_embed_type_num_heads", 64},
        {"addition_time_embed_dim", nullptr},
        {"attention_head_dim", 8},
        {"attention_type", "default"},
        {"block_out_channels", {320, 640, 1280, 1280}},
        {"center_input_sample", false},
        {"class_embed_type", nullptr},
        {"class_embeddings_concat", false},
        {"conv_in_kernel", 3},
        {"conv_out_kernel", 3},
        {"cross_attention_dim", 768},
        {"cross_attention_norm", nullptr},
        {"down_block_types",
         {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"}},
        {"downsample_padding", 1},
        {"dropout", 0.0},
        {"dual_cross_attention", false},
        {"encoder_hid_dim", nullptr},
        {"encoder_hid_dim_type", nullptr},
        {"flip_sin_to_cos", true},
        {"freq_shift", 0},
        {"in_channels", 4},
        {"layers_per_block", 2},
        {"mid_block_only_cross_attention", nullptr},
        {"mid_block_scale_factor", 1},
        {"mid_block_type", "UNetMidBlock2DCrossAttn"},
        {"norm_eps", 1e-05},
        {"norm_num_groups", 32},
        {"num_attention_heads", nullptr},
        {"num_class_embeds", nullptr},
        {"only_cross_attention", false},
        {"out_channels", 4},
        {"projection_class_embeddings_input_dim", nullptr},
        {"resnet_out_scale_factor", 1.0},
        {"resnet_skip_time_act", false},
        {"resnet_time_scale_shift", "default"},
        {"reverse_transformer_layers_per_block", nullptr},
        {"sample_size", 64},
        {"time_cond_proj_dim", nullptr},
        {"time_embedding_act_fn", nullptr},
        {"time_embedding_dim", nullptr},
        {"time_embedding_type", "positional"},
        {"timestep_post_act", nullptr},
        {"transformer_layers_per_block", 1},
        {"up_block_types",
         {"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"}},
        {"upcast_attention", false},
        {"use_linear_projection", false},
    };
}

ojson vae_config(int64_t sample_size, double scaling_factor) {
    return ojson{
        {"_class_name", "AutoencoderKL"},
        {"_diffusers_version", "0.40.0.dev0"},
        {"act_fn", "silu"},
        {"block_out_channels", {128, 256, 512, 512}},
        {"down_block_types",
         {"DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"}},
        {"force_upcast", true},
        {"in_channels", 3},
        {"latent_channels", 4},
        {"latents_mean", nullptr},
        {"latents_std", nullptr},
        {"layers_per_block", 2},
        {"mid_block_add_attention", true},
        {"norm_num_groups", 32},
        {"out_channels", 3},
        {"sample_size", sample_size},
        {"scaling_factor", scaling_factor},
        {"shift_factor", nullptr},
        {"up_block_types",
         {"UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"}},
        {"use_post_quant_conv", true},
        {"use_quant_conv", true},
    };
}

// transformers' CLIPTextConfig as the published checkpoints have it. Their token ids are the
// ones OpenAI's and LAION's configs carry (bos 0, eos 2, pad 1), not the tokenizer's: with
// eos_token_id 2 transformers pools at the argmax token id, which is the EOS token.
ojson clip_text_config(const char* architecture, const ClipTextShape& shape, int64_t heads,
                       const char* hidden_act, int64_t projection_dim, const char* dtype) {
    return ojson{
        {"architectures", {architecture}},
        {"attention_dropout", 0.0},
        {"bos_token_id", 0},
        {"dtype", dtype},
        {"eos_token_id", 2},
        {"hidden_act", hidden_act},
        {"hidden_size", shape.hidden_size},
        {"initializer_factor", 1.0},
        {"initializer_range", 0.02},
        {"intermediate_size", shape.intermediate_size},
        {"layer_norm_eps", 1e-05},
        {"max_position_embeddings", shape.max_position_embeddings},
        {"model_type", "clip_text_model"},
        {"num_attention_heads", heads},
        {"num_hidden_layers", shape.num_hidden_layers},
        {"pad_token_id", 1},
        {"projection_dim", projection_dim},
        {"transformers_version", "5.17.0"},
        {"vocab_size", shape.vocab_size},
    };
}

// SD 1.5's scheduler (PNDM); SD 2.1 and SDXL swap the class and prediction type.
ojson scheduler_config(const char* class_name, const char* prediction_type) {
    return ojson{
        {"_class_name", class_name},
        {"_diffusers_version", "0.40.0.dev0"},
        {"beta_end", 0.012},
        {"beta_schedule", "scaled_linear"},
        {"beta_start", 0.00085},
        {"clip_sample", false},
        {"num_train_timesteps", 1000},
        {"prediction_type", prediction_type},
        {"set_alpha_to_one", false},
        {"skip_prk_steps", true},
        {"steps_offset", 1},
        {"timestep_spacing", "leading"},
        {"trained_betas", nullptr},
    };
}

ojson model_index(const char* pipeline, const char* scheduler) {
    return ojson{
        {"_class_name", pipeline},
        {"_diffusers_version", "0.40.0.dev0"},
        {"feature_extractor", {nullptr, nullptr}},
        {"requires_safety_checker", false},
        {"safety_checker", {nullptr, nullptr}},
        {"scheduler", {"diffusers", scheduler}},
        {"text_encoder", {"transformers", "CLIPTextModel"}},
        {"tokenizer", {"transformers", "CLIPTokenizer"}},
        {"unet", {"diffusers", "UNet2DConditionModel"}},
        {"vae", {"diffusers", "AutoencoderKL"}},
    };
}

const ClipTextShape kClipVitL{768, 3072, 12, 49408, 77, std::nullopt};
// 24 layers trained; SD 2.x checkpoints ship 23 since they use the penultimate layer.
const ClipTextShape kOpenClipVitH{1024, 4096, 23, 49408, 77, std::nullopt};
const ClipTextShape kOpenClipVitBigG{1280, 5120, 32, 49408, 77, 1280};

}  // namespace

std::optional<Family> parse_family(std::string_view text) {
    if (text == "sd15") return Family::Sd15;
    if (text == "sd21") return Family::Sd21;
    if (text == "sdxl") return Family::Sdxl;
    return std::nullopt;
}

std::vector<TensorSpec> key_list_tensors(std::string_view key_file, DType dtype) {
    const std::string_view text = embedded_key_list(key_file);
    if (text.empty()) throw std::runtime_error("no embedded key list " + std::string(key_file));
    const ojson keys = ojson::parse(text);
    std::vector<TensorSpec> tensors;
    tensors.reserve(keys.size());
    for (const auto& [name, shape] : keys.items())
        tensors.push_back({name, dtype, shape.get<std::vector<int64_t>>()});
    return tensors;
}

std::vector<TensorSpec> clip_text_tensors(const ClipTextShape& shape, DType dtype,
                                          const std::string& name_prefix) {
    const int64_t d = shape.hidden_size;
    std::vector<TensorSpec> tensors;
    auto add = [&](const std::string& name, std::vector<int64_t> dims) {
        tensors.push_back({name_prefix + name, dtype, std::move(dims)});
    };
    add("embeddings.token_embedding.weight", {shape.vocab_size, d});
    add("embeddings.position_embedding.weight", {shape.max_position_embeddings, d});
    for (int64_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
        const std::string p = "encoder.layers." + std::to_string(layer) + ".";
        for (const char* proj : {"k_proj", "v_proj", "q_proj", "out_proj"}) {
            add(p + "self_attn." + proj + ".weight", {d, d});
            add(p + "self_attn." + proj + ".bias", {d});
        }
        add(p + "layer_norm1.weight", {d});
        add(p + "layer_norm1.bias", {d});
        add(p + "mlp.fc1.weight", {shape.intermediate_size, d});
        add(p + "mlp.fc1.bias", {shape.intermediate_size});
        add(p + "mlp.fc2.weight", {d, shape.intermediate_size});
        add(p + "mlp.fc2.bias", {d});
        add(p + "layer_norm2.weight", {d});
        add(p + "layer_norm2.bias", {d});
    }
    add("final_layer_norm.weight", {d});
    add("final_layer_norm.bias", {d});
    if (shape.projection_dim)
        tensors.push_back({"text_projection.weight", dtype, {*shape.projection_dim, d}});
    return tensors;
}

ModelPlan plan_model(Family family, DType dtype) {
    const char* torch_dtype = dtype == DType::F16 ? "float16" : "float32";
    ModelPlan plan;
    plan.family = family;
    auto add = [&](std::string folder, std::string file, ojson config, std::vector<TensorSpec> t) {
        plan.components.push_back({std::move(folder), std::move(file), std::move(config), std::move(t)});
    };
    const std::string unet_file = "diffusion_pytorch_model.safetensors";

    switch (family) {
        case Family::Sd15: {
            plan.model_index = model_index("StableDiffusionPipeline", "PNDMScheduler");
            plan.scheduler_config = scheduler_config("PNDMScheduler", "epsilon");
            add("text_encoder", "model.safetensors",
                clip_text_config("CLIPTextModel", kClipVitL, 12, "quick_gelu", 768, torch_dtype),
                clip_vit_l14_tensors(dtype));
            add("unet", unet_file, unet_config_common(),
                key_list_tensors("sd15-unet-diffusers.json", dtype));
            add("vae", unet_file, vae_config(512, 0.18215),
                key_list_tensors("sd-vae-diffusers.json", dtype));
            plan.tokenizers.push_back({"tokenizer", std::nullopt});
            break;
        }
        case Family::Sd21: {
            plan.model_index = model_index("StableDiffusionPipeline", "DDIMScheduler");
            plan.scheduler_config = scheduler_config("DDIMScheduler", "v_prediction");
            add("text_encoder", "model.safetensors",
                clip_text_config("CLIPTextModel", kOpenClipVitH, 16, "gelu", 512, torch_dtype),
                clip_text_tensors(kOpenClipVitH, dtype, kTextModelPrefix));
            ojson unet = unet_config_common();
            unet["attention_head_dim"] = {5, 10, 20, 20};
            unet["cross_attention_dim"] = 1024;
            unet["sample_size"] = 96;
            unet["upcast_attention"] = true;  // 2.1 overflows in fp16 attention without it
            unet["use_linear_projection"] = true;
            add("unet", unet_file, unet, sd21_unet_tensors(dtype));
            add("vae", unet_file, vae_config(768, 0.18215),
                key_list_tensors("sd-vae-diffusers.json", dtype));
            plan.tokenizers.push_back({"tokenizer", std::nullopt});
            break;
        }
        case Family::Sdxl: {
            plan.model_index = model_index("StableDiffusionXLPipeline", "EulerDiscreteScheduler");
            plan.model_index.erase("requires_safety_checker");
            plan.model_index.erase("safety_checker");
            plan.model_index.erase("feature_extractor");
            plan.model_index["force_zeros_for_empty_prompt"] = true;
            plan.model_index["text_encoder_2"] = {"transformers", "CLIPTextModelWithProjection"};
            plan.model_index["tokenizer_2"] = {"transformers", "CLIPTokenizer"};
            plan.scheduler_config = scheduler_config("EulerDiscreteScheduler", "epsilon");
            plan.scheduler_config["interpolation_type"] = "linear";
            plan.scheduler_config["use_karras_sigmas"] = false;
            add("text_encoder", "model.safetensors",
                clip_text_config("CLIPTextModel", kClipVitL, 12, "quick_gelu", 768, torch_dtype),
                clip_vit_l14_tensors(dtype));
            // text_projection.weight sits outside text_model, so it has no prefix.
            add("text_encoder_2", "model.safetensors",
                clip_text_config("CLIPTextModelWithProjection", kOpenClipVitBigG, 20, "gelu", 1280,
                                 torch_dtype),
                clip_text_tensors(kOpenClipVitBigG, dtype, kTextModelPrefix));
            ojson unet = unet_config_common();
            unet["addition_embed_type"] = "text_time";
            unet["addition_time_embed_dim"] = 256;
            unet["attention_head_dim"] = {5, 10, 20};
            unet["block_out_channels"] = {320, 640, 1280};
            unet["cross_attention_dim"] = 2048;
            unet["down_block_types"] = {"DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"};
            unet["projection_class_embeddings_input_dim"] = 2816;
            unet["sample_size"] = 128;
            unet["transformer_layers_per_block"] = {1, 2, 10};
            unet["up_block_types"] = {"CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"};
            unet["upcast_attention"] = nullptr;
            unet["use_linear_projection"] = true;
            add("unet", unet_file, unet, key_list_tensors("sdxl-unet-diffusers.json", dtype));
            add("vae", unet_file, vae_config(1024, 0.13025),
                key_list_tensors("sd-vae-diffusers.json", dtype));
            plan.tokenizers.push_back({"tokenizer", std::nullopt});
            plan.tokenizers.push_back({"tokenizer_2", std::string("!")});
            break;
        }
    }
    return plan;
}

}  // namespace sdw::make_model
