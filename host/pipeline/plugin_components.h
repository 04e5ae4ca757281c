// DiffusionComponents backed by a plugin: the four components of a diffusers model
// (five for SDXL, with text_encoder_2) loaded into one plugin context. Output buffers
// are allocated here, with the shapes the ABI documents, computed from the model's configs.
#pragma once

#include "model/model_folder.h"
#include "pipeline/sdxl_diffusion_components.h"
#include "pipeline/tiled_vae_decode.h"
#include "plugin/loaded_component.h"
#include "plugin/plugin_context.h"

#include <optional>

namespace sdw {

class PluginComponents final : public SdxlDiffusionComponents {
public:
    // Loads every component of `model` into `context` (weights are copied by the
    // plugin; `model` may be closed afterwards): text_encoder unless it is a refiner,
    // text_encoder_2 when it has one; a vae_encoder the plugin answers SDW_STATUS_UNSUPPORTED for is left out
    // (can_encode() false). Throws PluginCallError.
    PluginComponents(PluginContext &context, const ModelFolder &model);

    FloatTensor encode_text(const std::vector<int32_t> &ids, int64_t batch, int64_t length,
                            int clip_skip, const CancelCheck &cancel) override;
    FloatTensor predict_noise(const FloatTensor &sample, const std::vector<float> &timesteps,
                              const FloatTensor &context, const CancelCheck &cancel) override;
    FloatTensor decode(const FloatTensor &latents, const CancelCheck &cancel) override;
    std::pair<FloatTensor, FloatTensor> encode(const FloatTensor &image,
                                               const CancelCheck &cancel) override;
    bool can_encode() const override { return vae_encoder_.has_value(); }

    // SDXL. TextEncoderSlot::second throws std::logic_error for a model without
    // text_encoder_2.
    TextEncoding encode_text_layer(TextEncoderSlot encoder, const std::vector<int32_t> &ids,
                                   int64_t batch, int64_t length, int clip_skip, bool with_pooled,
                                   const CancelCheck &cancel) override;
    FloatTensor predict_noise_text_time(const FloatTensor &sample, const std::vector<float> &timesteps,
                                        const FloatTensor &context, const FloatTensor &text_embeds,
                                        const FloatTensor &time_ids,
                                        const CancelCheck &cancel) override;

private:
    // The UNet on `inputs` (sample first), prepared again whenever the sample shape changes.
    FloatTensor run_unet(std::span<const sdw_tensor_view> inputs, const FloatTensor &sample,
                         const CancelCheck &cancel);
    // The VAE decoder on latents [N, C, h, w] at `latents`, into `image` (N x 3 x 8h x 8w).
    void decode_whole(const float *latents, const std::vector<int64_t> &shape, float *image,
                      const CancelCheck &cancel);

    std::optional<LoadedComponent> text_encoder_;  // nullopt: a refiner, text_encoder_2 only
    LoadedComponent unet_;
    LoadedComponent vae_decoder_;
    std::optional<LoadedComponent> vae_encoder_;  // nullopt: the plugin has none
    std::optional<LoadedComponent> text_encoder_2_;
    int64_t text_hidden_size_ = 0;
    int64_t text_pooled_dim_ = 0;
    int64_t text_2_hidden_size_ = 0;
    int64_t text_2_pooled_dim_ = 0;
    int64_t unet_out_channels_;
    int64_t vae_out_channels_;
    int64_t latent_channels_;
    int64_t vae_scale_factor_;
    VaeTiling vae_tiling_;
    std::vector<int64_t> prepared_unet_shape_;  // the shape last announced to prepare()
};

}  // namespace sdw
