// The Vulkan entry points the plugin calls, loaded at run time: the plugin does not link
// the loader, so a machine without libvulkan.so.1 gets a probe that says so rather than
// a plugin that fails to dlopen. One table per instance (extension functions such as
// the debug messenger's belong to it).
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <string>

namespace sdw::vulkan {

// A zeroed Vulkan structure with its sType.
template <typename T>
T vk_struct(VkStructureType type) {
    T s{};
    s.sType = type;
    return s;
}

#define SDW_VK_GLOBAL_FUNCTIONS(X)          \
    X(vkCreateInstance)                     \
    X(vkEnumerateInstanceLayerProperties)   \
    X(vkEnumerateInstanceExtensionProperties)

#define SDW_VK_INSTANCE_FUNCTIONS(X)          \
    X(vkDestroyInstance)                      \
    X(vkEnumeratePhysicalDevices)             \
    X(vkGetPhysicalDeviceProperties)          \
    X(vkGetPhysicalDeviceProperties2)         \
    X(vkGetPhysicalDeviceFeatures2)           \
    X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkGetPhysicalDeviceMemoryProperties)    \
    X(vkEnumerateDeviceExtensionProperties)   \
    X(vkCreateDevice)                         \
    X(vkDestroyDevice)                        \
    X(vkGetDeviceQueue)                       \
    X(vkCreateFence)                          \
    X(vkDestroyFence)                         \
    X(vkResetFences)                          \
    X(vkWaitForFences)                        \
    X(vkQueueSubmit)                          \
    X(vkDeviceWaitIdle)                       \
    X(vkCreateBuffer)                         \
    X(vkDestroyBuffer)                        \
    X(vkGetBufferMemoryRequirements)          \
    X(vkAllocateMemory)                       \
    X(vkFreeMemory)                           \
    X(vkBindBufferMemory)                     \
    X(vkMapMemory)                            \
    X(vkUnmapMemory)                          \
    X(vkGetBufferDeviceAddress)               \
    X(vkCreateShaderModule)                   \
    X(vkDestroyShaderModule)                  \
    X(vkCreatePipelineLayout)                 \
    X(vkDestroyPipelineLayout)                \
    X(vkCreateComputePipelines)               \
    X(vkDestroyPipeline)                      \
    X(vkCreateCommandPool)                    \
    X(vkDestroyCommandPool)                   \
    X(vkAllocateCommandBuffers)               \
    X(vkFreeCommandBuffers)                   \
    X(vkBeginCommandBuffer)                   \
    X(vkEndCommandBuffer)                     \
    X(vkResetCommandBuffer)                   \
    X(vkCmdBindPipeline)                      \
    X(vkCmdPushConstants)                     \
    X(vkCmdDispatch)                          \
    X(vkCmdPipelineBarrier)                   \
    X(vkCmdCopyBuffer)

// Optional: present only with VK_EXT_debug_utils (validation on).
#define SDW_VK_DEBUG_FUNCTIONS(X)        \
    X(vkCreateDebugUtilsMessengerEXT)    \
    X(vkDestroyDebugUtilsMessengerEXT)

struct VulkanApi {
#define SDW_VK_MEMBER(name) PFN_##name name = nullptr;
    SDW_VK_GLOBAL_FUNCTIONS(SDW_VK_MEMBER)
    SDW_VK_INSTANCE_FUNCTIONS(SDW_VK_MEMBER)
    SDW_VK_DEBUG_FUNCTIONS(SDW_VK_MEMBER)
#undef SDW_VK_MEMBER
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
};

// The global functions, from the loader opened once per process. Throws
// UNSUPPORTED naming what failed (no libvulkan.so.1, no vkGetInstanceProcAddr).
VulkanApi load_global_api();
// The instance and device functions of `instance` into `api`; throws UNSUPPORTED
// naming a missing one. The debug functions stay null when absent.
void load_instance_api(VulkanApi &api, VkInstance instance);

}  // namespace sdw::vulkan
