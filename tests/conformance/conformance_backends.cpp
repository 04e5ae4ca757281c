#include "conformance_backends.h"

#ifdef SDW_CONFORMANCE_CPU_BLAS
#include <sdw/cpu/cpu_ops.h>
#endif
#ifdef SDW_CONFORMANCE_TORCH
#include <sdw/torch/torch_ops.h>
#endif
#ifdef SDW_CONFORMANCE_VULKAN
#include <sdw/vulkan/vulkan_ops.h>
#endif

namespace sdw::conformance {

using sdw::nn::DType;

const std::vector<Backend> &backends() {
    static const std::vector<Backend> all = [] {
        std::vector<Backend> list;
#ifdef SDW_CONFORMANCE_CPU_BLAS
        list.push_back({"cpu-blas", [] { return sdw::cpu::make_cpu_ops(2); }, [] { return std::string(); },
                        {DType::F32}, {DType::F16, DType::BF16}});
#endif
#ifdef SDW_CONFORMANCE_TORCH
        // libtorch on the CPU (float32 only: see the plugin's dtype option), and on CUDA where there is one
        // (skipped with the reason elsewhere).
        list.push_back({"torch-cpu",
                        [] {
                            sdw::libtorch::TorchOptions o;
                            o.threads = 2;
                            return sdw::libtorch::make_torch_ops(o);
                        },
                        [] { return std::string(); }, {DType::F32}, {DType::F16, DType::BF16}});
        // Listed only where libtorch has CUDA; skipped with the reason without a device.
        if (sdw::libtorch::cuda_built())
            list.push_back({"torch-cuda",
                        [] {
                            sdw::libtorch::TorchOptions o;
                            o.cuda = true;
                            o.channels_last = true;
                            return sdw::libtorch::make_torch_ops(o);
                        },
                        [] {
                            return sdw::libtorch::cuda_device_count() == 0 ? std::string("no CUDA device is visible")
                                                                            : std::string();
                        },
                        {DType::F32, DType::F16, DType::BF16}, {DType::F16, DType::BF16}, false});
#endif
#ifdef SDW_CONFORMANCE_VULKAN
        // The default device (lavapipe in CI) in both storage types, with the kernels it
        // chooses (strips on a CPU device, tiles on a GPU) and with the other form
        // forced; skipped with the reason where no device is usable.
        sdw::vulkan::KernelForm other = sdw::vulkan::KernelForm::Tiled;
        if (sdw::vulkan::unavailable_reason().empty() &&
            sdw::vulkan::kernel_form(*sdw::vulkan::make_vulkan_ops({})) == sdw::vulkan::KernelForm::Tiled)
            other = sdw::vulkan::KernelForm::Strip;
        for (sdw::vulkan::KernelForm form : {sdw::vulkan::KernelForm::Auto, other})
            for (DType dtype : {DType::F32, DType::F16}) {
                const char *form_name = form == sdw::vulkan::KernelForm::Auto    ? ""
                                        : form == sdw::vulkan::KernelForm::Tiled ? "-tiled"
                                                                                 : "-strip";
                list.push_back({std::string("vulkan") + form_name + (dtype == DType::F32 ? "-f32" : "-f16"),
                                [dtype, form] {
                                    sdw::vulkan::VulkanOptions o;
                                    o.dtype = dtype;
                                    o.kernels = form;
                                    return sdw::vulkan::make_vulkan_ops(o);
                                },
                                [] { return sdw::vulkan::unavailable_reason(); }, {dtype}, {DType::F16}, false});
            }
#endif
        return list;
    }();
    return all;
}

}  // namespace sdw::conformance
