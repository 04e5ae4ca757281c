// What the worker is doing as a whole (loading its model, serving, draining, failed)
// and what it serves with: shared by start-up, the HTTP handlers and the heartbeat.
#pragma once

#include "pipeline/generation.h"

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

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

class ServiceState {
public:
    ServicePhase phase() const;
    // loading -> ready; ignored once draining or failed.
    void set_ready(ModelDescription model);
    void set_draining();
    void set_failed(std::string reason);

    std::optional<ModelDescription> model() const;
    std::string failure() const;

private:
    mutable std::mutex mutex_;
    ServicePhase phase_ = ServicePhase::loading;
    std::optional<ModelDescription> model_;
    std::string failure_;
};

}  // namespace sdw
