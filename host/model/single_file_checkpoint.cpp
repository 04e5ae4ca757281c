#include "model/single_file_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string_view>

namespace sdw {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Weights = std::vector<ModelComponent::MappedWeight>;

constexpr int64_t kClipHeadWidth = 64;  // every CLIP / OpenCLIP text tower: heads of 64 channels
constexpr int64_t kUNetHeadWidth = 64;  // SD 2.x and SDXL UNets (SD 1.x: 8 heads at every width)
constexpr int64_t kSd1UNetHeads = 8;
constexpr int64_t kGroupNormGroups = 32;

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

std::vector<std::string> split(const std::string& name) {
    std::vector<std::string> parts;
    size_t begin = 0;
    for (size_t dot; (dot = name.find('.', begin)) != std::string::npos; begin = dot + 1)
        parts.push_back(name.substr(begin, dot - begin));
    parts.push_back(name.substr(begin));
    return parts;
}

std::string join(const std::vector<std::string>& parts, size_t from) {
    std::string out;
    for (size_t i = from; i < parts.size(); ++i) out += (i == from ? "" : ".") + parts[i];
    return out;
}

// A non-negative decimal index, or -1.
int64_t index_of(const std::string& text) {
    if (text.empty() || text.size() > 6 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return -1;
    return std::stoll(text);
}

// The tensors under one prefix, by the rest of their name.
class Section {
public:
    Section(const SafetensorsFile& file, std::string prefix, std::string what)
        : file_(file), prefix_(std::move(prefix)), what_(std::move(what)) {
        for (const TensorInfo& tensor : file.tensors())
            if (starts_with(tensor.name, prefix_)) tensors_.emplace(tensor.name.substr(prefix_.size()), &tensor);
    }
    bool empty() const { return tensors_.empty(); }
    const std::map<std::string, const TensorInfo*>& tensors() const { return tensors_; }
    const TensorInfo* find(const std::string& rest) const {
        const auto it = tensors_.find(rest);
        return it == tensors_.end() ? nullptr : it->second;
    }
    const TensorInfo& at(const std::string& rest) const {
        if (const TensorInfo* tensor = find(rest)) return *tensor;
        fail("tensor '" + prefix_ + rest + "' is missing");
    }
    // Dimension `dim` of a tensor, checking its rank is at least `min_rank`.
    int64_t dim(const std::string& rest, size_t dim_index, size_t min_rank = 1) const {
        const TensorInfo& tensor = at(rest);
        if (tensor.shape.size() < std::max(min_rank, dim_index + 1))
            fail("tensor '" + prefix_ + rest + "' has rank " + std::to_string(tensor.shape.size()));
        return tensor.shape[dim_index];
    }
    // How many consecutive indices N have a tensor named <stem>.N.<anything>.
    int64_t count(const std::string& stem) const {
        int64_t n = 0;
        while (true) {
            const std::string head = stem + "." + std::to_string(n) + ".";
            const auto it = tensors_.lower_bound(head);
            if (it == tensors_.end() || !starts_with(it->first, head)) return n;
            ++n;
        }
    }
    [[noreturn]] void fail(const std::string& reason) const {
        throw std::runtime_error(file_.path() + ": " + what_ + ": " + reason);
    }
    const std::string& prefix() const { return prefix_; }

private:
    const SafetensorsFile& file_;
    std::string prefix_;
    std::string what_;
    std::map<std::string, const TensorInfo*> tensors_;
};

ModelComponent::MappedWeight view(std::string name, const TensorInfo& tensor) {
    return {std::move(name), tensor.dtype, tensor.shape, tensor.data};
}

// ---------------------------------------------------------------- UNet

// ResBlock's LDM sub-module names (the first two parts after the block) -> diffusers'.
std::optional<std::string> resnet_part(const std::vector<std::string>& parts, size_t at) {
    static const std::map<std::string, std::string> kNames = {
        {"in_layers.0", "norm1"},      {"in_layers.2", "conv1"},         {"out_layers.0", "norm2"},
        {"out_layers.3", "conv2"},     {"emb_layers.1", "time_emb_proj"}, {"skip_connection", "conv_shortcut"}};
    if (at + 1 < parts.size()) {
        if (const auto it = kNames.find(parts[at] + "." + parts[at + 1]); it != kNames.end())
            return it->second + "." + join(parts, at + 2);
    }
    if (const auto it = kNames.find(parts[at]); it != kNames.end()) return it->second + "." + join(parts, at + 1);
    return std::nullopt;
}

struct UNetLayout {
    int64_t blocks = 0;           // len(block_out_channels)
    int64_t layers_per_block = 0;
};

// The input blocks are conv_in (0), then per block `layers` ResBlocks (each with its
// transformer, if any) and, but for the last block, a downsampler: blocks * (layers + 1) - 1
// more. The output blocks are blocks * (layers + 1).
UNetLayout unet_layout(const Section& unet) {
    const int64_t inputs = unet.count("input_blocks");
    int64_t downsamplers = 0;
    for (int64_t i = 1; i < inputs; ++i)
        if (unet.find("input_blocks." + std::to_string(i) + ".0.op.weight")) ++downsamplers;
    UNetLayout layout;
    layout.blocks = downsamplers + 1;
    const int64_t per_block = inputs / layout.blocks;  // layers + 1
    layout.layers_per_block = per_block - 1;
    if (inputs < 2 || layout.layers_per_block < 1 || inputs != layout.blocks * per_block ||
        unet.count("output_blocks") != layout.blocks * per_block || unet.count("middle_block") != 3)
        unet.fail("the input, middle and output blocks (" + std::to_string(inputs) + ", " +
                  std::to_string(unet.count("middle_block")) + ", " + std::to_string(unet.count("output_blocks")) +
                  ") are not a Stable Diffusion UNet's");
    return layout;
}

std::string unet_name(const Section& unet, const UNetLayout& layout, const std::string& rest) {
    static const std::map<std::string, std::string> kTop = {
        {"time_embed.0", "time_embedding.linear_1"}, {"time_embed.2", "time_embedding.linear_2"},
        {"out.0", "conv_norm_out"},                  {"out.2", "conv_out"}};
    const std::vector<std::string> parts = split(rest);
    const auto bad = [&]() -> std::string { unet.fail("tensor '" + unet.prefix() + rest + "' is not a UNet weight"); };
    if (parts.size() == 4 && parts[0] == "input_blocks" && parts[1] == "0" && parts[2] == "0")
        return "conv_in." + parts[3];
    if (parts.size() == 4 && parts[0] == "label_emb" && parts[1] == "0" && (parts[2] == "0" || parts[2] == "2"))
        return std::string("add_embedding.linear_") + (parts[2] == "0" ? "1." : "2.") + parts[3];
    if (parts.size() == 3)
        if (const auto it = kTop.find(parts[0] + "." + parts[1]); it != kTop.end()) return it->second + "." + parts[2];
    if (parts.size() < 4) return bad();
    const int64_t i = index_of(parts[1]);
    if (i < 0) return bad();
    if (parts[0] == "middle_block") {
        if (i == 1) return "mid_block.attentions.0." + join(parts, 2);
        if (i == 0 || i == 2)
            if (auto r = resnet_part(parts, 2)) return "mid_block.resnets." + std::to_string(i / 2) + "." + *r;
        return bad();
    }
    const int64_t sub = index_of(parts[2]);
    if (sub < 0) return bad();
    const int64_t per = layout.layers_per_block + 1;
    const std::string rest3 = join(parts, 3);
    if (parts[0] == "input_blocks" && i >= 1) {
        const std::string block = "down_blocks." + std::to_string((i - 1) / per);
        const int64_t layer = (i - 1) % per;
        if (layer == layout.layers_per_block) {  // the downsampler
            if (sub == 0 && parts[3] == "op") return block + ".downsamplers.0.conv." + join(parts, 4);
            return bad();
        }
        if (sub == 0)
            if (auto r = resnet_part(parts, 3)) return block + ".resnets." + std::to_string(layer) + "." + *r;
        if (sub == 1) return block + ".attentions." + std::to_string(layer) + "." + rest3;
        return bad();
    }
    if (parts[0] == "output_blocks") {
        const std::string block = "up_blocks." + std::to_string(i / per);
        const int64_t layer = i % per;
        if (sub == 0)
            if (auto r = resnet_part(parts, 3)) return block + ".resnets." + std::to_string(layer) + "." + *r;
        // The upsampler follows the last ResBlock (and its transformer, if the block has one).
        if ((sub == 1 || sub == 2) && parts[3] == "conv" && layer == layout.layers_per_block)
            return block + ".upsamplers.0.conv." + join(parts, 4);
        if (sub == 1) return block + ".attentions." + std::to_string(layer) + "." + rest3;
        return bad();
    }
    return bad();
}

json unet_config(const Section& unet, const UNetLayout& layout, CheckpointFamily family, bool v_prediction,
                 int64_t pooled_dim) {
    const int64_t per = layout.layers_per_block + 1;
    json channels = json::array(), down = json::array(), up = json::array(), heads = json::array(),
         depth = json::array();
    std::optional<int64_t> cross_attention_dim;
    bool linear_projection = false;
    for (int64_t b = 0; b < layout.blocks; ++b) {
        const std::string first = "input_blocks." + std::to_string(1 + b * per);
        const int64_t width = unet.dim(first + ".0.in_layers.2.weight", 0, 4);
        channels.push_back(width);
        const bool attention = unet.find(first + ".1.proj_in.weight") != nullptr;
        down.push_back(attention ? "CrossAttnDownBlock2D" : "DownBlock2D");
        depth.push_back(attention ? std::max<int64_t>(1, unet.count(first + ".1.transformer_blocks")) : 1);
        if (family != CheckpointFamily::sd1) {
            if (width % kUNetHeadWidth != 0)
                unet.fail("block width " + std::to_string(width) + " is not a multiple of the " +
                          std::to_string(kUNetHeadWidth) + "-channel attention heads of SD 2.x / SDXL");
            heads.push_back(width / kUNetHeadWidth);
        }
        if (attention) {
            cross_attention_dim = unet.dim(first + ".1.transformer_blocks.0.attn2.to_k.weight", 1, 2);
            linear_projection = unet.at(first + ".1.proj_in.weight").shape.size() == 2;
        }
    }
    for (int64_t b = 0; b < layout.blocks; ++b) {
        const bool attention =
            unet.find("output_blocks." + std::to_string(b * per) + ".1.proj_in.weight") != nullptr;
        up.push_back(attention ? "CrossAttnUpBlock2D" : "UpBlock2D");
    }
    if (!cross_attention_dim) cross_attention_dim = unet.dim("middle_block.1.transformer_blocks.0.attn2.to_k.weight", 1, 2);
    // One depth for every block when the blocks with attention agree (what the published
    // configs say: 1 for SD, 4 for SDXL's refiner), else per block (SDXL base: 1, 2, 10).
    std::set<int64_t> depths;
    for (size_t b = 0; b < down.size(); ++b)
        if (down[b] == "CrossAttnDownBlock2D") depths.insert(depth[b].get<int64_t>());
    const json transformer_depth = depths.size() == 1 ? json(*depths.begin()) : depth;
    for (const int64_t width : channels)
        if (width % kGroupNormGroups != 0)
            unet.fail("block width " + std::to_string(width) + " is not a multiple of " +
                      std::to_string(kGroupNormGroups) + " group-norm groups");

    const bool sdxl = family == CheckpointFamily::sdxl_base || family == CheckpointFamily::sdxl_refiner;
    json config = {
        {"_class_name", "UNet2DConditionModel"},
        {"act_fn", "silu"},
        {"attention_head_dim", family == CheckpointFamily::sd1 ? json(kSd1UNetHeads) : heads},
        {"block_out_channels", channels},
        {"center_input_sample", false},
        {"cross_attention_dim", *cross_attention_dim},
        {"down_block_types", down},
        {"downsample_padding", 1},
        {"flip_sin_to_cos", true},
        {"freq_shift", 0},
        {"in_channels", unet.dim("input_blocks.0.0.weight", 1, 4)},
        {"layers_per_block", layout.layers_per_block},
        {"mid_block_scale_factor", 1},
        {"norm_eps", 1e-5},
        {"norm_num_groups", kGroupNormGroups},
        {"out_channels", unet.dim("out.2.weight", 0, 4)},
        // The latent size each family was trained at (the shapes cannot say): SD 1.x 512 px,
        // SD 2.x 768 px for its v-prediction models (512 px for the base), SDXL 1024 px.
        {"sample_size", sdxl ? 128 : (family == CheckpointFamily::sd2 && v_prediction) ? 96 : 64},
        {"transformer_layers_per_block", transformer_depth},
        {"up_block_types", up},
        {"use_linear_projection", linear_projection},
    };
    if (unet.find("label_emb.0.0.weight")) {
        if (!sdxl) unet.fail("label_emb (a class embedding) is only supported in SDXL checkpoints");
        // The pooled text embedding and the time ids (6 for the base: sizes and crop; 5 for the
        // refiner: sizes, crop and aesthetic score), each embedded at the same width.
        const int64_t ids = family == CheckpointFamily::sdxl_base ? 6 : 5;
        const int64_t input = unet.dim("label_emb.0.0.weight", 1, 2);
        if (input <= pooled_dim || (input - pooled_dim) % ids != 0)
            unet.fail("label_emb.0.0.weight takes " + std::to_string(input) + " inputs, not the pooled width " +
                      std::to_string(pooled_dim) + " plus " + std::to_string(ids) + " time-id embeddings");
        config["addition_embed_type"] = "text_time";
        config["addition_time_embed_dim"] = (input - pooled_dim) / ids;
        config["projection_class_embeddings_input_dim"] = input;
    } else if (sdxl) {
        unet.fail("an SDXL UNet needs label_emb (the pooled text and time-id embedding)");
    }
    return config;
}

ModelComponent read_unet(const std::shared_ptr<const SafetensorsFile>& file, const fs::path& where,
                         CheckpointFamily family, bool v_prediction, int64_t pooled_dim) {
    const Section unet(*file, "model.diffusion_model.", "UNet");
    if (unet.empty()) unet.fail("no tensor starts with model.diffusion_model. (not a Stable Diffusion checkpoint?)");
    const UNetLayout layout = unet_layout(unet);
    Weights weights;
    for (const auto& [rest, tensor] : unet.tensors()) weights.push_back(view(unet_name(unet, layout, rest), *tensor));
    return ModelComponent::from_mapped(ComponentKind::UNet, where / "unet",
                                       unet_config(unet, layout, family, v_prediction, pooled_dim), file,
                                       std::move(weights), {});
}

// ---------------------------------------------------------------- VAE

std::string vae_resnet(const std::string& rest) {
    return starts_with(rest, "nin_shortcut.") ? "conv_shortcut." + rest.substr(13) : rest;
}

std::string vae_name(const Section& vae, int64_t blocks, const std::string& rest, bool* squeeze) {
    static const std::map<std::string, std::string> kAttention = {
        {"norm", "group_norm"}, {"q", "to_q"}, {"k", "to_k"}, {"v", "to_v"}, {"proj_out", "to_out.0"}};
    const std::vector<std::string> parts = split(rest);
    const auto bad = [&]() -> std::string { vae.fail("tensor '" + vae.prefix() + rest + "' is not a VAE weight"); };
    *squeeze = false;
    if (parts.size() < 3) {
        if (parts.size() == 2 && (parts[0] == "quant_conv" || parts[0] == "post_quant_conv")) return rest;
        return bad();
    }
    const std::string& coder = parts[0];
    if (coder != "encoder" && coder != "decoder") return bad();
    if (parts.size() == 3) {
        if (parts[1] == "conv_in" || parts[1] == "conv_out") return rest;
        if (parts[1] == "norm_out") return coder + ".conv_norm_out." + parts[2];
        return bad();
    }
    if (parts[1] == "mid") {
        if (starts_with(parts[2], "block_") && parts[2].size() == 7 && (parts[2][6] == '1' || parts[2][6] == '2'))
            return coder + ".mid_block.resnets." + std::to_string(parts[2][6] - '1') + "." + vae_resnet(join(parts, 3));
        if (parts[2] == "attn_1" && parts.size() == 5)
            if (const auto it = kAttention.find(parts[3]); it != kAttention.end()) {
                *squeeze = parts[3] != "norm" && parts[4] == "weight";  // 1x1 convolutions in LDM
                return coder + ".mid_block.attentions.0." + it->second + "." + parts[4];
            }
        return bad();
    }
    const int64_t i = parts.size() >= 4 ? index_of(parts[2]) : -1;
    if (i < 0 || i >= blocks) return bad();
    if (coder == "encoder" && parts[1] == "down") {
        const std::string block = "encoder.down_blocks." + parts[2];
        if (parts[3] == "block" && parts.size() >= 6 && index_of(parts[4]) >= 0)
            return block + ".resnets." + parts[4] + "." + vae_resnet(join(parts, 5));
        if (parts[3] == "downsample" && parts.size() == 6 && parts[4] == "conv")
            return block + ".downsamplers.0.conv." + parts[5];
    }
    if (coder == "decoder" && parts[1] == "up") {  // LDM counts the decoder's blocks from the bottom
        const std::string block = "decoder.up_blocks." + std::to_string(blocks - 1 - i);
        if (parts[3] == "block" && parts.size() >= 6 && index_of(parts[4]) >= 0)
            return block + ".resnets." + parts[4] + "." + vae_resnet(join(parts, 5));
        if (parts[3] == "upsample" && parts.size() == 6 && parts[4] == "conv")
            return block + ".upsamplers.0.conv." + parts[5];
    }
    return bad();
}

// `latent_size`: the UNet's sample size; the VAE's is the image size the family was trained at.
ModelComponent read_vae(const std::shared_ptr<const SafetensorsFile>& file, const fs::path& where, bool sdxl,
                        int64_t latent_size) {
    const Section vae(*file, "first_stage_model.", "VAE");
    if (vae.empty()) vae.fail("no tensor starts with first_stage_model.");
    const int64_t blocks = vae.count("encoder.down");
    // Real VAEs have 4 (a downscale of 8); more than 8 would overflow the sizes derived from it.
    if (blocks < 1 || blocks > 8) vae.fail(std::to_string(blocks) + " encoder.down blocks, not 1 to 8");
    json channels = json::array();
    for (int64_t i = 0; i < blocks; ++i) {
        const int64_t width = vae.dim("encoder.down." + std::to_string(i) + ".block.0.conv1.weight", 0, 4);
        if (width % kGroupNormGroups != 0)
            vae.fail("block width " + std::to_string(width) + " is not a multiple of " +
                     std::to_string(kGroupNormGroups) + " group-norm groups");
        channels.push_back(width);
    }
    Weights weights;
    for (const auto& [rest, tensor] : vae.tensors()) {
        bool squeeze = false;
        ModelComponent::MappedWeight weight = view(vae_name(vae, blocks, rest, &squeeze), *tensor);
        if (squeeze) {
            const auto& s = weight.shape;
            if (s.size() < 2 || std::any_of(s.begin() + 2, s.end(), [](int64_t d) { return d != 1; }))
                vae.fail("tensor '" + vae.prefix() + rest + "' is not a 1x1 projection");
            weight.shape.resize(2);
        }
        weights.push_back(std::move(weight));
    }
    const json config = {
        {"_class_name", "AutoencoderKL"},
        {"act_fn", "silu"},
        {"block_out_channels", channels},
        {"down_block_types", json(std::vector<std::string>(blocks, "DownEncoderBlock2D"))},
        {"force_upcast", true},
        {"in_channels", vae.dim("encoder.conv_in.weight", 1, 4)},
        {"latent_channels", vae.dim("decoder.conv_in.weight", 1, 4)},
        {"layers_per_block", vae.count("encoder.down.0.block")},
        {"norm_num_groups", kGroupNormGroups},
        {"out_channels", vae.dim("decoder.conv_out.weight", 0, 4)},
        {"sample_size", latent_size << (blocks - 1)},
        // Not in the file: the published SD (0.18215) and SDXL (0.13025) VAE scales.
        {"scaling_factor", sdxl ? 0.13025 : 0.18215},
        {"up_block_types", json(std::vector<std::string>(blocks, "UpDecoderBlock2D"))},
        {"use_quant_conv", vae.find("quant_conv.weight") != nullptr},
        {"use_post_quant_conv", vae.find("post_quant_conv.weight") != nullptr},
    };
    return ModelComponent::from_mapped(ComponentKind::Vae, where / "vae", config, file, std::move(weights), {});
}

// ---------------------------------------------------------------- text encoders

json clip_config(const Section& encoder, int64_t hidden, int64_t layers, int64_t intermediate, int64_t positions,
                 int64_t vocab, bool open_clip, std::optional<int64_t> projection_dim) {
    if (hidden % kClipHeadWidth != 0)
        encoder.fail("hidden size " + std::to_string(hidden) + " is not a multiple of the " +
                     std::to_string(kClipHeadWidth) + "-channel heads of CLIP text encoders");
    json config = {
        {"architectures", {projection_dim ? "CLIPTextModelWithProjection" : "CLIPTextModel"}},
        {"hidden_act", open_clip ? "gelu" : "quick_gelu"},
        {"hidden_size", hidden},
        {"intermediate_size", intermediate},
        {"layer_norm_eps", 1e-5},
        {"max_position_embeddings", positions},
        {"model_type", "clip_text_model"},
        {"num_attention_heads", hidden / kClipHeadWidth},
        {"num_hidden_layers", layers},
        {"projection_dim", projection_dim.value_or(hidden)},
        {"vocab_size", vocab},
        // OpenAI CLIP's real token ids; diffusers' OpenCLIP configs keep the legacy 0 / 2, with
        // which transformers pools at the highest token id (the end-of-text token) instead.
        {"bos_token_id", open_clip ? 0 : 49406},
        {"eos_token_id", open_clip ? 2 : 49407},
        {"pad_token_id", 1},
    };
    return config;
}

// OpenAI CLIP, stored in transformers' own names under `prefix` (with or without text_model.).
ModelComponent read_clip(const std::shared_ptr<const SafetensorsFile>& file, const fs::path& where,
                         const std::string& prefix, const std::string& component) {
    const Section encoder(*file, prefix, component);
    Weights weights;
    for (const auto& [rest, tensor] : encoder.tensors())
        if (auto name = canonical_tensor_name(ComponentKind::TextEncoder, rest)) weights.push_back(view(*name, *tensor));
    const std::string p = encoder.find("text_model.embeddings.token_embedding.weight") ? "text_model." : "";
    const json config = clip_config(
        encoder, encoder.dim(p + "embeddings.token_embedding.weight", 1, 2), encoder.count(p + "encoder.layers"),
        encoder.dim(p + "encoder.layers.0.mlp.fc1.weight", 0, 2), encoder.dim(p + "embeddings.position_embedding.weight", 0, 2),
        encoder.dim(p + "embeddings.token_embedding.weight", 0, 2), /*open_clip=*/false, std::nullopt);
    return ModelComponent::from_mapped(ComponentKind::TextEncoder, where / component, config, file,
                                       std::move(weights), {});
}

// OpenCLIP: fused q/k/v projections (split into three views), its own layer names, and the text
// projection stored as the matrix pooled features are multiplied by (transposed for a Linear).
// `skip_last_layer`: SD 2.x conditions on the penultimate layer, which diffusers models as an
// encoder one layer shorter (the last resblock and the projection go unused).
ModelComponent read_open_clip(const std::shared_ptr<const SafetensorsFile>& file, const fs::path& where,
                              const std::string& prefix, const std::string& component, bool skip_last_layer) {
    static const std::map<std::string, std::string> kLayerNames = {
        {"attn.out_proj", "self_attn.out_proj"}, {"ln_1", "layer_norm1"},     {"ln_2", "layer_norm2"},
        {"mlp.c_fc", "mlp.fc1"},                 {"mlp.c_proj", "mlp.fc2"}};
    const Section encoder(*file, prefix, component);
    const int64_t hidden = encoder.dim("token_embedding.weight", 1, 2);
    const int64_t stored_layers = encoder.count("transformer.resblocks");
    const int64_t layers = stored_layers - (skip_last_layer ? 1 : 0);
    if (layers < 1) encoder.fail("no transformer.resblocks");
    Weights weights;
    std::vector<std::vector<uint8_t>> owned;
    std::optional<int64_t> projection_dim;
    for (const auto& [rest, tensor] : encoder.tensors()) {
        const std::vector<std::string> parts = split(rest);
        if (rest == "token_embedding.weight") {
            weights.push_back(view("embeddings.token_embedding.weight", *tensor));
        } else if (rest == "positional_embedding") {
            weights.push_back(view("embeddings.position_embedding.weight", *tensor));
        } else if (rest == "ln_final.weight" || rest == "ln_final.bias") {
            weights.push_back(view("final_layer_norm." + parts[1], *tensor));
        } else if (rest == "text_projection") {
            if (skip_last_layer) continue;
            if (tensor->shape.size() != 2 || tensor->shape[0] != hidden)
                encoder.fail("text_projection is not [" + std::to_string(hidden) + ", projection]");
            const int64_t rows = tensor->shape[0], cols = tensor->shape[1];
            const size_t element = dtype_size(tensor->dtype);
            std::vector<uint8_t> transposed(tensor->byte_size);
            const auto* src = static_cast<const uint8_t*>(tensor->data);
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t c = 0; c < cols; ++c)
                    std::memcpy(&transposed[(c * rows + r) * element], src + (r * cols + c) * element, element);
            weights.push_back({"text_projection.weight", tensor->dtype, {cols, rows}, transposed.data()});
            owned.push_back(std::move(transposed));
            projection_dim = cols;
        } else if (parts.size() >= 5 && parts[0] == "transformer" && parts[1] == "resblocks" &&
                   index_of(parts[2]) >= 0) {
            if (index_of(parts[2]) >= layers) continue;  // SD 2.x's unused last layer
            const std::string layer = "encoder.layers." + parts[2] + ".";
            const std::string module = join(parts, 3);
            if (module == "attn.in_proj_weight" || module == "attn.in_proj_bias") {
                // Rows [0, h) are q, [h, 2h) k, [2h, 3h) v: contiguous, so three views.
                if (tensor->shape.empty() || tensor->shape[0] != 3 * hidden)
                    encoder.fail("tensor '" + prefix + rest + "' is not 3 x " + std::to_string(hidden) + " rows");
                std::vector<int64_t> shape = tensor->shape;
                shape[0] = hidden;
                const uint64_t third = tensor->byte_size / 3;
                const std::string param = module == "attn.in_proj_weight" ? "weight" : "bias";
                const char* names[] = {"q_proj", "k_proj", "v_proj"};
                for (int k = 0; k < 3; ++k)
                    weights.push_back({layer + "self_attn." + names[k] + "." + param, tensor->dtype, shape,
                                       static_cast<const uint8_t*>(tensor->data) + k * third});
                continue;
            }
            const size_t dot = module.rfind('.');
            const auto it = dot == std::string::npos ? kLayerNames.end() : kLayerNames.find(module.substr(0, dot));
            if (it == kLayerNames.end()) encoder.fail("tensor '" + prefix + rest + "' is not an OpenCLIP weight");
            weights.push_back(view(layer + it->second + module.substr(dot), *tensor));
        }
        // Anything else (logit_scale, attn_mask buffers) is not a text-encoder weight.
    }
    const json config = clip_config(encoder, hidden, layers, encoder.dim("transformer.resblocks.0.mlp.c_fc.weight", 0, 2),
                                    encoder.dim("positional_embedding", 0, 2), encoder.dim("token_embedding.weight", 0, 2),
                                    /*open_clip=*/true, projection_dim);
    return ModelComponent::from_mapped(ComponentKind::TextEncoder, where / component, config, file,
                                       std::move(weights), std::move(owned));
}

// ---------------------------------------------------------------- the checkpoint

bool has_prefix(const SafetensorsFile& file, std::string_view prefix) {
    return std::any_of(file.tensors().begin(), file.tensors().end(),
                       [&](const TensorInfo& t) { return starts_with(t.name, prefix); });
}

bool says_v_prediction(const SafetensorsFile& file, const SingleFileOptions& options) {
    if (options.prediction_type) return *options.prediction_type == "v_prediction";
    if (file.find("v_pred") != nullptr) return true;  // the marker tensor of Forge / ComfyUI
    const auto it = file.metadata().find("modelspec.prediction_type");
    return it != file.metadata().end() && it->is_string() && (*it == "v" || *it == "v_prediction");
}

json scheduler_config(CheckpointFamily family, bool v_prediction) {
    // The published SD 1.5 / 2.1 / SDXL configs: one training schedule, each family's class.
    const char* cls = family == CheckpointFamily::sd1   ? "PNDMScheduler"
                      : family == CheckpointFamily::sd2 ? "DDIMScheduler"
                                                        : "EulerDiscreteScheduler";
    return {{"_class_name", cls},
            {"beta_end", 0.012},
            {"beta_schedule", "scaled_linear"},
            {"beta_start", 0.00085},
            {"clip_sample", false},
            {"num_train_timesteps", 1000},
            {"prediction_type", v_prediction ? "v_prediction" : "epsilon"},
            {"set_alpha_to_one", false},
            {"skip_prk_steps", true},
            {"steps_offset", 1},
            {"timestep_spacing", "leading"},
            {"trained_betas", nullptr}};
}

fs::path tokenizer_dir(const SingleFileOptions& options, const char* name) {
    const fs::path dir = options.tokenizers_dir / name;
    std::error_code error;
    if (!fs::is_directory(dir, error))
        throw std::runtime_error(dir.string() + ": tokenizer folder not found (a single-file checkpoint is served "
                                 "with the tokenizers of model.tokenizers)");
    return dir;
}

}  // namespace

bool is_single_file_checkpoint(const fs::path& path) {
    std::error_code error;
    return path.extension() == ".safetensors" && fs::is_regular_file(path, error);
}

SingleFileCheckpoint read_single_file_checkpoint(const fs::path& path, const SingleFileOptions& options) {
    if (options.prediction_type && *options.prediction_type != "epsilon" && *options.prediction_type != "v_prediction")
        throw std::invalid_argument("prediction type \"" + *options.prediction_type +
                                    "\": expected \"epsilon\" or \"v_prediction\"");
    auto file = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(path.string()));

    SingleFileCheckpoint checkpoint;
    if (has_prefix(*file, "conditioner.embedders.1.model."))
        checkpoint.family = CheckpointFamily::sdxl_base;
    else if (has_prefix(*file, "conditioner.embedders.0.model."))
        checkpoint.family = CheckpointFamily::sdxl_refiner;
    else if (has_prefix(*file, "cond_stage_model.model."))
        checkpoint.family = CheckpointFamily::sd2;
    else if (has_prefix(*file, "cond_stage_model.transformer."))
        checkpoint.family = CheckpointFamily::sd1;
    else
        throw std::runtime_error(path.string() +
                                 ": no text encoder in a known layout (cond_stage_model.transformer. for SD 1.x, "
                                 "cond_stage_model.model. for SD 2.x, conditioner.embedders. for SDXL)");
    const bool v_prediction = says_v_prediction(*file, options);

    int64_t pooled_dim = 0;
    switch (checkpoint.family) {
    case CheckpointFamily::sd1:
        checkpoint.text_encoder = std::make_unique<ModelComponent>(
            read_clip(file, path, "cond_stage_model.transformer.", "text_encoder"));
        checkpoint.tokenizer_dir = tokenizer_dir(options, "clip");
        break;
    case CheckpointFamily::sd2:
        checkpoint.text_encoder = std::make_unique<ModelComponent>(
            read_open_clip(file, path, "cond_stage_model.model.", "text_encoder", /*skip_last_layer=*/true));
        checkpoint.tokenizer_dir = tokenizer_dir(options, "open-clip");
        break;
    case CheckpointFamily::sdxl_base:
        checkpoint.text_encoder = std::make_unique<ModelComponent>(
            read_clip(file, path, "conditioner.embedders.0.transformer.", "text_encoder"));
        checkpoint.tokenizer_dir = tokenizer_dir(options, "clip");
        [[fallthrough]];
    case CheckpointFamily::sdxl_refiner: {
        const std::string prefix = checkpoint.family == CheckpointFamily::sdxl_base ? "conditioner.embedders.1.model."
                                                                                    : "conditioner.embedders.0.model.";
        checkpoint.text_encoder_2 = std::make_unique<ModelComponent>(
            read_open_clip(file, path, prefix, "text_encoder_2", /*skip_last_layer=*/false));
        checkpoint.tokenizer_2_dir = tokenizer_dir(options, "open-clip");
        const sdw_tensor_view* projection = checkpoint.text_encoder_2->find("text_projection.weight");
        if (projection == nullptr)
            throw std::runtime_error(path.string() + ": " + prefix + "text_projection is missing");
        pooled_dim = projection->shape[0];
        break;
    }
    }
    const bool sdxl = checkpoint.text_encoder_2 != nullptr;
    checkpoint.unet = std::make_unique<ModelComponent>(read_unet(file, path, checkpoint.family, v_prediction, pooled_dim));
    checkpoint.vae = std::make_unique<ModelComponent>(
        read_vae(file, path, sdxl, checkpoint.unet->config()["sample_size"].get<int64_t>()));
    checkpoint.scheduler_config = scheduler_config(checkpoint.family, v_prediction);

    json index = {{"unet", {"diffusers", "UNet2DConditionModel"}},
                  {"vae", {"diffusers", "AutoencoderKL"}},
                  {"scheduler", {"diffusers", checkpoint.scheduler_config["_class_name"]}}};
    switch (checkpoint.family) {
    case CheckpointFamily::sd1:
    case CheckpointFamily::sd2:
        index["_class_name"] = "StableDiffusionPipeline";
        index["text_encoder"] = {"transformers", "CLIPTextModel"};
        index["tokenizer"] = {"transformers", "CLIPTokenizer"};
        break;
    case CheckpointFamily::sdxl_base:
        index["_class_name"] = "StableDiffusionXLPipeline";
        index["text_encoder"] = {"transformers", "CLIPTextModel"};
        index["tokenizer"] = {"transformers", "CLIPTokenizer"};
        index["text_encoder_2"] = {"transformers", "CLIPTextModelWithProjection"};
        index["tokenizer_2"] = {"transformers", "CLIPTokenizer"};
        index["force_zeros_for_empty_prompt"] = true;
        break;
    case CheckpointFamily::sdxl_refiner:
        index["_class_name"] = "StableDiffusionXLImg2ImgPipeline";
        index["text_encoder"] = {nullptr, nullptr};
        index["tokenizer"] = {nullptr, nullptr};
        index["text_encoder_2"] = {"transformers", "CLIPTextModelWithProjection"};
        index["tokenizer_2"] = {"transformers", "CLIPTokenizer"};
        index["force_zeros_for_empty_prompt"] = false;
        index["requires_aesthetics_score"] = true;
        break;
    }
    checkpoint.model_index = std::move(index);
    return checkpoint;
}

}  // namespace sdw
