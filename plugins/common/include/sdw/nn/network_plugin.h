// The plugin glue, written once for every in-tree backend: a context owns one Ops and
// loads the networks of plugins/common onto it as PlannedComponents; options, errors
// (sdw::plugin::Error all the way), the cache policy and the memory report are the
// same everywhere. A backend is its Ops plus a few dozen lines:
//
//   struct MyBackend {
//       static sdw::plugin::Info describe();                 // name, version, device
//       static void probe();                                 // optional; throw UNSUPPORTED
//       // Reads its options (each read names its key; unread keys are refused after).
//       static std::unique_ptr<sdw::nn::Ops> make_ops(sdw::nn::PluginOptions &options);
//       // Optional: the device this context uses, for context_describe.
//       static std::string context_device(const sdw::nn::Ops &ops);
//   };
//   SDW_PLUGIN_DEFINE(sdw::nn::NetworkPlugin<MyBackend>);
#pragma once

#include <sdw/nn/component.h>
#include <sdw/nn/network.h>
#include <sdw/nn/ops.h>
#include <sdw/nn/plugin_options.h>
#include <sdw/plugin_api.hpp>
#include <sdw/tensor_views.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace sdw::nn {

// Ops keep freed activations for reuse (fresh pages cost a fault and a zeroing each).
// Which component last ran decides whether that cache still fits: a UNet runs once per
// denoising step with the same shapes, so its cache is kept from step to step; any
// other component, or a run of a different component, starts from a trimmed cache and
// leaves none behind, so between jobs a context holds its weights (and plans) only.
struct CacheOwner {
    std::atomic<const void *> last_run{nullptr};
};

class NetworkComponent final : public sdw::plugin::Component {
public:
    NetworkComponent(std::shared_ptr<Ops> ops, std::unique_ptr<Network> network,
                     std::shared_ptr<CacheOwner> cache_owner)
        : ops_(std::move(ops)), cache_owner_(std::move(cache_owner)),
          keeps_cache_(std::string(network->kind()) == "unet"),
          component_(std::make_unique<PlannedComponent>(*ops_, std::move(network))) {}

    ~NetworkComponent() override {
        component_.reset();
        const void *self = this;
        // A later component at this address must not take the cache for its own.
        if (cache_owner_->last_run.compare_exchange_strong(self, nullptr)) ops_->trim();
    }

    void prepare(std::span<const sdw_tensor_view> inputs) override { component_->prepare(inputs); }

    void run(const sdw::plugin::RunArgs &args) override {
        if (cache_owner_->last_run.exchange(this) != this) ops_->trim();
        struct TrimAfterRun {
            Ops &ops;
            CacheOwner &owner;
            bool keep;
            ~TrimAfterRun() {
                if (keep) return;
                ops.trim();
                owner.last_run = nullptr;
            }
        } trim_after{*ops_, *cache_owner_, keeps_cache_};
        component_->run(args);
    }

private:
    std::shared_ptr<Ops> ops_;  // declared first: the network's tensors die before it
    std::shared_ptr<CacheOwner> cache_owner_;
    bool keeps_cache_;
    std::unique_ptr<PlannedComponent> component_;
};

template <typename Backend>
class NetworkContext final : public sdw::plugin::Context {
public:
    explicit NetworkContext(std::shared_ptr<Ops> ops) : ops_(std::move(ops)) {}

    std::unique_ptr<sdw::plugin::Component> load_component(const sdw::plugin::ComponentDesc &desc) override {
        const std::string kind(desc.kind), config(desc.config_json);
        const sdw_component_desc c = sdw::plugin::make_component_desc(kind.c_str(), config.c_str(), desc.weights);
        return std::make_unique<NetworkComponent>(ops_, load_network(*ops_, c), cache_owner_);
    }

    std::string describe() const override {
        if constexpr (requires { Backend::context_device(*ops_); }) {
            return Backend::context_device(*ops_);
        } else {
            return {};
        }
    }

    sdw::plugin::MemoryReport memory() const override {
        const MemoryUse use = ops_->memory();
        sdw::plugin::MemoryReport report;
        report.weights_bytes = use.weights_bytes;
        report.plans_bytes = use.plans_bytes;
        report.cache_bytes = use.cache_bytes;
        return report;
    }

private:
    std::shared_ptr<Ops> ops_;
    std::shared_ptr<CacheOwner> cache_owner_ = std::make_shared<CacheOwner>();
};

template <typename Backend>
struct NetworkPlugin {
    static sdw::plugin::Info describe() { return Backend::describe(); }

    static void probe() {
        if constexpr (requires { Backend::probe(); }) Backend::probe();
    }

    static std::unique_ptr<sdw::plugin::Context> create_context(const std::string &options_json) {
        PluginOptions options(options_json, Backend::describe().name);
        std::shared_ptr<Ops> ops = Backend::make_ops(options);
        options.finish();
        return std::make_unique<NetworkContext<Backend>>(std::move(ops));
    }
};

}  // namespace sdw::nn
