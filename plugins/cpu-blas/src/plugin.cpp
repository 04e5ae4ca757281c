// The cpu-blas plugin: the networks of plugins/common over make_cpu_ops, behind the
// C ABI through sdw/plugin_api.hpp (which catches every exception at the boundary).
#include <sdw/cpu/cpu_ops.h>
#include <sdw/nn/component.h>
#include <sdw/plugin_api.hpp>

#include "blas.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace sp = sdw::plugin;

constexpr const char *kPluginVersion = "0.1.0";

// sdw::nn throws ComponentError; the boundary knows sp::Error. Everything else
// (bad_alloc, other exceptions) is left to the boundary's own mapping.
template <typename Body>
auto translate_errors(Body &&body) {
    try {
        return body();
    } catch (const sdw::nn::ComponentError &e) {
        throw sp::Error(e.status, e.what());
    }
}

int all_cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// The Ops of a context keep freed activations for reuse (fresh pages cost a fault
// and a zeroing each, and on a VM the host's own fault behind it). Which component
// last ran decides whether that cache still fits: a UNet runs once per denoising
// step with the same shapes, so its cache is kept from step to step; any other
// component, or a run of a different component, starts from an empty cache and
// leaves none behind, so between jobs the plugin holds its weights only.
struct CacheOwner {
    std::atomic<const void *> last_run{nullptr};
};

class CpuComponent final : public sp::Component {
public:
    CpuComponent(std::shared_ptr<sdw::nn::Ops> ops, std::unique_ptr<sdw::nn::Component> net,
                 std::shared_ptr<CacheOwner> cache_owner, bool runs_per_step)
        : ops_(std::move(ops)), net_(std::move(net)), cache_owner_(std::move(cache_owner)),
          runs_per_step_(runs_per_step) {}

    void run(const sp::RunArgs &args) override {
        sdw::nn::RunOptions options;
        options.clip_skip = args.clip_skip();
        options.should_cancel = [&args] { return args.should_cancel(); };
        const sdw_run_args &raw = args.raw();
        if (cache_owner_->last_run.exchange(this) != this) sdw::cpu::release_cached_memory(*ops_);
        struct ReleaseAfterRun {
            sdw::nn::Ops &ops;
            CacheOwner &owner;
            bool keep;
            ~ReleaseAfterRun() {
                if (keep) return;
                sdw::cpu::release_cached_memory(ops);
                owner.last_run = nullptr;
            }
        } release{*ops_, *cache_owner_, runs_per_step_};
        translate_errors([&] {
            net_->run(raw.inputs, static_cast<size_t>(raw.input_count), raw.outputs,
                      static_cast<size_t>(raw.output_count), options);
        });
    }

    ~CpuComponent() override {
        const void *self = this;
        // A later component at this address must not take the cache for its own.
        if (cache_owner_->last_run.compare_exchange_strong(self, nullptr))
            sdw::cpu::release_cached_memory(*ops_);
    }

private:
    std::shared_ptr<sdw::nn::Ops> ops_;  // declared first: the network's tensors die before it
    std::unique_ptr<sdw::nn::Component> net_;
    std::shared_ptr<CacheOwner> cache_owner_;
    bool runs_per_step_;
};

class CpuContext final : public sp::Context {
public:
    explicit CpuContext(int threads) : ops_(sdw::cpu::make_cpu_ops(threads)) {}

    std::unique_ptr<sp::Component> load_component(const sp::ComponentDesc &desc) override {
        const std::string kind(desc.kind), config(desc.config_json);
        sdw_component_desc c{};
        c.struct_size = sizeof c;
        c.kind = kind.c_str();
        c.config_json = config.c_str();
        c.weights = desc.weights.data();
        c.weight_count = desc.weights.size();
        auto net = translate_errors([&] { return sdw::nn::load_component(*ops_, c); });
        return std::make_unique<CpuComponent>(ops_, std::move(net), cache_owner_, kind == "unet");
    }

private:
    std::shared_ptr<sdw::nn::Ops> ops_;
    std::shared_ptr<CacheOwner> cache_owner_ = std::make_shared<CacheOwner>();
};

// {"threads": N}: N >= 0, 0 = all cores. Any other key is refused by name.
int threads_option(const std::string &options_json) {
    nlohmann::json options;
    try {
        options = nlohmann::json::parse(options_json);
    } catch (const nlohmann::json::exception &e) {
        throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                        std::string("cpu-blas options are not valid JSON: ") + e.what());
    }
    if (options.is_null()) return all_cores();
    if (!options.is_object())
        throw sp::Error(SDW_STATUS_INVALID_ARGUMENT, "cpu-blas options must be a JSON object");
    int threads = 0;
    for (const auto &[key, value] : options.items()) {
        if (key != "threads")
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "unknown cpu-blas option '" + key + "' (known: threads)");
        if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 1024)
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "cpu-blas option 'threads' must be an integer in [0, 1024] "
                            "(0 = all cores), got " + value.dump());
        threads = value.get<int>();
    }
    return threads == 0 ? all_cores() : threads;
}

struct CpuBlasPlugin {
    static sp::Info describe() {
        const int cores = all_cores();
        std::string device = "CPU (" + std::to_string(cores) + (cores == 1 ? " thread" : " threads");
        device += ", " + translate_errors([] { return sdw::cpu::blas_description(); }) + ")";
        return {"cpu-blas", kPluginVersion, device, false};
    }

    // Usable wherever OpenBLAS loads.
    static void probe() {
        try {
            sdw::cpu::blas();
        } catch (const sdw::nn::ComponentError &e) {
            throw sp::Error(SDW_STATUS_UNSUPPORTED, e.what());
        }
    }

    static std::unique_ptr<sp::Context> create_context(const std::string &options_json) {
        return std::make_unique<CpuContext>(threads_option(options_json));
    }
};

}  // namespace

SDW_PLUGIN_DEFINE(CpuBlasPlugin);
