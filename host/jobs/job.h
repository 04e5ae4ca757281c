// One accepted generation request, from the queue to its single terminal state,
// with its event log and, once completed, its encoded images. Shared between the
// queue's workers and HTTP sessions; every accessor is thread-safe.
#pragma once

#include "jobs/job_event_log.h"
#include "jobs/job_state.h"
#include "pipeline/generation.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sdw {

struct JobError {
    std::string code;     // "generation_failed", "invalid_request", ...
    std::string message;
    std::string field;    // request field at fault, empty when none
};

struct JobImage {
    uint64_t seed = 0;
    int width = 0;
    int height = 0;
    std::shared_ptr<const std::vector<uint8_t>> png;
};

struct JobSnapshot {
    JobState state = JobState::queued;
    int step = 0;
    int total = 0;
    std::optional<JobError> error;
    std::string cancel_reason;
    bool cancel_requested = false;
    std::vector<JobImage> images;
    std::map<std::string, double> timings_ms;
    std::chrono::system_clock::time_point created_at;
    std::optional<std::chrono::system_clock::time_point> started_at;
    std::optional<std::chrono::system_clock::time_point> finished_at;
};

class Job {
public:
    Job(std::string id, GenerationRequest request);

    const std::string &id() const { return id_; }
    Operation operation() const { return operation_; }
    uint64_t seed() const { return seed_; }
    int requested_steps() const { return steps_; }
    // What the job costs, in pixel-steps (width x height x images x steps): the queue
    // learns its time per unit from finished jobs to estimate how long others will run.
    double work() const { return work_; }

    JobSnapshot snapshot() const;
    JobState state() const;
    JobEventLog &events() { return events_; }
    const JobEventLog &events() const { return events_; }
    std::optional<JobImage> image(size_t index) const;

    bool cancel_requested() const { return cancel_requested_.load(std::memory_order_acquire); }

    // --- Transitions, driven by JobQueue. Each returns false when the job had
    // already left the state the transition starts from, so exactly one terminal
    // transition ever succeeds, and its event is the last in the log.
    bool request_cancel(const std::string &reason);  // false once terminal
    // Hands the request (with its images) to the worker and marks the job running.
    std::optional<GenerationRequest> start_running();
    void record_progress(int step, int total);
    // Appends a "preview" event {"step", "total", "width", "height", "png_base64"}
    // (total as record_progress last set it) that supersedes the previous one; ignored
    // unless running.
    void publish_preview(int step, const Image &preview);
    // The last preview published, as base64 PNG (empty: none yet), for clients that
    // poll instead of streaming (A1111's /sdapi/v1/progress).
    std::string latest_preview_base64() const;
    bool complete(std::vector<JobImage> images, std::map<std::string, double> timings_ms,
                  std::string event_data);
    bool fail(JobError error);
    bool finish_cancelled(const std::string &reason);  // empty reason: the one asked for
    std::string cancel_reason() const;
    // Monotonic times of acceptance, start and terminal state, for the queue's
    // metrics and eviction; started_steady() and finished_steady() are meaningful
    // once the job has started or finished.
    std::chrono::steady_clock::time_point created_steady() const { return created_steady_; }
    std::chrono::steady_clock::time_point started_steady() const;
    std::chrono::steady_clock::time_point finished_steady() const;

private:
    bool enter_terminal(JobState state, std::unique_lock<std::mutex> &lock);

    const std::string id_;
    const Operation operation_;
    const uint64_t seed_;
    const int steps_;
    const double work_;
    const std::chrono::steady_clock::time_point created_steady_;

    mutable std::mutex mutex_;
    std::optional<GenerationRequest> request_;  // released to the worker at start
    JobState state_ = JobState::queued;
    int step_ = 0;
    int total_ = 0;
    std::optional<JobError> error_;
    std::string cancel_reason_;
    std::vector<JobImage> images_;
    std::map<std::string, double> timings_ms_;
    std::chrono::system_clock::time_point created_at_;
    std::optional<std::chrono::system_clock::time_point> started_at_;
    std::optional<std::chrono::system_clock::time_point> finished_at_;
    std::chrono::steady_clock::time_point started_steady_;
    std::chrono::steady_clock::time_point finished_steady_;
    std::atomic<bool> cancel_requested_{false};
    std::shared_ptr<const std::string> latest_preview_;  // under mutex_

    JobEventLog events_;
};

using JobPtr = std::shared_ptr<Job>;

// Where the HTTP API serves image `index` of job `id`.
std::string job_image_url(const std::string &id, size_t index);

}  // namespace sdw
