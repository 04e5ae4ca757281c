// The Vulkan instance, the chosen physical device, its compute queue and what the
// kernels need to know of it (limits, features). One per Ops (context).
#pragma once

#include <sdw/vulkan/vulkan_ops.h>

#include "vk_api.h"

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace sdw::vulkan {

// Throws sdw::plugin::Error(DEVICE_ERROR, "<what>: VK_ERROR_...") unless VK_SUCCESS;
// OUT_OF_MEMORY for the out-of-memory results.
void check(VkResult result, const char *what);
const char *result_name(VkResult result);

struct DeviceLimits {
    uint32_t max_workgroup_count[3] = {65535, 65535, 65535};
    uint32_t max_shared_bytes = 16384;
    uint32_t max_workgroup_invocations = 128;
    uint32_t subgroup_size = 32;
    uint64_t max_allocation_bytes = 1ull << 30;
};

class Device {
public:
    // Creates the instance and device for `options`; throws UNSUPPORTED (no loader, no
    // device matching, a missing feature) with the reason.
    explicit Device(const VulkanOptions &options);
    ~Device();
    Device(const Device &) = delete;
    Device &operator=(const Device &) = delete;

    const VulkanApi &api() const { return api_; }
    VkDevice handle() const { return device_; }
    VkPhysicalDevice physical() const { return physical_; }
    VkQueue queue() const { return queue_; }
    uint32_t queue_family() const { return queue_family_; }
    const DeviceLimits &limits() const { return limits_; }
    const VkPhysicalDeviceMemoryProperties &memory_properties() const { return memory_; }
    bool is_cpu() const { return cpu_; }

    // "NVIDIA H100 (discrete GPU, NVIDIA 550.54, Vulkan 1.3)".
    const std::string &description() const { return description_; }
    const std::string &name() const { return name_; }

    // Throws DEVICE_ERROR naming the first validation error (validation on only), if
    // any arrived since creation.
    void check_validation() const;

    // Submits `commands` and waits for them; a lost device is DEVICE_ERROR.
    void submit_and_wait(VkCommandBuffer commands);

private:
    void release();  // what the destructor does; also when the constructor fails
    static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *user);

    VulkanApi api_;
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    DeviceLimits limits_;
    VkPhysicalDeviceMemoryProperties memory_{};
    bool cpu_ = false;
    std::string description_, name_;
    std::atomic<uint64_t> validation_errors_{0};
    mutable std::mutex message_mutex_;
    std::string first_validation_error_;
};

// The devices the loader lists, "0: llvmpipe (cpu)", for messages; throws UNSUPPORTED
// without a loader or devices.
std::vector<std::string> list_devices();

}  // namespace sdw::vulkan
