// Compute pipelines, made once per (shader variant, specialization constants) and kept
// for the context, and the recording of their dispatches. No descriptor sets: every
// tensor is a device address in the push constants (shaders/common.glsl), so a
// dispatch is bind + push + dispatch + barrier, cheap to record and to replay.
#pragma once

#include "vk_device.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace sdw::vulkan {

constexpr uint32_t kPushBytes = 128;  // the minimum every device guarantees

// What every push block starts with (PUSH_HEADER): the dispatch's workgroup offset.
struct PushHeader {
    uint32_t group_base[4] = {0, 0, 0, 0};
};

class Kernels {
public:
    explicit Kernels(Device &device);
    ~Kernels();
    Kernels(const Kernels &) = delete;
    Kernels &operator=(const Kernels &) = delete;

    // The pipeline of `shader` ("matmul_conv_f32") with `constants` as specialization
    // constants 0, 1, ...; made on first use.
    VkPipeline pipeline(const std::string &shader, const std::vector<uint32_t> &constants = {});

    // Records `pipeline` over groups[0..2] workgroups, split into several dispatches
    // where a count exceeds maxComputeWorkGroupCount (each gets its offset in the push
    // header), then a barrier that orders it before everything recorded later.
    // `push` starts with a PushHeader and is at most kPushBytes.
    void dispatch(VkCommandBuffer commands, VkPipeline pipeline, const void *push, uint32_t push_bytes,
                  const uint64_t groups[3]);
    template <typename Push>
    void dispatch(VkCommandBuffer commands, VkPipeline pipeline, const Push &push, uint64_t gx, uint64_t gy = 1,
                  uint64_t gz = 1) {
        static_assert(sizeof(Push) <= kPushBytes, "push constants over the guaranteed 128 bytes");
        const uint64_t groups[3] = {gx, gy, gz};
        dispatch(commands, pipeline, &push, sizeof(Push), groups);
    }

    // The barrier after a transfer or dispatch: all earlier compute and transfer writes
    // visible to all later compute and transfer accesses.
    void barrier(VkCommandBuffer commands);
    // The last command of a buffer whose results the host reads (mapped memory).
    void host_barrier(VkCommandBuffer commands);

private:
    VkShaderModule module(const std::string &shader);

    Device &device_;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    std::map<std::string, VkShaderModule> modules_;
    std::map<std::pair<std::string, std::vector<uint32_t>>, VkPipeline> pipelines_;
};

}  // namespace sdw::vulkan
