// What a heartbeat says: the worker's state as the server sees it, and the JSON body
// POSTed to the orchestrator.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
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

// Provided by the server through a callback each time a beat is sent; must be cheap
// and thread-safe (it runs on the heartbeat thread).
struct HeartbeatSnapshot {
    int queue_length = 0;                   // jobs waiting
    int capacity = 0;                       // queue capacity
    std::vector<RunningJobProgress> running_jobs;
    std::string plugin;                     // e.g. "cpu-blas"
    std::string device;                     // the plugin's device description
    std::string model;                      // model name or path
};

enum class HeartbeatEvent { register_worker, heartbeat, stopped };

std::string_view to_string(HeartbeatEvent event);

// The JSON body:
// {"event": "register"|"heartbeat"|"stopped", "worker_id", "sequence" (1, 2, ... per
//  client, also across retries), "state", "queue_length", "capacity",
//  "running_jobs": [{"id", "step", "total"}], "plugin", "device", "model", "uptime_s"}
nlohmann::json heartbeat_message(HeartbeatEvent event, std::string_view worker_id, uint64_t sequence,
                                 WorkerState state, const HeartbeatSnapshot &snapshot, double uptime_s);

}  // namespace sdw
