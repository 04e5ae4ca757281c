#include "model/tensor_names.h"

#include <array>
#include <string_view>
#include <utility>

namespace sdw {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

std::string canonical_vae_name(const std::string& name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kRenames{{
        {".query.", ".to_q."},
        {".key.", ".to_k."},
        {".value.", ".to_v."},
        {".proj_attn.", ".to_out.0."},
    }};
    if (name.find(".attentions.") == std::string::npos) return name;
    for (const auto& [legacy, current] : kRenames) {
        const size_t at = name.rfind(legacy);
        if (at != std::string::npos) {
            std::string renamed = name;
            renamed.replace(at, legacy.size(), current);
            return renamed;
        }
    }
    return name;
}

}  // namespace

std::optional<std::string> canonical_tensor_name(ComponentKind kind, const std::string& name) {
    switch (kind) {
        case ComponentKind::TextEncoder: {
            constexpr std::string_view kPrefix = "text_model.";
            std::string rest = starts_with(name, kPrefix) ? name.substr(kPrefix.size()) : name;
            if (rest == "embeddings.position_ids") return std::nullopt;
            return rest;
        }
        case ComponentKind::Vae: return canonical_vae_name(name);
        case ComponentKind::UNet: return name;
    }
    return name;
}

}  // namespace sdw
