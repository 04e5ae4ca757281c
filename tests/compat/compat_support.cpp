#include "compat_support.h"

#include <sdw/tensor_views.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace sdw::compat {

std::filesystem::path fixture_model(const std::string &name) {
    return std::filesystem::path(SDW_TEST_FIXTURES) / "models" / name;
}

std::filesystem::path fixture_golden(const std::string &name) {
    return std::filesystem::path(SDW_TEST_FIXTURES) / "golden" / name;
}

std::unique_ptr<nn::Component> load_on_cpu(const ModelComponent &component, const char *abi_kind) {
    return nn::load_component(nn::test::cpu_ops(), component.describe(abi_kind));
}

sdw_component_desc EditedComponent::desc(const char *abi_kind) const {
    return plugin::make_component_desc(abi_kind, config.c_str(), weights);
}

std::unique_ptr<nn::Component> EditedComponent::load_on_cpu(const char *abi_kind) const {
    return nn::load_component(nn::test::cpu_ops(), desc(abi_kind));
}

EditedComponent edit_config(const ModelComponent &component,
                            const std::function<void(nlohmann::json &config)> &edit) {
    nlohmann::json config = nlohmann::json::parse(component.config_text());
    edit(config);
    return EditedComponent{config.dump(), component.weights()};
}

TextEncoderOutputs encode_ids(nn::Component &encoder, std::vector<int32_t> ids, int64_t hidden,
                              int64_t pooled_dim, int clip_skip) {
    const int64_t length = static_cast<int64_t>(ids.size());
    std::vector<HostTensor> outputs{{"hidden_state", {1, length, hidden}},
                                    {"pooled", {1, pooled_dim}}};
    std::vector<sdw_tensor_view> in{
        nn::test::make_view("input_ids", SDW_DTYPE_I32, {1, length}, ids.data())};
    std::vector<sdw_tensor_view> out{outputs[0].view(), outputs[1].view()};
    nn::RunOptions options;
    options.clip_skip = clip_skip;
    encoder.run(in.data(), in.size(), out.data(), out.size(), options);
    return {std::move(outputs[0].values), std::move(outputs[1].values)};
}

std::vector<float> concat_features(const std::vector<float> &a, int64_t a_dim,
                                   const std::vector<float> &b, int64_t b_dim) {
    const size_t rows = a.size() / static_cast<size_t>(a_dim);
    if (b.size() != rows * static_cast<size_t>(b_dim))
        throw std::invalid_argument("concat_features: row counts differ");
    std::vector<float> out;
    out.reserve(a.size() + b.size());
    for (size_t r = 0; r < rows; ++r) {
        out.insert(out.end(), a.begin() + static_cast<ptrdiff_t>(r * a_dim),
                   a.begin() + static_cast<ptrdiff_t>((r + 1) * a_dim));
        out.insert(out.end(), b.begin() + static_cast<ptrdiff_t>(r * b_dim),
                   b.begin() + static_cast<ptrdiff_t>((r + 1) * b_dim));
    }
    return out;
}

double max_abs_diff(const std::vector<float> &a, const std::vector<float> &b) {
    if (a.size() != b.size()) return INFINITY;
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
    return worst;
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sdw-compat-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace sdw::compat
