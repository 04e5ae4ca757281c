// Canonical tensor names for each component kind.
//
// Checkpoints of the same model come with different spellings; the host maps them all to one
// form so a plugin knows exactly one name per weight (plugin_api.h, section 6).
#pragma once

#include <optional>
#include <string>

namespace sdw {

enum class ComponentKind { TextEncoder, UNet, Vae };

// The canonical name of `name` for a component of `kind`, or nullopt when the tensor is not a
// weight and is dropped.
//   - CLIP text encoders: transformers 4 saved "text_model.<rest>", transformers 5 saves
//     "<rest>" for CLIPTextModel; both become "<rest>". "text_projection.weight" never had the
//     prefix and stays. "embeddings.position_ids" (a buffer transformers 4 saved, always
//     arange(max_position_embeddings)) is dropped.
//   - VAE: diffusers before 0.14 named the mid-block attention "query", "key", "value",
//     "proj_attn"; diffusers renames them to "to_q", "to_k", "to_v", "to_out.0" on load, so do we.
//   - UNet: unchanged.
std::optional<std::string> canonical_tensor_name(ComponentKind kind, const std::string& name);

}  // namespace sdw
