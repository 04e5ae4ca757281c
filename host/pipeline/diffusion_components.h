// The four networks a Stable Diffusion pipeline calls, seen from the host. The
// production implementation forwards to a backend plugin's components
// (plugin_components.h); keeping the pipeline behind this interface keeps its
// arithmetic testable on its own.
#pragma once

#include "pipeline/float_tensor.h"

#include <functional>
#include <utility>

namespace sdw {

using CancelCheck = std::function<bool()>;

class DiffusionComponents {
public:
    virtual ~DiffusionComponents() = default;

    // ids: [batch, length] token ids -> [batch, length, hidden] conditioning. clip_skip
    // follows the ABI (1 = last layer, 2 = penultimate, with the final layer norm).
    virtual FloatTensor encode_text(const std::vector<int32_t> &ids, int64_t batch,
                                    int64_t length, int clip_skip, const CancelCheck &cancel) = 0;
    // sample [B, in_channels, h, w], one timestep per item, context [B, L, D].
    virtual FloatTensor predict_noise(const FloatTensor &sample, const std::vector<float> &timesteps,
                                      const FloatTensor &context, const CancelCheck &cancel) = 0;
    // latents (already divided by the scaling factor) -> image in about [-1, 1].
    virtual FloatTensor decode(const FloatTensor &latents, const CancelCheck &cancel) = 0;
    // False when there is no VAE encoder (a backend without one): encode() must not
    // be called, the pipeline serves txt2img only.
    virtual bool can_encode() const { return true; }
    // image in [-1, 1] -> (mean, logvar) of the latent posterior.
    virtual std::pair<FloatTensor, FloatTensor> encode(const FloatTensor &image,
                                                       const CancelCheck &cancel) = 0;
};

}  // namespace sdw
