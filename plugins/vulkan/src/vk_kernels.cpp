#include "vk_kernels.h"

#include "shader_table.h"

#include <sdw/plugin_api.hpp>

#include <algorithm>

namespace sdw::vulkan {

Kernels::Kernels(Device &device) : device_(device) {
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
    auto info = vk_struct<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
    info.pushConstantRangeCount = 1;
    info.pPushConstantRanges = &range;
    check(device_.api().vkCreatePipelineLayout(device_.handle(), &info, nullptr, &layout_), "vkCreatePipelineLayout");
}

Kernels::~Kernels() {
    const VulkanApi &vk = device_.api();
    for (auto &[key, pipeline] : pipelines_) vk.vkDestroyPipeline(device_.handle(), pipeline, nullptr);
    for (auto &[name, module] : modules_) vk.vkDestroyShaderModule(device_.handle(), module, nullptr);
    vk.vkDestroyPipelineLayout(device_.handle(), layout_, nullptr);
}

VkShaderModule Kernels::module(const std::string &shader) {
    if (auto it = modules_.find(shader); it != modules_.end()) return it->second;
    const ShaderBinary *binary = nullptr;
    for (size_t i = 0; i < kShaderBinaryCount; ++i)
        if (shader == kShaderBinaries[i].name) binary = &kShaderBinaries[i];
    if (binary == nullptr) throw sdw::plugin::Error(SDW_STATUS_INTERNAL, "vulkan: no shader " + shader);
    auto info = vk_struct<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
    info.codeSize = binary->bytes;
    info.pCode = binary->code;
    VkShaderModule module = VK_NULL_HANDLE;
    check(device_.api().vkCreateShaderModule(device_.handle(), &info, nullptr, &module), "vkCreateShaderModule");
    modules_[shader] = module;
    return module;
}

VkPipeline Kernels::pipeline(const std::string &shader, const std::vector<uint32_t> &constants) {
    const auto key = std::make_pair(shader, constants);
    if (auto it = pipelines_.find(key); it != pipelines_.end()) return it->second;
    std::vector<VkSpecializationMapEntry> entries;
    for (uint32_t i = 0; i < constants.size(); ++i)
        entries.push_back({i, static_cast<uint32_t>(i * sizeof(uint32_t)), sizeof(uint32_t)});
    VkSpecializationInfo specialization{static_cast<uint32_t>(entries.size()), entries.data(),
                                        constants.size() * sizeof(uint32_t), constants.data()};
    auto info = vk_struct<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
    info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    info.stage.module = module(shader);
    info.stage.pName = "main";
    info.stage.pSpecializationInfo = constants.empty() ? nullptr : &specialization;
    info.layout = layout_;
    VkPipeline pipeline = VK_NULL_HANDLE;
    check(device_.api().vkCreateComputePipelines(device_.handle(), VK_NULL_HANDLE, 1, &info, nullptr, &pipeline),
          ("vkCreateComputePipelines (" + shader + ")").c_str());
    pipelines_[key] = pipeline;
    return pipeline;
}

void Kernels::dispatch(VkCommandBuffer commands, VkPipeline pipeline, const void *push, uint32_t push_bytes,
                       const uint64_t groups[3]) {
    const VulkanApi &vk = device_.api();
    if (groups[0] == 0 || groups[1] == 0 || groups[2] == 0) return;
    vk.vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    unsigned char bytes[kPushBytes];
    std::memcpy(bytes, push, push_bytes);
    const uint32_t *limit = device_.limits().max_workgroup_count;
    for (uint64_t z = 0; z < groups[2]; z += limit[2])
        for (uint64_t y = 0; y < groups[1]; y += limit[1])
            for (uint64_t x = 0; x < groups[0]; x += limit[0]) {
                PushHeader header;
                header.group_base[0] = static_cast<uint32_t>(x);
                header.group_base[1] = static_cast<uint32_t>(y);
                header.group_base[2] = static_cast<uint32_t>(z);
                std::memcpy(bytes, &header, sizeof header);
                vk.vkCmdPushConstants(commands, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, bytes);
                vk.vkCmdDispatch(commands, static_cast<uint32_t>(std::min<uint64_t>(groups[0] - x, limit[0])),
                                 static_cast<uint32_t>(std::min<uint64_t>(groups[1] - y, limit[1])),
                                 static_cast<uint32_t>(std::min<uint64_t>(groups[2] - z, limit[2])));
            }
    barrier(commands);
}

void Kernels::barrier(VkCommandBuffer commands) {
    auto barrier = vk_struct<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                            VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    device_.api().vkCmdPipelineBarrier(commands, stages, stages, 0, 1, &barrier, 0, nullptr, 0, nullptr);
}

void Kernels::host_barrier(VkCommandBuffer commands) {
    auto barrier = vk_struct<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    device_.api().vkCmdPipelineBarrier(commands,
                                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, nullptr, 0, nullptr);
}

}  // namespace sdw::vulkan
