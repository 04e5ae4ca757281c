// The cpu-blas plugin: the networks of plugins/common on the CPU Ops, behind the C ABI
// through the shared glue of sdw/nn/network_plugin.h.
#include <sdw/cpu/cpu_ops.h>
#include <sdw/nn/network_plugin.h>

#include "blas.h"

#include <algorithm>
#include <thread>

namespace {

namespace sp = sdw::plugin;

constexpr const char *kPluginVersion = "0.2.0";

int all_cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

std::string threads_text(int threads) {
    return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

struct CpuBlasBackend {
    static sp::Info describe() {
        return {"cpu-blas", kPluginVersion,
                "CPU (" + threads_text(all_cores()) + ", " + sdw::cpu::blas_description() + ")", false};
    }

    // Usable wherever OpenBLAS loads.
    static void probe() {
        try {
            sdw::cpu::blas();
        } catch (const sp::Error &e) {
            throw sp::Error(SDW_STATUS_UNSUPPORTED, e.what());
        }
    }

    // {"threads": N}: N in [0, 1024], 0 = all cores.
    static std::unique_ptr<sdw::nn::Ops> make_ops(sdw::nn::PluginOptions &options) {
        const int threads = options.integer("threads", 0, 1024, 0, "0 = all cores");
        return sdw::cpu::make_cpu_ops(threads == 0 ? all_cores() : threads);
    }

    static std::string context_device(const sdw::nn::Ops &ops) {
        return "CPU (" + threads_text(sdw::cpu::thread_count(ops)) + ", " + sdw::cpu::blas_description() + ")";
    }
};

}  // namespace

SDW_PLUGIN_DEFINE(sdw::nn::NetworkPlugin<CpuBlasBackend>);
