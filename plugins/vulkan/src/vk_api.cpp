#include "vk_api.h"

#include <sdw/plugin_api.hpp>

#include <dlfcn.h>

namespace sdw::vulkan {

namespace {

PFN_vkGetInstanceProcAddr loader_entry() {
    // Opened once and never closed: the loader keeps ICDs loaded for the process.
    static void *const library = [] {
        void *handle = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) handle = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
        return handle;
    }();
    if (library == nullptr)
        throw sdw::plugin::Error(SDW_STATUS_UNSUPPORTED,
                                 "no Vulkan loader: libvulkan.so.1 cannot be opened (Debian: apt-get install "
                                 "libvulkan1, and a driver such as mesa-vulkan-drivers)");
    auto entry = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library, "vkGetInstanceProcAddr"));
    if (entry == nullptr)
        throw sdw::plugin::Error(SDW_STATUS_UNSUPPORTED, "the Vulkan loader has no vkGetInstanceProcAddr");
    return entry;
}

}  // namespace

VulkanApi load_global_api() {
    VulkanApi api;
    api.vkGetInstanceProcAddr = loader_entry();
#define SDW_VK_LOAD_GLOBAL(name)                                                                   \
    api.name = reinterpret_cast<PFN_##name>(api.vkGetInstanceProcAddr(VK_NULL_HANDLE, #name));     \
    if (api.name == nullptr)                                                                       \
        throw sdw::plugin::Error(SDW_STATUS_UNSUPPORTED, "the Vulkan loader has no " #name);
    SDW_VK_GLOBAL_FUNCTIONS(SDW_VK_LOAD_GLOBAL)
#undef SDW_VK_LOAD_GLOBAL
    return api;
}

void load_instance_api(VulkanApi &api, VkInstance instance) {
#define SDW_VK_LOAD(name)                                                                          \
    api.name = reinterpret_cast<PFN_##name>(api.vkGetInstanceProcAddr(instance, #name));           \
    if (api.name == nullptr)                                                                       \
        throw sdw::plugin::Error(SDW_STATUS_UNSUPPORTED, "the Vulkan driver has no " #name " (Vulkan 1.2 needed)");
    SDW_VK_INSTANCE_FUNCTIONS(SDW_VK_LOAD)
#undef SDW_VK_LOAD
#define SDW_VK_LOAD_OPTIONAL(name) \
    api.name = reinterpret_cast<PFN_##name>(api.vkGetInstanceProcAddr(instance, #name));
    SDW_VK_DEBUG_FUNCTIONS(SDW_VK_LOAD_OPTIONAL)
#undef SDW_VK_LOAD_OPTIONAL
}

}  // namespace sdw::vulkan
