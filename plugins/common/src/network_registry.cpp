// The networks by ABI component kind.
#include <sdw/nn/component.h>
#include <sdw/nn/network.h>

#include "autoencoder_kl.h"
#include "clip_text_encoder.h"
#include "unet_2d_condition.h"

namespace sdw::nn {

std::unique_ptr<Network> load_network(Ops &ops, const sdw_component_desc &desc) {
    if (desc.kind == nullptr) throw Error(SDW_STATUS_INVALID_ARGUMENT, "component kind is NULL");
    const std::string kind = desc.kind;
    if (kind == "text_encoder") return load_clip_text_encoder(ops, desc);
    if (kind == "unet") return load_unet_2d_condition(ops, desc);
    if (kind == "vae_decoder") return load_vae_decoder(ops, desc);
    if (kind == "vae_encoder") return load_vae_encoder(ops, desc);
    throw Error(SDW_STATUS_UNSUPPORTED,
                "unknown component kind '" + kind + "' (known: text_encoder, unet, vae_decoder, vae_encoder)");
}

}  // namespace sdw::nn
