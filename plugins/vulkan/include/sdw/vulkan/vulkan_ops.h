// sdw::nn::Ops on Vulkan compute shaders: any device with a Vulkan 1.2 driver and
// buffer device addresses (NVIDIA, AMD, Intel; Mesa's lavapipe on the CPU).
#pragma once

#include <sdw/nn/ops.h>

#include <cstdint>
#include <memory>
#include <string>

namespace sdw::vulkan {

// The two forms of the matrix-product kernels (linear, convolution): shared-memory tiles
// for GPUs, or strips (no shared memory, no barriers; a register block of outputs per
// invocation) for devices whose invocations are a CPU's SIMD lanes (lavapipe).
enum class KernelForm { Auto, Tiled, Strip };  // Auto: Strip on CPU devices, else Tiled

struct VulkanOptions {
    // A device index in enumeration order, or a substring of its name; empty: the first
    // discrete GPU, else the first integrated one, else any other (lavapipe).
    std::string device;
    sdw::nn::DType dtype = sdw::nn::DType::F32;  // F32 or F16 (needs 16-bit storage)
    bool validation = false;  // the Khronos validation layer; its errors fail the call
    uint64_t max_memory_bytes = 0;  // cap on the device memory the context allocates; 0 = none
    KernelForm kernels = KernelForm::Auto;
};

// Throws sdw::plugin::Error: UNSUPPORTED without a loader, a matching device or the
// features the shaders need (each named), INVALID_ARGUMENT for a bad option.
std::unique_ptr<sdw::nn::Ops> make_vulkan_ops(const VulkanOptions &options);

// Whether a Vulkan device is usable here (asked once per process); empty when it is,
// otherwise why not.
std::string unavailable_reason();

// "llvmpipe (LLVM 15.0.6, 256 bits) (cpu, Mesa 22.3.6, F32, ...)" for an Ops from
// make_vulkan_ops; empty for any other.
std::string device_description(const sdw::nn::Ops &ops);

// The kernel form an Ops from make_vulkan_ops uses (Auto resolved); Auto for any other.
KernelForm kernel_form(const sdw::nn::Ops &ops);

}  // namespace sdw::vulkan
