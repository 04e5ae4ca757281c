// One component folder of a diffusers model (unet/, vae/, text_encoder/, ...): its config and
// its weights, memory-mapped and presented as named tensor views for a plugin's component_load.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <sdw/plugin_api.h>

#include "model/safetensors.h"
#include "model/tensor_names.h"

namespace sdw {

class ModelComponent {
public:
    // Reads <dir>/config.json and the weights, looked up in this order:
    //   <weights_stem>.safetensors, <weights_stem>.safetensors.index.json (shards),
    //   <weights_stem>.fp16.safetensors, <weights_stem>.fp16.safetensors.index.json
    // (the stem is "model" for transformers, "diffusion_pytorch_model" for diffusers).
    // Tensor names are mapped to their canonical form (tensor_names.h); a name that occurs twice
    // after mapping, an F64 weight, or a weight of more than SDW_MAX_DIMS dimensions is an error.
    // Errors are std::runtime_error naming the offending path.
    static ModelComponent load(const std::filesystem::path& dir, ComponentKind kind,
                               const std::string& weights_stem);

    // A weight already given its canonical name, whose bytes live elsewhere (see from_mapped).
    struct MappedWeight {
        std::string name;
        DType dtype;
        std::vector<int64_t> shape;
        const void* data;
    };
    // A component whose weights are views into `file`, which other components may share (the
    // networks of a single-file checkpoint), or into `owned` buffers the component keeps (a
    // tensor the mapping changed the layout of). `where` stands for the folder in messages;
    // `config` is the component's config.json content. Checks names are unique and dtypes and
    // ranks are what the ABI takes, as load() does.
    static ModelComponent from_mapped(ComponentKind kind, std::filesystem::path where,
                                      nlohmann::json config,
                                      std::shared_ptr<const SafetensorsFile> file,
                                      std::vector<MappedWeight> weights,
                                      std::vector<std::vector<uint8_t>> owned);

    ModelComponent(ModelComponent&&) noexcept = default;
    ModelComponent& operator=(ModelComponent&&) noexcept = default;
    ModelComponent(const ModelComponent&) = delete;
    ModelComponent& operator=(const ModelComponent&) = delete;

    ComponentKind kind() const { return kind_; }
    const std::filesystem::path& dir() const { return dir_; }
    const std::string& config_text() const { return config_text_; }
    const nlohmann::json& config() const { return config_; }
    // The files load() read (empty for from_mapped components, whose file is shared).
    const std::vector<SafetensorsFile>& files() const { return files_; }

    // Every weight, canonically named, in file order. The views (names and data) stay valid as
    // long as this object lives, including after it is moved. `data` points into a read-only
    // mapping: writing through it crashes. F32/F16/BF16 are passed as stored.
    const std::vector<sdw_tensor_view>& weights() const { return weights_; }
    // Drops the resident pages of every weight file (SafetensorsFile::drop_resident_pages);
    // the views stay valid and read the same data.
    void drop_resident_pages() const noexcept;
    // By canonical name; nullptr when absent.
    const sdw_tensor_view* find(const std::string& canonical_name) const;

    // The descriptor for sdw_plugin_api::component_load. `abi_kind` ("unet", "vae_decoder", ...)
    // must outlive the descriptor; the rest points into this object.
    sdw_component_desc describe(const char* abi_kind) const;

private:
    ModelComponent() = default;
    void add_file(SafetensorsFile file);

    ComponentKind kind_ = ComponentKind::UNet;
    std::filesystem::path dir_;
    std::string config_text_;
    nlohmann::json config_;
    std::vector<SafetensorsFile> files_;
    std::shared_ptr<const SafetensorsFile> shared_file_;  // from_mapped
    std::vector<std::vector<uint8_t>> owned_;              // from_mapped; buffers never move
    // Moving a vector hands over its buffer, so the strings (and their c_str()) never move.
    std::vector<std::string> names_;
    std::vector<sdw_tensor_view> weights_;
    std::unordered_map<std::string, size_t> index_;
};

// The safetensors files holding a component's weights (see ModelComponent::load for the order).
std::vector<std::filesystem::path> find_weight_files(const std::filesystem::path& dir,
                                                     const std::string& weights_stem);

}  // namespace sdw
