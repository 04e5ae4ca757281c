// Loads a model folder's component into sdw::nn on the cpu-blas Ops the way a plugin
// would (named weight views, config text), and reads golden tensors.
#pragma once

#include "model/safetensors.h"

#include <gtest/gtest.h>
#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>
#include <sdw/tensor_views.hpp>

#include <memory>
#include <string>
#include <vector>

namespace sdw::nn::test {

std::string fixtures_dir();
std::string read_text(const std::string &path);

// A component's weights as the host hands them to component_load.
struct ComponentFiles {
    SafetensorsFile weights;
    std::string config;
    std::vector<sdw_tensor_view> views;

    // `folder` is e.g. ".../tiny-sd/unet"; the weights file is found by name.
    static ComponentFiles open(const std::string &folder);
    sdw_component_desc desc(const char *kind) const;
};

// The installed toolkit's (sdw/tensor_views.hpp): a view of caller-owned data.
using ::sdw::plugin::make_view;

// A host-side tensor with a name, owning its data, for run inputs and outputs.
struct HostTensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;

    HostTensor(std::string n, std::vector<int64_t> s);
    HostTensor(std::string n, std::vector<int64_t> s, std::vector<float> v);
    sdw_tensor_view view();
};

struct Golden {
    SafetensorsFile file;
    explicit Golden(const std::string &model);
    std::vector<float> f32(const std::string &name) const;
    std::vector<int64_t> shape(const std::string &name) const;
};

// ||a - b|| / ||b||.
double relative_l2(const std::vector<float> &actual, const std::vector<float> &expected);
bool all_finite(const std::vector<float> &values);

// Runs `component` on `inputs`, filling `outputs`.
void run(Component &component, std::vector<HostTensor> &inputs, std::vector<HostTensor> &outputs,
         const RunOptions &options = {});

Ops &cpu_ops();

// "tiny-sd" -> "tiny_sd" for parameterized test names.
std::string model_param_name(const ::testing::TestParamInfo<std::string> &info);

}  // namespace sdw::nn::test
