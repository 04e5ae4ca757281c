#include "component_inputs.h"

#include <cmath>

namespace sdw::plugin_check {
namespace {

constexpr int64_t kLatentSize = 8;
constexpr int64_t kTokens = 77;

Tensor zeros(std::string name, std::vector<int64_t> shape, sdw_dtype dtype = SDW_DTYPE_F32) {
    return Tensor(std::move(name), dtype, std::move(shape));
}

// Deterministic values in [lo, hi): a linear congruential sequence, so every run of
// the checker feeds a plugin the same numbers.
Tensor filled(std::string name, std::vector<int64_t> shape, float lo, float hi, uint32_t seed) {
    Tensor t = zeros(std::move(name), std::move(shape));
    uint32_t state = seed;
    for (float &value : t.f32()) {
        state = state * 1664525u + 1013904223u;
        value = lo + (hi - lo) * static_cast<float>(state >> 8) / 16777216.0f;
    }
    return t;
}

// BOS, a few ordinary CLIP tokens, EOS, then EOS padding (as SD 1.x pads).
Tensor token_ids() {
    Tensor t = zeros("input_ids", {1, kTokens}, SDW_DTYPE_I32);
    const int32_t prompt[] = {49406, 320, 1929, 2368, 530, 518, 2117, 49407};
    const std::span<int32_t> ids = t.i32();
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = i < 8 ? prompt[i] : 49407;
    return t;
}

ComponentCase text_encoder_case(const ModelComponent &component, const TextEncoderSummary &s) {
    ComponentCase c{"text_encoder", &component, 0, {}, {}};
    c.inputs.push_back(token_ids());
    c.outputs.push_back(zeros("last_hidden_state", {1, kTokens, s.hidden_size}));
    c.outputs.push_back(zeros("pooled", {1, s.pooled_dim}));
    if (s.num_hidden_layers >= 2) {
        c.clip_skip = 2;
        c.outputs.push_back(zeros("hidden_state", {1, kTokens, s.hidden_size}));
    }
    return c;
}

}  // namespace

bool all_finite(const Tensor &tensor) {
    if (tensor.dtype() != SDW_DTYPE_F32) return true;
    for (float value : tensor.f32()) {
        if (!std::isfinite(value)) return false;
    }
    return true;
}

std::vector<ComponentCase> component_cases(const ModelFolder &model) {
    std::vector<ComponentCase> cases;
    if (model.has_text_encoder())
        cases.push_back(text_encoder_case(model.text_encoder(), model.text_encoder_summary()));
    if (model.text_encoder_2() != nullptr && model.text_encoder_2_summary() != nullptr) {
        cases.push_back(text_encoder_case(*model.text_encoder_2(), *model.text_encoder_2_summary()));
    }

    const UNetSummary &unet = model.unet_summary();
    ComponentCase u{"unet", &model.unet(), 0, {}, {}};
    u.inputs.push_back(filled("sample", {1, unet.in_channels, kLatentSize, kLatentSize}, -1, 1, 1));
    u.inputs.push_back(filled("timestep", {1}, 400, 600, 2));
    u.inputs.push_back(filled("encoder_hidden_states", {1, kTokens, unet.cross_attention_dim}, -1, 1, 3));
    if (model.has_text_time_conditioning()) {
        const int64_t ids = model.time_id_count().value_or(6);
        const int64_t pooled = unet.projection_class_embeddings_input_dim.value_or(0) -
                               ids * unet.addition_time_embed_dim.value_or(0);
        u.inputs.push_back(filled("text_embeds", {1, pooled}, -1, 1, 4));
        u.inputs.push_back(filled("time_ids", {1, ids}, 0, 1024, 5));
    }
    u.outputs.push_back(zeros("noise_pred", {1, unet.out_channels, kLatentSize, kLatentSize}));
    cases.push_back(std::move(u));

    const VaeSummary &vae = model.vae_summary();
    const int64_t pixels = kLatentSize * vae.downscale_factor;
    ComponentCase decoder{"vae_decoder", &model.vae(), 0, {}, {}};
    decoder.inputs.push_back(filled("latents", {1, vae.latent_channels, kLatentSize, kLatentSize}, -2, 2, 6));
    decoder.outputs.push_back(zeros("image", {1, vae.out_channels, pixels, pixels}));
    cases.push_back(std::move(decoder));

    ComponentCase encoder{"vae_encoder", &model.vae(), 0, {}, {}};
    encoder.inputs.push_back(filled("image", {1, vae.in_channels, pixels, pixels}, -1, 1, 7));
    encoder.outputs.push_back(zeros("mean", {1, vae.latent_channels, kLatentSize, kLatentSize}));
    encoder.outputs.push_back(zeros("logvar", {1, vae.latent_channels, kLatentSize, kLatentSize}));
    cases.push_back(std::move(encoder));
    return cases;
}

}  // namespace sdw::plugin_check
