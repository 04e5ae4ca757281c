// Shared pieces of the compatibility tests: fixture model folders opened with the host's
// model reader (host/model) and their components loaded on the cpu-blas Ops the way a plugin's
// component_load receives them, plus config edits that turn a fixture into another model
// family's variant of the same architecture.
#pragma once

#include "component_fixture.h"
#include "model/model_folder.h"

#include <nlohmann/json.hpp>
#include <sdw/nn/component.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sdw::compat {

using nn::test::HostTensor;

// tests/fixtures/models/<name> and tests/fixtures/golden/<name>.
std::filesystem::path fixture_model(const std::string &name);
std::filesystem::path fixture_golden(const std::string &name);

// `component` (weights as ModelFolder names them) loaded on the cpu Ops as `abi_kind`
// ("text_encoder", "unet", "vae_decoder", "vae_encoder").
std::unique_ptr<nn::Component> load_on_cpu(const ModelComponent &component, const char *abi_kind);

// A component description with its own copy of the config text and of the weight views
// (the data stays in the ModelComponent's mapping), so a test can edit either.
struct EditedComponent {
    std::string config;
    std::vector<sdw_tensor_view> weights;

    sdw_component_desc desc(const char *abi_kind) const;
    std::unique_ptr<nn::Component> load_on_cpu(const char *abi_kind) const;
};
EditedComponent edit_config(const ModelComponent &component,
                            const std::function<void(nlohmann::json &config)> &edit);

// A text encoder run on one row of token ids; only the named outputs are computed.
struct TextEncoderOutputs {
    std::vector<float> hidden_state;  // [1, L, D] at clip_skip, without the final norm
    std::vector<float> pooled;        // [1, D] or [1, projection_dim]
};
TextEncoderOutputs encode_ids(nn::Component &encoder, std::vector<int32_t> ids, int64_t hidden,
                              int64_t pooled_dim, int clip_skip);

// [rows, a_dim] ++ [rows, b_dim] -> [rows, a_dim + b_dim] (torch.cat(..., dim=-1)).
std::vector<float> concat_features(const std::vector<float> &a, int64_t a_dim,
                                   const std::vector<float> &b, int64_t b_dim);

// Largest |a - b|.
double max_abs_diff(const std::vector<float> &a, const std::vector<float> &b);

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::filesystem::path &path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace sdw::compat
