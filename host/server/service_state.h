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

// The backend plugin as it described itself.
struct BackendInfo {
    std::string plugin_name;     // e.g. "cpu-blas"
    std::string plugin_version;  // the plugin's own version
    std::string plugin_path;     // the shared object loaded
    std::string abi_version;     // "major.minor" the plugin was built against
    std::string device;          // human-readable device description
};

class ServiceState {
public:
    ServicePhase phase() const;
    // loading -> ready; ignored once draining or failed.
    void set_ready(ModelDescription model, BackendInfo backend);
    void set_draining();
    void set_failed(std::string reason);

    std::optional<ModelDescription> model() const;
    BackendInfo backend() const;
    std::string failure() const;

private:
    mutable std::mutex mutex_;
    ServicePhase phase_ = ServicePhase::loading;
    std::optional<ModelDescription> model_;
    BackendInfo backend_;
    std::string failure_;
};

}  // namespace sdw
