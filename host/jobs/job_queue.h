// A bounded FIFO of generation jobs served by worker threads, one per Generator
// (a Generator is one loaded model instance and runs one job at a time).
//
// Guarantees:
// - every accepted job reaches exactly one terminal state (completed, failed,
//   cancelled), and its terminal event is the last in its event log;
// - plugin work runs only on the queue's worker threads, never on the caller's;
// - a Generator exception fails that job with its message; the queue keeps serving;
// - finished jobs (state, images, events) are kept for `retention` and at most
//   `max_retained` of them, then evicted (oldest first).
//
// Metrics (JobQueueOptions::metrics, see server/metrics.h), recorded on the thread
// that causes them, just after the job's state changes:
// - count_job: each terminal state ("completed", "failed", "cancelled", the last
//   including queued jobs cancelled by cancel(), begin_drain() or shutdown()), and
//   "rejected" for each submit refused (queue_full, not_ready, draining);
// - observe_queue_wait: acceptance -> start on a worker, when a job starts;
// - observe_job: start -> terminal state, for a job that started;
// - observe_step: each denoising step, as the time between successive on_step
//   callbacks (so it includes what the worker does between steps: progress events,
//   previews). The first step's start is not reported by a Generator: it is placed
//   from the "denoise" timing generate() returns (the whole loop, less steps 2..n);
//   when there is none (cancelled or failed, or a Generator that does not time its
//   loop) the first step is measured from the call to generate(), so it then also
//   holds the text encoding and latent preparation.
#pragma once

#include "jobs/job.h"
#include "pipeline/generation.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sdw {

class Metrics;

struct JobQueueOptions {
    size_t capacity = 16;  // jobs waiting (not counting running ones)
    std::chrono::milliseconds retention{std::chrono::minutes(15)};
    size_t max_retained = 256;  // finished jobs kept for status, images and replay
    // ... and the memory their images may hold (PNGs and the completed event's base64);
    // the newest finished job is kept whatever its size.
    size_t max_retained_bytes = size_t(2) << 30;
    // Non-empty: every result PNG is also written there as <job id>_<index>.png.
    std::string output_dir;
    // Where the queue records its metrics (see above); nullptr: none. Shared with the
    // HTTP server, which renders them.
    std::shared_ptr<Metrics> metrics;
};

struct QueueStats {
    bool ready = false;
    bool draining = false;
    size_t queued = 0;
    size_t running = 0;
    size_t capacity = 0;
    size_t workers = 0;
    size_t retained = 0;  // finished jobs still held
    uint64_t completed = 0;
    uint64_t failed = 0;
    uint64_t cancelled = 0;
};

enum class SubmitError { none, queue_full, not_ready, draining };

struct SubmitResult {
    SubmitError error = SubmitError::none;
    JobPtr job;                 // set when accepted
    size_t queue_position = 0;  // 1 = next to run
};

enum class CancelOutcome {
    cancelled,         // was queued: now cancelled
    cancelling,        // is running: stops before its next denoising step
    already_finished,  // terminal already
    not_found,
};

class JobQueue {
public:
    explicit JobQueue(JobQueueOptions options = {});
    ~JobQueue();  // shutdown()
    JobQueue(const JobQueue &) = delete;
    JobQueue &operator=(const JobQueue &) = delete;

    // Starts one worker thread per generator; the queue accepts jobs from now on.
    void start(std::vector<std::shared_ptr<Generator>> generators);

    SubmitResult submit(GenerationRequest request);
    JobPtr find(const std::string &id);
    // 1-based place in the waiting line; nullopt unless the job is queued.
    std::optional<size_t> queue_position(const std::string &id) const;
    CancelOutcome cancel(const std::string &id, const std::string &reason);

    // Drain: refuse new jobs and cancel every queued one with `reason`; running jobs go on.
    void begin_drain(const std::string &reason);
    void cancel_running(const std::string &reason);
    // Waits until no job is queued or running; false on timeout.
    bool wait_idle(std::chrono::milliseconds timeout);
    // Cancels everything left, stops and joins the workers. Idempotent.
    void shutdown();

    QueueStats stats() const;
    std::vector<JobPtr> running_jobs() const;
    // Every job still held (queued, running, or finished and not yet evicted), newest
    // first (by acceptance; ties by id, so pages are stable).
    std::vector<JobPtr> recent_jobs() const;
    // How long a client refused with queue_full should wait: until the soonest running
    // job ends (then a queued one starts and a place frees), from that job's own pace, or
    // its size at the recent time per pixel-step; clamped to [1 s, 300 s].
    std::chrono::seconds retry_after() const;
    // Called (from a worker or the caller's thread, never under the queue's lock)
    // whenever a job is accepted, starts or finishes — e.g. for the heartbeat.
    void set_observer(std::function<void(const QueueStats &)> observer);
    void evict_expired();

    const JobQueueOptions &options() const { return options_; }

private:
    void worker_loop(std::shared_ptr<Generator> generator, std::string model_name);
    void run_job(Generator &generator, const std::string &model_name, const JobPtr &job,
                 GenerationRequest request);
    void save_output(const std::string &job_id, size_t index, const std::vector<uint8_t> &png);
    void job_finished(const JobPtr &job);  // under lock
    static size_t retained_bytes(const Job &job);
    void publish_positions_from(size_t index);  // under lock
    void evict_locked(std::chrono::steady_clock::time_point now);
    QueueStats stats_locked() const;
    void notify_observer();
    std::string new_job_id();

    const JobQueueOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable work_cv_;
    std::condition_variable idle_cv_;
    std::deque<JobPtr> pending_;
    std::vector<JobPtr> running_;
    std::unordered_map<std::string, JobPtr> jobs_;
    std::deque<JobPtr> finished_;  // in finishing order, for eviction
    size_t retained_bytes_ = 0;    // what finished_ holds (retained_bytes of each)
    std::vector<std::thread> workers_;
    bool ready_ = false;
    bool draining_ = false;
    bool stopping_ = false;
    uint64_t completed_ = 0, failed_ = 0, cancelled_ = 0;
    double average_job_ms_ = 0;  // exponential moving average of run times
    double ms_per_work_ = 0;     // the same per pixel-step of completed jobs (Job::work)
    std::function<void(const QueueStats &)> observer_;
    std::mutex observer_mutex_;
    std::mt19937_64 id_rng_;
};

}  // namespace sdw
