#include "vk_device.h"

#include <sdw/plugin_api.hpp>

#include <algorithm>
#include <cstring>

namespace sdw::vulkan {

namespace sp = sdw::plugin;

const char *result_name(VkResult result) {
    switch (result) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_ERROR_INVALID_SHADER_NV: return "VK_ERROR_INVALID_SHADER_NV";
    default: return "VkResult (other)";
    }
}

void check(VkResult result, const char *what) {
    if (result == VK_SUCCESS) return;
    const std::string message = std::string("vulkan: ") + what + ": " + result_name(result);
    if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY)
        throw sp::Error(SDW_STATUS_OUT_OF_MEMORY, message);
    throw sp::Error(SDW_STATUS_DEVICE_ERROR, message);
}

namespace {

const char *type_name(VkPhysicalDeviceType type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

int type_rank(VkPhysicalDeviceType type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
    }
}

std::string version_text(uint32_t v) {
    return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v));
}

bool has_layer(const VulkanApi &api, const char *name) {
    uint32_t count = 0;
    api.vkEnumerateInstanceLayerProperties(&count, nullptr);
    std::vector<VkLayerProperties> layers(count);
    api.vkEnumerateInstanceLayerProperties(&count, layers.data());
    return std::any_of(layers.begin(), layers.end(),
                       [name](const VkLayerProperties &l) { return std::strcmp(l.layerName, name) == 0; });
}

constexpr const char *kValidationLayer = "VK_LAYER_KHRONOS_validation";

struct Candidate {
    VkPhysicalDevice device;
    VkPhysicalDeviceProperties properties;
    uint32_t index;
};

std::vector<Candidate> physical_devices(const VulkanApi &api, VkInstance instance) {
    uint32_t count = 0;
    check(api.vkEnumeratePhysicalDevices(instance, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> devices(count);
    check(api.vkEnumeratePhysicalDevices(instance, &count, devices.data()), "vkEnumeratePhysicalDevices");
    std::vector<Candidate> out;
    for (uint32_t i = 0; i < count; ++i) {
        Candidate c{devices[i], {}, i};
        api.vkGetPhysicalDeviceProperties(devices[i], &c.properties);
        out.push_back(c);
    }
    return out;
}

std::string device_list_text(const std::vector<Candidate> &candidates) {
    std::string text;
    for (const Candidate &c : candidates)
        text += (text.empty() ? "" : ", ") + std::to_string(c.index) + ": " + c.properties.deviceName + " (" +
                type_name(c.properties.deviceType) + ")";
    return text.empty() ? "none" : text;
}

// The options' device: an index, a name substring, or by default the best type.
const Candidate &choose(const std::vector<Candidate> &candidates, const std::string &wanted) {
    if (candidates.empty())
        throw sp::Error(SDW_STATUS_UNSUPPORTED,
                        "no Vulkan device: the loader lists none (install a driver, e.g. mesa-vulkan-drivers "
                        "for lavapipe on the CPU)");
    if (wanted.empty()) {
        return *std::min_element(candidates.begin(), candidates.end(), [](const Candidate &a, const Candidate &b) {
            return type_rank(a.properties.deviceType) < type_rank(b.properties.deviceType);
        });
    }
    if (wanted.find_first_not_of("0123456789") == std::string::npos && wanted.size() < 4) {
        const unsigned long index = std::stoul(wanted);
        if (index < candidates.size()) return candidates[index];
    } else {
        for (const Candidate &c : candidates)
            if (std::string(c.properties.deviceName).find(wanted) != std::string::npos) return c;
    }
    throw sp::Error(SDW_STATUS_UNSUPPORTED,
                    "no Vulkan device matches \"" + wanted + "\" (devices: " + device_list_text(candidates) + ")");
}

}  // namespace

Device::Device(const VulkanOptions &options) {
    api_ = load_global_api();
    const bool validation = options.validation;
    if (validation && !has_layer(api_, kValidationLayer))
        throw sp::Error(SDW_STATUS_UNSUPPORTED,
                        std::string("option 'validation': the layer ") + kValidationLayer +
                            " is not installed (Debian: vulkan-validationlayers)");

    auto app = vk_struct<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
    app.pApplicationName = "sd-worker";
    app.pEngineName = "sdw-vulkan";
    app.apiVersion = VK_API_VERSION_1_2;
    auto info = vk_struct<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
    info.pApplicationInfo = &app;
    const char *layers[] = {kValidationLayer};
    const char *extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    auto messenger_info = vk_struct<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
    messenger_info.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
    messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messenger_info.pfnUserCallback = &Device::on_message;
    messenger_info.pUserData = this;
    if (validation) {
        info.enabledLayerCount = 1;
        info.ppEnabledLayerNames = layers;
        info.enabledExtensionCount = 1;
        info.ppEnabledExtensionNames = extensions;
        info.pNext = &messenger_info;  // also reports on instance creation itself
    }
    const VkResult created = api_.vkCreateInstance(&info, nullptr, &instance_);
    if (created == VK_ERROR_INCOMPATIBLE_DRIVER)
        throw sp::Error(SDW_STATUS_UNSUPPORTED, "no Vulkan 1.2 driver (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)");
    check(created, "vkCreateInstance");
    try {
        load_instance_api(api_, instance_);
        if (validation && api_.vkCreateDebugUtilsMessengerEXT != nullptr)
            check(api_.vkCreateDebugUtilsMessengerEXT(instance_, &messenger_info, nullptr, &messenger_),
                  "vkCreateDebugUtilsMessengerEXT");

        const std::vector<Candidate> candidates = physical_devices(api_, instance_);
        const Candidate &chosen = choose(candidates, options.device);
        physical_ = chosen.device;
        name_ = chosen.properties.deviceName;
        cpu_ = chosen.properties.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
        const std::string label = std::string("Vulkan device ") + std::to_string(chosen.index) + " (" + name_ + ")";
        if (chosen.properties.apiVersion < VK_API_VERSION_1_2)
            throw sp::Error(SDW_STATUS_UNSUPPORTED, label + " has Vulkan " + version_text(chosen.properties.apiVersion) +
                                                        "; the plugin needs 1.2");

        // What the shaders need: buffer device addresses, scalar block layout, 16-bit
        // storage and int16 (the half-precision variants and layout copies), subgroup
        // arithmetic in compute shaders (the norms' reductions).
        auto f12 = vk_struct<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
        auto f11 = vk_struct<VkPhysicalDeviceVulkan11Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES);
        f11.pNext = &f12;
        auto features = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
        features.pNext = &f11;
        api_.vkGetPhysicalDeviceFeatures2(physical_, &features);
        auto subgroup = vk_struct<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
        auto maintenance3 = vk_struct<VkPhysicalDeviceMaintenance3Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES);
        subgroup.pNext = &maintenance3;
        auto properties = vk_struct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
        properties.pNext = &subgroup;
        api_.vkGetPhysicalDeviceProperties2(physical_, &properties);
        std::string missing;
        auto need = [&missing](bool present, const char *what) {
            if (!present) missing += (missing.empty() ? "" : ", ") + std::string(what);
        };
        need(f12.bufferDeviceAddress, "bufferDeviceAddress");
        need(f12.scalarBlockLayout, "scalarBlockLayout");
        need(f11.storageBuffer16BitAccess, "storageBuffer16BitAccess");
        need(features.features.shaderInt16, "shaderInt16");
        need((subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0 &&
                 (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) != 0,
             "subgroup arithmetic in compute shaders");
        if (!missing.empty()) throw sp::Error(SDW_STATUS_UNSUPPORTED, label + " lacks " + missing);

        uint32_t family_count = 0;
        api_.vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, nullptr);
        std::vector<VkQueueFamilyProperties> families(family_count);
        api_.vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, families.data());
        // A compute queue; one without graphics first (the dedicated compute queue).
        int family = -1;
        for (uint32_t i = 0; i < family_count; ++i) {
            if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) == 0) continue;
            if (family < 0 || (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) == 0) family = static_cast<int>(i);
        }
        if (family < 0) throw sp::Error(SDW_STATUS_UNSUPPORTED, label + " has no compute queue");
        queue_family_ = static_cast<uint32_t>(family);

        auto enable12 = vk_struct<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
        enable12.bufferDeviceAddress = VK_TRUE;
        enable12.scalarBlockLayout = VK_TRUE;
        auto enable11 = vk_struct<VkPhysicalDeviceVulkan11Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES);
        enable11.storageBuffer16BitAccess = VK_TRUE;
        enable11.pNext = &enable12;
        auto enable = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
        enable.features.shaderInt16 = VK_TRUE;
        enable.pNext = &enable11;
        const float priority = 1.0f;
        auto queue_info = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
        queue_info.queueFamilyIndex = queue_family_;
        queue_info.queueCount = 1;
        queue_info.pQueuePriorities = &priority;
        auto device_info = vk_struct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
        device_info.pNext = &enable;
        device_info.queueCreateInfoCount = 1;
        device_info.pQueueCreateInfos = &queue_info;
        check(api_.vkCreateDevice(physical_, &device_info, nullptr, &device_), "vkCreateDevice");
        api_.vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
        auto fence_info = vk_struct<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
        check(api_.vkCreateFence(device_, &fence_info, nullptr, &fence_), "vkCreateFence");

        const VkPhysicalDeviceLimits &l = chosen.properties.limits;
        for (int i = 0; i < 3; ++i) limits_.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
        limits_.max_shared_bytes = l.maxComputeSharedMemorySize;
        limits_.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
        limits_.subgroup_size = subgroup.subgroupSize;
        limits_.max_allocation_bytes = maintenance3.maxMemoryAllocationSize;
        api_.vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
        uint64_t local_bytes = 0;
        for (uint32_t i = 0; i < memory_.memoryHeapCount; ++i)
            if (memory_.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
                local_bytes = std::max<uint64_t>(local_bytes, memory_.memoryHeaps[i].size);
        description_ = name_ + " (device " + std::to_string(chosen.index) + ", " +
                       type_name(chosen.properties.deviceType) + ", Vulkan " +
                       version_text(chosen.properties.apiVersion) + ", " + std::to_string(local_bytes >> 20) +
                       " MiB, subgroup " + std::to_string(limits_.subgroup_size) + (validation ? ", validation" : "") +
                       ")";
    } catch (...) {
        release();
        throw;
    }
}

Device::~Device() { release(); }

void Device::release() {
    if (device_ != VK_NULL_HANDLE) {
        api_.vkDeviceWaitIdle(device_);
        if (fence_ != VK_NULL_HANDLE) api_.vkDestroyFence(device_, fence_, nullptr);
        api_.vkDestroyDevice(device_, nullptr);
        device_ = VK_NULL_HANDLE;
    }
    if (messenger_ != VK_NULL_HANDLE) {
        api_.vkDestroyDebugUtilsMessengerEXT(instance_, messenger_, nullptr);
        messenger_ = VK_NULL_HANDLE;
    }
    if (instance_ != VK_NULL_HANDLE) {
        api_.vkDestroyInstance(instance_, nullptr);
        instance_ = VK_NULL_HANDLE;
    }
}

VKAPI_ATTR VkBool32 VKAPI_CALL Device::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                  VkDebugUtilsMessageTypeFlagsEXT,
                                                  const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    if ((severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) == 0) return VK_FALSE;
    auto *self = static_cast<Device *>(user);
    std::lock_guard<std::mutex> lock(self->message_mutex_);
    if (self->validation_errors_++ == 0)
        self->first_validation_error_ = data != nullptr && data->pMessage != nullptr ? data->pMessage : "?";
    return VK_FALSE;
}

void Device::check_validation() const {
    if (validation_errors_.load() == 0) return;
    std::lock_guard<std::mutex> lock(message_mutex_);
    throw sp::Error(SDW_STATUS_DEVICE_ERROR, "vulkan validation: " + std::to_string(validation_errors_.load()) +
                                                 " errors, the first: " + first_validation_error_);
}

void Device::submit_and_wait(VkCommandBuffer commands) {
    auto submit = vk_struct<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &commands;
    check(api_.vkResetFences(device_, 1, &fence_), "vkResetFences");
    check(api_.vkQueueSubmit(queue_, 1, &submit, fence_), "vkQueueSubmit");
    check(api_.vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    check_validation();
}

std::vector<std::string> list_devices() {
    VulkanApi api = load_global_api();
    auto app = vk_struct<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
    app.apiVersion = VK_API_VERSION_1_2;
    auto info = vk_struct<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
    info.pApplicationInfo = &app;
    VkInstance instance = VK_NULL_HANDLE;
    check(api.vkCreateInstance(&info, nullptr, &instance), "vkCreateInstance");
    std::vector<std::string> out;
    try {
        load_instance_api(api, instance);
        for (const Candidate &c : physical_devices(api, instance))
            out.push_back(std::to_string(c.index) + ": " + c.properties.deviceName + " (" +
                          type_name(c.properties.deviceType) + ")");
    } catch (...) {
        api.vkDestroyInstance(instance, nullptr);
        throw;
    }
    api.vkDestroyInstance(instance, nullptr);
    return out;
}

}  // namespace sdw::vulkan
