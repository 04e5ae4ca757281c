// What a heartbeat says: the worker's state as the server sees it, and the JSON body
// POSTed to the orchestrator.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sdw {

enum class WorkerState { loading, ready, busy, draining, stopped };

std::string_view to_string(WorkerState state);

struct RunningJobProgress {
    std::string id;
    int step = 0;   // denoising steps done
    int total = 0;  // of this many
};

// Bytes the plugin's contexts hold on their devices (plugin ABI v1.1), summed.
struct HeartbeatMemory {
    uint64_t weights_bytes = 0;
    uint64_t plans_bytes = 0;
    uint64_t cache_bytes = 0;
};

// Provided by the server through a callback each time a beat is sent; must be cheap
// and thread-safe (it runs on the heartbeat thread, so it reads cached values and
// never calls into the plugin).
struct HeartbeatSnapshot {
    int queue_length = 0;                   // jobs waiting
    int capacity = 0;                       // queue capacity
    std::vector<RunningJobProgress> running_jobs;
    std::string plugin;                     // e.g. "cpu-blas"
    std::string device;                     // the plugin's device description
    std::string model;                      // model name or path
    std::string plugin_abi;                 // the plugin's ABI, "1.1"; "" before the model loads
    std::optional<HeartbeatMemory> plugin_memory;  // nullopt: not reported (ABI 1.0, loading)
};

enum class HeartbeatEvent { register_worker, heartbeat, stopped };

std::string_view to_string(HeartbeatEvent event);

// The JSON body:
// {"event": "register"|"heartbeat"|"stopped", "worker_id", "sequence" (1, 2, ... per
//  client, also across retries), "state", "queue_length", "capacity",
//  "running_jobs": [{"id", "step", "total"}], "plugin", "device", "model", "uptime_s",
//  "plugin_abi" ("1.1"; "" while loading), "plugin_memory" ({"weights_bytes",
//  "plans_bytes", "cache_bytes"} summed over the worker's contexts, or null when the
//  plugin does not report it or the model is still loading)}
nlohmann::json heartbeat_message(HeartbeatEvent event, std::string_view worker_id, uint64_t sequence,
                                 WorkerState state, const HeartbeatSnapshot &snapshot, double uptime_s);

}  // namespace sdw
