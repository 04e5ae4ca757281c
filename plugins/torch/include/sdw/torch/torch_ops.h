// sdw::nn::Ops on libtorch (ATen): CPU, and CUDA where libtorch was built with it. This
// header includes no libtorch header, so that only the files implementing it pay
// libtorch's compile time.
#pragma once

#include <sdw/nn/ops.h>

#include <cstdint>
#include <memory>
#include <string>

namespace sdw::libtorch {

struct TorchOptions {
    bool cuda = false;
    int device_index = 0;                     // CUDA device
    sdw::nn::DType dtype = sdw::nn::DType::F32;  // compute dtype of activations and weights
    bool cuda_graphs = true;                  // plans as CUDA graphs (CUDA only)
    bool channels_last = false;               // NHWC memory for convolutions (CUDA)
    int threads = 0;                          // intra-op threads on the CPU (process-wide); 0 = all cores
    uint64_t max_memory_bytes = 0;            // cap on resident weights and plan inputs; 0 = none
};

// Throws sdw::plugin::Error (UNSUPPORTED when CUDA is asked of a libtorch without it or
// the device is absent).
std::unique_ptr<sdw::nn::Ops> make_torch_ops(const TorchOptions &options);

// What this libtorch offers, for the probe and the descriptions.
bool cuda_built();
int cuda_device_count();
std::string torch_version();
// "NVIDIA H100 (cuda:0, 81559 MiB, libtorch 2.5.1, F16, CUDA graphs)" for an Ops from
// make_torch_ops; empty for any other.
std::string device_description(const sdw::nn::Ops &ops);

}  // namespace sdw::libtorch
