// The server's Prometheus metrics: counters and histograms that the HTTP server and
// the job queue record into, rendered for `GET /metrics` in the Prometheus text
// exposition format 0.0.4 (serve it as `text/plain; version=0.0.4; charset=utf-8`).
//
// Threading: every method may be called from any thread at any time (I/O threads,
// queue workers, the scrape). Recording is cheap (an atomic add, or a short lock
// that never calls out), so it may be done under other locks; render() reads a
// consistent copy of each histogram (its buckets, _sum and _count agree) and of the
// request counters. Nothing is ever reset: counters only grow for the life of the
// object, as Prometheus expects (a restart is seen as a reset by rate()).
//
// The series, all times in seconds and sizes in bytes:
//   sdw_jobs_total{status}              counter. status: "completed", "failed",
//       "cancelled" (a job's terminal state; cancelled includes queued jobs cancelled
//       by a client or a drain), "rejected" (a submit refused: queue_full, draining,
//       not_ready). All four series exist from the start, at 0.
//   sdw_queue_depth                     gauge. Jobs waiting (not counting running ones).
//   sdw_jobs_running                    gauge. Jobs being generated now.
//   sdw_step_seconds                    histogram. Wall time of one denoising step
//       (see JobQueue for how a step is measured).
//   sdw_job_seconds                     histogram. Run time of a job that ran: from its
//       start on a worker to its terminal state, whatever that state is.
//   sdw_queue_wait_seconds              histogram. From a job's acceptance to its start
//       on a worker; jobs cancelled while queued are not observed.
//   sdw_http_requests_total{route,code} counter. Responses sent, by route template and
//       HTTP status code.
//   process_resident_memory_bytes       gauge. This process's resident set, from
//       /proc/self/statm; absent where that cannot be read.
//   sdw_plugin_memory_bytes{kind}       gauge. kind: "weights", "plans", "cache": what
//       the plugin holds resident on its device; absent when the plugin does not
//       report memory.
//
// Histogram buckets: Metrics::step_buckets, job_buckets, queue_wait_buckets below
// (upper bounds in seconds, each rendered as le="..."; le="+Inf" is always added).
#pragma once

#include "pipeline/generation.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sdw {

// Thread-safe; every method may be called from any thread (I/O threads, queue workers).
class Metrics {
public:
    // Histogram upper bounds, seconds. A step takes ~5 ms (a small model on a GPU) to
    // ~30 s (SD 1.5 at 512x512 on two CPU cores); a job ~0.1 s to ~30 min; a wait in
    // the queue anything from none to the length of a long backlog.
    static constexpr std::array<double, 13> step_buckets{0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
                                                         1, 2, 5, 10, 20, 30};
    static constexpr std::array<double, 14> job_buckets{0.1, 0.25, 0.5, 1,   2.5, 5,    10,
                                                        30,  60,   120, 300, 600, 1200, 1800};
    static constexpr std::array<double, 17> queue_wait_buckets{
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800};

    // Distinct routes kept in sdw_http_requests_total; later ones count as "other".
    static constexpr size_t max_routes = 64;

    // One response. route: a template such as "/v1/jobs/{id}", never a raw path, so
    // that label cardinality stays bounded: at most max_routes distinct routes are
    // kept, beyond that (and for an empty route) the response counts as route "other".
    // status: the HTTP status code sent.
    void count_request(std::string_view route, int status);
    // One job outcome: "completed" | "failed" | "cancelled" | "rejected"; any other
    // value is ignored.
    void count_job(std::string_view status);
    // Histogram observations, in seconds; a negative value counts as 0, NaN is ignored.
    void observe_step(double seconds);        // one denoising step
    void observe_job(double seconds);         // started -> terminal, run time of a job that ran
    void observe_queue_wait(double seconds);  // accepted -> started

    // What the caller reads at scrape time from the queue and the service state.
    struct Gauges {
        size_t queue_depth = 0;
        size_t jobs_running = 0;
        std::optional<BackendMemory> plugin_memory;  // nullopt: series absent
    };
    // The whole exposition text, with # HELP and # TYPE lines, ending in a newline.
    std::string render(const Gauges &gauges) const;

private:
    static constexpr size_t max_histogram_buckets = 24;  // bounds plus +Inf
    static_assert(step_buckets.size() < max_histogram_buckets &&
                  job_buckets.size() < max_histogram_buckets &&
                  queue_wait_buckets.size() < max_histogram_buckets);

    class Histogram {
    public:
        explicit Histogram(std::span<const double> bounds) : bounds_(bounds) {}
        void observe(double value);
        void render(std::string &out, std::string_view name, std::string_view help) const;

    private:
        const std::span<const double> bounds_;     // ascending, finite
        mutable std::mutex mutex_;
        std::array<uint64_t, max_histogram_buckets> counts_{};  // per bucket, not cumulative
        double sum_ = 0;
    };

    std::array<std::atomic<uint64_t>, 4> jobs_{};  // completed, failed, cancelled, rejected
    Histogram step_{step_buckets};
    Histogram job_{job_buckets};
    Histogram queue_wait_{queue_wait_buckets};

    mutable std::mutex requests_mutex_;
    // route -> status code -> responses; "other" does not count against max_routes.
    std::map<std::string, std::map<int, uint64_t>, std::less<>> requests_;
};

}  // namespace sdw
