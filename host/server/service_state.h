// What the worker is doing as a whole (loading its model, serving, draining, failed)
// and what it serves with: shared by start-up, the HTTP handlers and the heartbeat.
#pragma once

#include "pipeline/generation.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sdw {

enum class ServicePhase { loading, ready, draining, failed };

constexpr std::string_view to_string(ServicePhase phase) {
    switch (phase) {
    case ServicePhase::loading: return "loading";
    case ServicePhase::ready: return "ready";
    case ServicePhase::draining: return "draining";
    case ServicePhase::failed: return "failed";
    }
    return "unknown";
}

// One loaded model instance (a plugin context, one per queue worker) as status
// pages show it.
struct BackendContextStatus {
    std::string device;
    std::optional<BackendMemory> memory;  // as last reported; nullopt: not reported
};

class ServiceState {
public:
    ServicePhase phase() const;
    // loading -> ready; ignored once draining or failed. `instances`: the loaded
    // model instances (the queue's generators) whose memory reports model() and
    // contexts() read live; empty keeps model.backend.memory as given.
    void set_ready(ModelDescription model,
                   std::vector<std::shared_ptr<const Generator>> instances = {});
    void set_draining();
    void set_failed(std::string reason);

    // The model; backend.memory is the sum over the instances' latest reports
    // (nullopt when one of them reports none). Never calls into a plugin.
    std::optional<ModelDescription> model() const;
    // Per instance, in worker order (one entry from the model itself when no
    // instances were given; none before ready).
    std::vector<BackendContextStatus> contexts() const;
    std::string failure() const;

private:
    mutable std::mutex mutex_;
    ServicePhase phase_ = ServicePhase::loading;
    std::optional<ModelDescription> model_;
    std::vector<std::shared_ptr<const Generator>> instances_;
    std::vector<std::string> instance_devices_;  // asked once, at set_ready
    std::string failure_;
};

}  // namespace sdw
