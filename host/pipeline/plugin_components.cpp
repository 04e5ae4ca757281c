#include "pipeline/plugin_components.h"

#include "model/resident_page_trimmer.h"
#include "pipeline/generation.h"
#include "plugin/plugin_errors.h"

#include <sdw/plugin_api.h>
#include <sdw/tensor_views.hpp>

#include <algorithm>
#include <stdexcept>

namespace sdw {
namespace {

using plugin::make_view;

// A view into `t`, for inputs and outputs alike: the plugin writes only the outputs (which
// this file never declares const), as the ABI's ownership rules say.
sdw_tensor_view f32_view(const char *name, const FloatTensor &t) {
    return make_view(name, SDW_DTYPE_F32, t.shape, t.data.data());
}

// Runs a component; a stop the host asked for surfaces as GenerationCancelled, the
// same exception a cancel between steps gives, whichever side noticed it first.
void run_component(LoadedComponent &component, std::span<const sdw_tensor_view> inputs,
                   std::span<sdw_tensor_view> outputs, int32_t clip_skip, const CancelCheck &cancel) {
    try {
        component.run(inputs, outputs, clip_skip, cancel);
    } catch (const PluginCallError &e) {
        if (e.cancelled()) throw GenerationCancelled();
        throw;
    }
}

// The plugin copies the weights; the trimmer drops the mapped file pages it has read
// as it goes, so loading peaks near the plugin's copy instead of copy + mapping.
LoadedComponent load(PluginContext &context, const char *kind, const ModelComponent &component) {
    const ResidentPageTrimmer trimmer(component);
    return context.load_component(kind, component.config_text(), component.weights());
}

// A component the plugin may not implement: nullopt when it says SDW_STATUS_UNSUPPORTED.
std::optional<LoadedComponent> load_optional(PluginContext &context, const char *kind,
                                             const ModelComponent &component) {
    try {
        return load(context, kind, component);
    } catch (const PluginCallError &e) {
        if (e.status() != SDW_STATUS_UNSUPPORTED || e.plugin_bug()) throw;
        return std::nullopt;
    }
}

}  // namespace

PluginComponents::PluginComponents(PluginContext &context, const ModelFolder &model)
    : text_encoder_(model.has_text_encoder()
                        ? std::optional<LoadedComponent>(load(context, "text_encoder", model.text_encoder()))
                        : std::nullopt),
      unet_(load(context, "unet", model.unet())),
      vae_decoder_(load(context, "vae_decoder", model.vae())),
      vae_encoder_(load_optional(context, "vae_encoder", model.vae())),
      unet_out_channels_(model.unet_summary().out_channels),
      vae_out_channels_(model.vae_summary().out_channels),
      latent_channels_(model.vae_summary().latent_channels),
      vae_scale_factor_(model.vae_summary().downscale_factor),
      vae_tiling_(VaeTiling::for_vae(model.vae_summary().sample_size, model.vae_summary().downscale_factor)) {
    if (model.has_text_encoder()) {
        text_hidden_size_ = model.text_encoder_summary().hidden_size;
        text_pooled_dim_ = model.text_encoder_summary().pooled_dim;
    }
    if (const ModelComponent *second = model.text_encoder_2()) {
        // Same architecture and ABI kind as the first encoder (CLIP, with a projection).
        text_encoder_2_.emplace(load(context, "text_encoder", *second));
        text_2_hidden_size_ = model.text_encoder_2_summary()->hidden_size;
        text_2_pooled_dim_ = model.text_encoder_2_summary()->pooled_dim;
    }
}

FloatTensor PluginComponents::encode_text(const std::vector<int32_t> &ids, int64_t batch,
                                          int64_t length, int clip_skip,
                                          const CancelCheck &cancel) {
    const sdw_tensor_view in = make_view("input_ids", SDW_DTYPE_I32, {batch, length}, ids.data());
    FloatTensor out({batch, length, text_hidden_size_});
    // clip_skip 1 is the final, normed output; deeper skips take an earlier layer and
    // normalise it the same way (diffusers' clip_skip).
    sdw_tensor_view o =
        f32_view(clip_skip <= 1 ? "last_hidden_state" : "hidden_state_normed", out);
    if (!text_encoder_) throw std::logic_error("this model has no text_encoder");
    run_component(*text_encoder_, {&in, 1}, {&o, 1}, clip_skip, cancel);
    return out;
}

FloatTensor PluginComponents::predict_noise(const FloatTensor &sample,
                                            const std::vector<float> &timesteps,
                                            const FloatTensor &context, const CancelCheck &cancel) {
    const sdw_tensor_view inputs[] = {
        f32_view("sample", sample),
        make_view("timestep", SDW_DTYPE_F32, {static_cast<int64_t>(timesteps.size())},
                  timesteps.data()),
        f32_view("encoder_hidden_states", context),
    };
    return run_unet(inputs, sample, cancel);
}

FloatTensor PluginComponents::predict_noise_text_time(const FloatTensor &sample,
                                                      const std::vector<float> &timesteps,
                                                      const FloatTensor &context,
                                                      const FloatTensor &text_embeds,
                                                      const FloatTensor &time_ids,
                                                      const CancelCheck &cancel) {
    const sdw_tensor_view inputs[] = {
        f32_view("sample", sample),
        make_view("timestep", SDW_DTYPE_F32, {static_cast<int64_t>(timesteps.size())},
                  timesteps.data()),
        f32_view("encoder_hidden_states", context),
        f32_view("text_embeds", text_embeds),
        f32_view("time_ids", time_ids),
    };
    return run_unet(inputs, sample, cancel);
}

FloatTensor PluginComponents::run_unet(std::span<const sdw_tensor_view> inputs,
                                       const FloatTensor &sample, const CancelCheck &cancel) {
    if (sample.shape != prepared_unet_shape_) {
        unet_.prepare(inputs);
        prepared_unet_shape_ = sample.shape;
    }
    FloatTensor out({sample.shape.at(0), unet_out_channels_, sample.shape.at(2), sample.shape.at(3)});
    sdw_tensor_view o = f32_view("noise_pred", out);
    run_component(unet_, inputs, {&o, 1}, 0, cancel);
    return out;
}

TextEncoding PluginComponents::encode_text_layer(TextEncoderSlot encoder,
                                                 const std::vector<int32_t> &ids, int64_t batch,
                                                 int64_t length, int clip_skip, bool with_pooled,
                                                 const CancelCheck &cancel) {
    const bool second = encoder == TextEncoderSlot::second;
    if (second && !text_encoder_2_) throw std::logic_error("this model has no text_encoder_2");
    if (!second && !text_encoder_) throw std::logic_error("this model has no text_encoder");
    LoadedComponent &component = second ? *text_encoder_2_ : *text_encoder_;
    const int64_t hidden = second ? text_2_hidden_size_ : text_hidden_size_;
    const int64_t pooled_dim = second ? text_2_pooled_dim_ : text_pooled_dim_;

    const sdw_tensor_view in = make_view("input_ids", SDW_DTYPE_I32, {batch, length}, ids.data());
    TextEncoding out;
    out.hidden_state = FloatTensor({batch, length, hidden});
    if (with_pooled) out.pooled = FloatTensor({batch, pooled_dim});
    sdw_tensor_view outs[] = {f32_view("hidden_state", out.hidden_state),
                              f32_view("pooled", out.pooled)};
    run_component(component, {&in, 1}, {outs, with_pooled ? 2u : 1u}, clip_skip, cancel);
    return out;
}

FloatTensor PluginComponents::decode(const FloatTensor &latents, const CancelCheck &cancel) {
    // One image at a time: the decoder's activations at full resolution dominate its memory
    // (eight 2048x2048 images at once would need tens of GB), so the backend plans and
    // holds them for a single image, and the batch costs only its output pixels. Images
    // beyond four VAE tiles are decoded in tiles (tiled_vae_decode.h).
    const int64_t batch = latents.shape.at(0);
    const std::vector<int64_t> one_latent = {1, latents.shape.at(1), latents.shape.at(2), latents.shape.at(3)};
    const std::vector<int64_t> one_image = {1, vae_out_channels_, latents.shape.at(2) * vae_scale_factor_,
                                            latents.shape.at(3) * vae_scale_factor_};
    FloatTensor out({batch, one_image[1], one_image[2], one_image[3]});
    const bool tiled = vae_tiling_.applies(one_latent[2], one_latent[3]);
    for (int64_t b = 0; b < batch; ++b) {
        float *image = out.data.data() + b * out.item_size();
        const float *latent = latents.data.data() + b * latents.item_size();
        if (!tiled) {
            decode_whole(latent, one_latent, image, cancel);
            continue;
        }
        FloatTensor one(one_latent);
        std::copy_n(latent, one.numel(), one.data.begin());
        const FloatTensor decoded = tiled_vae_decode(one, vae_tiling_, [&](const FloatTensor &tile) {
            FloatTensor tile_image({1, vae_out_channels_, tile.shape[2] * vae_scale_factor_,
                                    tile.shape[3] * vae_scale_factor_});
            decode_whole(tile.data.data(), tile.shape, tile_image.data.data(), cancel);
            return tile_image;
        });
        std::copy(decoded.data.begin(), decoded.data.end(), image);
    }
    return out;
}

void PluginComponents::decode_whole(const float *latents, const std::vector<int64_t> &shape, float *image,
                                    const CancelCheck &cancel) {
    const std::vector<int64_t> image_shape = {shape[0], vae_out_channels_, shape[2] * vae_scale_factor_,
                                              shape[3] * vae_scale_factor_};
    const sdw_tensor_view in = make_view("latents", SDW_DTYPE_F32, shape, latents);
    sdw_tensor_view o = make_view("image", SDW_DTYPE_F32, image_shape, image);
    run_component(vae_decoder_, {&in, 1}, {&o, 1}, 0, cancel);
}

std::pair<FloatTensor, FloatTensor> PluginComponents::encode(const FloatTensor &image,
                                                             const CancelCheck &cancel) {
    const sdw_tensor_view in = f32_view("image", image);
    const std::vector<int64_t> shape = {image.shape.at(0), latent_channels_,
                                        image.shape.at(2) / vae_scale_factor_,
                                        image.shape.at(3) / vae_scale_factor_};
    FloatTensor mean(shape), logvar(shape);
    sdw_tensor_view outs[] = {f32_view("mean", mean), f32_view("logvar", logvar)};
    if (!vae_encoder_) throw std::logic_error("encode() called without a vae_encoder");
    run_component(*vae_encoder_, {&in, 1}, outs, 0, cancel);
    return {std::move(mean), std::move(logvar)};
}

}  // namespace sdw
