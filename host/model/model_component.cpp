#include "model/model_component.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <sdw/tensor_views.hpp>

#include "model/config_reader.h"

namespace sdw {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& path) {
    std::error_code error;
    return fs::is_regular_file(path, error);
}

// Shard files named by a safetensors index: {"weight_map": {"<tensor>": "<file>", ...}}.
// Returns them sorted and checks that each tensor the index names is in its shard.
std::vector<fs::path> shards_of_index(const fs::path& index_path,
                                      std::vector<std::pair<std::string, std::string>>* expected) {
    const nlohmann::json index = read_json_object(index_path);
    const auto map_it = index.find("weight_map");
    if (map_it == index.end() || !map_it->is_object() || map_it->empty())
        throw std::runtime_error(index_path.string() + ": weight_map: missing or empty");
    std::set<std::string> shard_names;
    for (const auto& [tensor, shard] : map_it->items()) {
        if (!shard.is_string())
            throw std::runtime_error(index_path.string() + ": weight_map: '" + tensor +
                                     "' does not name a file");
        const std::string shard_name = shard.get<std::string>();
        // Shards live next to the index; a path would let a model folder reach elsewhere.
        if (shard_name.empty() || shard_name.find('/') != std::string::npos ||
            shard_name.find('\\') != std::string::npos || shard_name == "." || shard_name == "..")
            throw std::runtime_error(index_path.string() + ": weight_map: '" + shard_name +
                                     "' is not a plain file name");
        shard_names.insert(shard_name);
        if (expected != nullptr) expected->emplace_back(tensor, shard_name);
    }
    std::vector<fs::path> shards;
    for (const std::string& name : shard_names) shards.push_back(index_path.parent_path() / name);
    return shards;
}

// What the ABI cannot carry: F64, more than SDW_MAX_DIMS dimensions. `where` names the file.
void check_abi_weight(const std::string& where, const std::string& name, DType dtype, size_t rank) {
    if (dtype == DType::F64)
        throw std::runtime_error(where + ": tensor '" + name + "': F64 weights are not supported");
    if (rank > SDW_MAX_DIMS)
        throw std::runtime_error(where + ": tensor '" + name + "' has " + std::to_string(rank) +
                                 " dimensions, more than " + std::to_string(SDW_MAX_DIMS));
}

}  // namespace

std::vector<fs::path> find_weight_files(const fs::path& dir, const std::string& weights_stem) {
    for (const std::string variant : {"", ".fp16"}) {
        const fs::path single = dir / (weights_stem + variant + ".safetensors");
        if (is_file(single)) return {single};
        const fs::path index = dir / (weights_stem + variant + ".safetensors.index.json");
        if (is_file(index)) return shards_of_index(index, nullptr);
    }
    std::string reason = "no weights: expected " + weights_stem + ".safetensors or " +
                         weights_stem + ".safetensors.index.json";
    if (is_file(dir / (weights_stem + ".bin")))
        reason += " (PyTorch .bin weights are not supported; convert them to safetensors)";
    throw std::runtime_error(dir.string() + ": " + reason);
}

ModelComponent ModelComponent::load(const fs::path& dir, ComponentKind kind,
                                    const std::string& weights_stem) {
    std::error_code error;
    if (!fs::is_directory(dir, error))
        throw std::runtime_error(dir.string() + ": component folder not found");

    ModelComponent component;
    component.kind_ = kind;
    component.dir_ = dir;
    component.config_ = read_json_object(dir / "config.json", &component.config_text_);

    for (const fs::path& path : find_weight_files(dir, weights_stem))
        component.add_file(SafetensorsFile::open(path.string()));

    // With shards, the index must agree with the files (a stale index means a broken download).
    for (const std::string variant : {"", ".fp16"}) {
        if (is_file(dir / (weights_stem + variant + ".safetensors"))) break;
        const fs::path index = dir / (weights_stem + variant + ".safetensors.index.json");
        if (!is_file(index)) continue;
        std::vector<std::pair<std::string, std::string>> expected;
        shards_of_index(index, &expected);
        for (const auto& [tensor, shard] : expected) {
            const auto file = std::find_if(
                component.files_.begin(), component.files_.end(),
                // `shard` by an explicit capture: clang before 16 cannot capture a structured
                // binding implicitly (C++20 allows it), and the fuzz build uses clang 14.
                [&shard = shard](const SafetensorsFile& f) { return fs::path(f.path()).filename() == shard; });
            if (file == component.files_.end() || file->find(tensor) == nullptr)
                throw std::runtime_error(index.string() + ": '" + tensor + "' is not in " + shard);
        }
        break;
    }

    // Views are built only now: names_ no longer grows, so c_str() pointers are final.
    component.weights_.reserve(component.names_.size());
    size_t name_index = 0;
    for (const SafetensorsFile& file : component.files_) {
        for (const TensorInfo& tensor : file.tensors()) {
            if (!canonical_tensor_name(kind, tensor.name)) continue;
            // The ABI's weight views are const by contract; the mapping is read-only anyway.
            // The file reader checked that byte_size agrees with the shape, as make_view computes.
            component.weights_.push_back(plugin::make_view(component.names_[name_index++].c_str(),
                                                           to_sdw_dtype(tensor.dtype), tensor.shape,
                                                           tensor.data));
        }
    }
    return component;
}

ModelComponent ModelComponent::from_mapped(ComponentKind kind, fs::path where, nlohmann::json config,
                                           std::shared_ptr<const SafetensorsFile> file,
                                           std::vector<MappedWeight> weights,
                                           std::vector<std::vector<uint8_t>> owned) {
    ModelComponent component;
    component.kind_ = kind;
    component.dir_ = std::move(where);
    component.config_ = std::move(config);
    component.config_text_ = component.config_.dump(2);
    component.shared_file_ = std::move(file);
    component.owned_ = std::move(owned);
    for (MappedWeight& weight : weights) {
        check_abi_weight(component.dir_.string(), weight.name, weight.dtype, weight.shape.size());
        if (!component.index_.emplace(weight.name, component.names_.size()).second)
            throw std::runtime_error(component.dir_.string() + ": tensor '" + weight.name +
                                     "' occurs twice");
        component.names_.push_back(weight.name);
    }
    component.weights_.reserve(weights.size());
    for (size_t i = 0; i < weights.size(); ++i)
        component.weights_.push_back(plugin::make_view(component.names_[i].c_str(),
                                                       to_sdw_dtype(weights[i].dtype),
                                                       weights[i].shape, weights[i].data));
    return component;
}

void ModelComponent::add_file(SafetensorsFile file) {
    for (const TensorInfo& tensor : file.tensors()) {
        std::optional<std::string> name = canonical_tensor_name(kind_, tensor.name);
        if (!name) continue;
        check_abi_weight(file.path(), tensor.name, tensor.dtype, tensor.shape.size());
        if (!index_.emplace(*name, names_.size()).second)
            throw std::runtime_error(file.path() + ": tensor '" + tensor.name + "' duplicates '" +
                                     *name + "' (after name normalization)");
        names_.push_back(std::move(*name));
    }
    files_.push_back(std::move(file));
}

const sdw_tensor_view* ModelComponent::find(const std::string& canonical_name) const {
    const auto it = index_.find(canonical_name);
    return it == index_.end() ? nullptr : &weights_[it->second];
}

sdw_component_desc ModelComponent::describe(const char* abi_kind) const {
    return plugin::make_component_desc(abi_kind, config_text_.c_str(), weights_);
}

void ModelComponent::drop_resident_pages() const noexcept {
    for (const SafetensorsFile& file : files_) file.drop_resident_pages();
    if (shared_file_) shared_file_->drop_resident_pages();
}

}  // namespace sdw
