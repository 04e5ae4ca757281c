#include "component_fixture.h"

#include <sdw/cpu/cpu_ops.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sdw::nn::test {

std::string fixtures_dir() { return SDW_TEST_FIXTURES; }

std::string read_text(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

ComponentFiles ComponentFiles::open(const std::string &folder) {
    namespace fs = std::filesystem;
    std::string weights_path;
    for (const char *name : {"diffusion_pytorch_model.safetensors", "model.safetensors"})
        if (fs::exists(fs::path(folder) / name)) weights_path = (fs::path(folder) / name).string();
    if (weights_path.empty()) throw std::runtime_error("no weights in " + folder);
    ComponentFiles files{SafetensorsFile::open(weights_path), read_text(folder + "/config.json"), {}};
    for (const TensorInfo &info : files.weights.tensors())
        files.views.push_back(make_view(info.name.c_str(), to_sdw_dtype(info.dtype), info.shape,
                                        const_cast<void *>(info.data)));
    return files;
}

sdw_component_desc ComponentFiles::desc(const char *kind) const {
    sdw_component_desc d{};
    d.struct_size = sizeof(d);
    d.kind = kind;
    d.config_json = config.c_str();
    d.weights = views.data();
    d.weight_count = views.size();
    return d;
}

HostTensor::HostTensor(std::string n, std::vector<int64_t> s)
    : name(std::move(n)), shape(std::move(s)) {
    size_t count = 1;
    for (int64_t d : shape) count *= static_cast<size_t>(d);
    values.assign(count, std::nanf(""));
}

HostTensor::HostTensor(std::string n, std::vector<int64_t> s, std::vector<float> v)
    : name(std::move(n)), shape(std::move(s)), values(std::move(v)) {}

sdw_tensor_view HostTensor::view() {
    return make_view(name.c_str(), SDW_DTYPE_F32, shape, values.data());
}

Golden::Golden(const std::string &model)
    : file(SafetensorsFile::open(fixtures_dir() + "/golden/" + model + "/components.safetensors")) {}

std::vector<float> Golden::f32(const std::string &name) const { return to_f32(file.at(name)); }

std::vector<int64_t> Golden::shape(const std::string &name) const { return file.at(name).shape; }

double relative_l2(const std::vector<float> &actual, const std::vector<float> &expected) {
    if (actual.size() != expected.size()) return INFINITY;
    double diff = 0, norm = 0;
    for (size_t i = 0; i < actual.size(); ++i) {
        const double d = static_cast<double>(actual[i]) - expected[i];
        diff += d * d;
        norm += static_cast<double>(expected[i]) * expected[i];
    }
    return std::sqrt(diff / norm);
}

bool all_finite(const std::vector<float> &values) {
    for (float v : values)
        if (!std::isfinite(v)) return false;
    return true;
}

void run(Component &component, std::vector<HostTensor> &inputs, std::vector<HostTensor> &outputs,
         const RunOptions &options) {
    std::vector<sdw_tensor_view> in, out;
    for (HostTensor &t : inputs) in.push_back(t.view());
    for (HostTensor &t : outputs) out.push_back(t.view());
    component.run(in.data(), in.size(), out.data(), out.size(), options);
}

Ops &cpu_ops() {
    static std::unique_ptr<Ops> ops = sdw::cpu::make_cpu_ops();
    return *ops;
}

std::string model_param_name(const ::testing::TestParamInfo<std::string> &info) {
    std::string name = info.param;
    for (char &c : name)
        if (c == '-') c = '_';
    return name;
}

}  // namespace sdw::nn::test
