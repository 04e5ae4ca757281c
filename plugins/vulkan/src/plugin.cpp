// The vulkan plugin: the networks of plugins/common on Vulkan compute shaders, behind
// the C ABI through the shared glue of sdw/nn/network_plugin.h.
#include <sdw/nn/network_plugin.h>
#include <sdw/vulkan/vulkan_ops.h>

#include "vk_device.h"

#include <string>

namespace {

namespace sp = sdw::plugin;
using sdw::nn::DType;
using sdw::vulkan::VulkanOptions;

constexpr const char *kPluginVersion = "0.1.0";

// The options, with the defaults of config/README.md.
VulkanOptions read_options(sdw::nn::PluginOptions &options) {
    VulkanOptions o;
    if (!options.has("device")) {
        options.text("device", "");  // absent: named among the known keys all the same
    } else {
        // An index (a JSON number or a string of digits) or a name substring.
        try {
            o.device = std::to_string(options.integer("device", 0, 255, 0, "a device index"));
        } catch (const sp::Error &) {
            o.device = options.text("device", "");
            if (o.device.empty()) options.fail("option 'device' must be a device index or a name substring, not empty");
        }
    }
    const std::string dtype = options.choice("dtype", {"float32", "float16"}, "float32");
    o.dtype = dtype == "float16" ? DType::F16 : DType::F32;
    o.validation = options.flag("validation", false);
    const std::string kernels = options.choice("kernels", {"auto", "tiled", "strip"}, "auto");
    o.kernels = kernels == "tiled"   ? sdw::vulkan::KernelForm::Tiled
                : kernels == "strip" ? sdw::vulkan::KernelForm::Strip
                                     : sdw::vulkan::KernelForm::Auto;
    o.max_memory_bytes = static_cast<uint64_t>(options.integer("max_memory_mb", 0, 1 << 30, 0, "0 = no cap")) << 20;
    return o;
}

struct VulkanBackend {
    static sp::Info describe() {
        std::string devices;
        try {
            for (const std::string &d : sdw::vulkan::list_devices()) devices += (devices.empty() ? "" : "; ") + d;
        } catch (const sp::Error &e) {
            devices = e.what();
        }
        return {"vulkan", kPluginVersion, "Vulkan compute (" + (devices.empty() ? std::string("no devices") : devices) + ")",
                true};
    }

    // A device with what the shaders need, as the default options would choose it.
    static void probe() {
        const std::string why = sdw::vulkan::unavailable_reason();
        if (!why.empty()) throw sp::Error(SDW_STATUS_UNSUPPORTED, why);
    }

    static std::unique_ptr<sdw::nn::Ops> make_ops(sdw::nn::PluginOptions &options) {
        return sdw::vulkan::make_vulkan_ops(read_options(options));
    }

    static std::string context_device(const sdw::nn::Ops &ops) { return sdw::vulkan::device_description(ops); }
};

}  // namespace

SDW_PLUGIN_DEFINE(sdw::nn::NetworkPlugin<VulkanBackend>);
