#include "heartbeat/heartbeat_message.h"

namespace sdw {

std::string_view to_string(WorkerState state) {
    switch (state) {
    case WorkerState::loading: return "loading";
    case WorkerState::ready: return "ready";
    case WorkerState::busy: return "busy";
    case WorkerState::draining: return "draining";
    case WorkerState::stopped: return "stopped";
    }
    return "unknown";
}

std::string_view to_string(HeartbeatEvent event) {
    switch (event) {
    case HeartbeatEvent::register_worker: return "register";
    case HeartbeatEvent::heartbeat: return "heartbeat";
    case HeartbeatEvent::stopped: return "stopped";
    }
    return "unknown";
}

nlohmann::json heartbeat_message(HeartbeatEvent event, std::string_view worker_id, uint64_t sequence,
                                 WorkerState state, const HeartbeatSnapshot &snapshot, double uptime_s) {
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto &job : snapshot.running_jobs)
        jobs.push_back({{"id", job.id}, {"step", job.step}, {"total", job.total}});
    nlohmann::json memory = nullptr;
    if (const auto &m = snapshot.plugin_memory) {
        memory = {{"weights_bytes", m->weights_bytes},
                  {"plans_bytes", m->plans_bytes},
                  {"cache_bytes", m->cache_bytes}};
    }
    return {
        {"event", to_string(event)},
        {"worker_id", worker_id},
        {"sequence", sequence},
        {"state", to_string(state)},
        {"queue_length", snapshot.queue_length},
        {"capacity", snapshot.capacity},
        {"running_jobs", std::move(jobs)},
        {"plugin", snapshot.plugin},
        {"device", snapshot.device},
        {"model", snapshot.model},
        {"uptime_s", uptime_s},
        {"plugin_abi", snapshot.plugin_abi},
        {"plugin_memory", std::move(memory)},
    };
}

}  // namespace sdw
