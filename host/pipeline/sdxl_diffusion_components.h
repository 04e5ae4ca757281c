// The networks an SDXL pipeline calls besides those of SD 1.x: a second text encoder,
// hidden states taken before the final layer norm, the pooled (projected) text
// embedding, and a UNet conditioned on it and on the size/crop "time ids"
// (addition_embed_type "text_time"). The production implementation is
// PluginComponents; the interface keeps the pipeline testable on its own.
#pragma once

#include "pipeline/diffusion_components.h"

namespace sdw {

enum class TextEncoderSlot { first, second };  // text_encoder, text_encoder_2

struct TextEncoding {
    FloatTensor hidden_state;  // [B, L, D]: transformers' hidden_states[-clip_skip], un-normed
    FloatTensor pooled;        // [B, pooled_dim] when asked for, else empty
};

class SdxlDiffusionComponents : public DiffusionComponents {
public:
    // ids: [batch, length]. clip_skip follows the ABI (1 = last layer, 2 = penultimate,
    // which is what SDXL conditions on). The pooled output is the final layer's,
    // projected when the encoder has a projection, whatever clip_skip says.
    virtual TextEncoding encode_text_layer(TextEncoderSlot encoder, const std::vector<int32_t> &ids,
                                           int64_t batch, int64_t length, int clip_skip,
                                           bool with_pooled, const CancelCheck &cancel) = 0;
    // predict_noise with the UNet's added conditioning: text_embeds [B, pooled_dim] and
    // time_ids [B, n_ids].
    virtual FloatTensor predict_noise_text_time(const FloatTensor &sample,
                                                const std::vector<float> &timesteps,
                                                const FloatTensor &context,
                                                const FloatTensor &text_embeds,
                                                const FloatTensor &time_ids,
                                                const CancelCheck &cancel) = 0;
};

}  // namespace sdw
