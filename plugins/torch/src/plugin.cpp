// The torch plugin: the networks of plugins/common on ATen, behind the C ABI through the
// shared glue of sdw/nn/network_plugin.h. This file includes no libtorch header.
#include <sdw/nn/network_plugin.h>
#include <sdw/torch/torch_ops.h>

#include <string>

namespace {

namespace sp = sdw::plugin;
using sdw::libtorch::TorchOptions;
using sdw::nn::DType;

constexpr const char *kPluginVersion = "0.1.0";

// The device, dtype and execution options, with the defaults of config/README.md.
TorchOptions read_options(sdw::nn::PluginOptions &options) {
    TorchOptions o;
    const bool cuda_here = sdw::libtorch::cuda_built() && sdw::libtorch::cuda_device_count() > 0;
    const std::string device = options.text("device", cuda_here ? "cuda" : "cpu");
    if (device == "cpu") {
        o.cuda = false;
    } else if (device == "cuda") {
        o.cuda = true;
    } else if (device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() < 9 &&
               device.find_first_not_of("0123456789", 5) == std::string::npos) {
        o.cuda = true;
        o.device_index = std::stoi(device.substr(5));
    } else {
        options.fail("option 'device' must be \"cpu\", \"cuda\" or \"cuda:N\", got \"" + device + "\"");
    }
    const std::string dtype =
        options.choice("dtype", {"float32", "float16", "bfloat16"}, o.cuda ? "float16" : "float32");
    o.dtype = dtype == "float16" ? DType::F16 : dtype == "bfloat16" ? DType::BF16 : DType::F32;
    // libtorch's CPU kernels lack half precision, and its bfloat16 group norm loses
    // the statistics' precision (off by 5 % in the conformance suite).
    if (!o.cuda && o.dtype != DType::F32)
        options.fail("option 'dtype' " + dtype + " needs device cuda; the CPU computes in float32");
    o.cuda_graphs = options.flag("cuda_graphs", true);
    o.channels_last = options.flag("channels_last", o.cuda);
    o.threads = options.integer("threads", 0, 1024, 0, "CPU intra-op threads, 0 = all cores");
    o.max_memory_bytes = static_cast<uint64_t>(options.integer("max_memory_mb", 0, 1 << 30, 0, "0 = no cap")) << 20;
    return o;
}

struct TorchBackend {
    static sp::Info describe() {
        std::string device = "libtorch " + sdw::libtorch::torch_version();
        device += sdw::libtorch::cuda_built()
                      ? " with CUDA, " + std::to_string(sdw::libtorch::cuda_device_count()) + " devices visible"
                      : " (CPU only)";
        return {"torch", kPluginVersion, device, true};
    }

    static std::unique_ptr<sdw::nn::Ops> make_ops(sdw::nn::PluginOptions &options) {
        return sdw::libtorch::make_torch_ops(read_options(options));
    }

    static std::string context_device(const sdw::nn::Ops &ops) { return sdw::libtorch::device_description(ops); }
};

}  // namespace

SDW_PLUGIN_DEFINE(sdw::nn::NetworkPlugin<TorchBackend>);
