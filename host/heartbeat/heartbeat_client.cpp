#include "heartbeat/heartbeat_client.h"

#include "heartbeat/http_post.h"
#include "log/log.h"

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

namespace sdw {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds to_ms(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000.0)));
}

void log_to_worker_log(std::string_view level, const std::string &message) {
    log_message(parse_log_level(level).value_or(LogLevel::info), "heartbeat: " + message);
}

}  // namespace

struct HeartbeatClient::Impl {
    HeartbeatOptions options;
    SnapshotFn snapshot;
    const Clock::time_point started_at = Clock::now();
    HttpPoster poster;

    mutable std::mutex mutex;
    std::condition_variable wake;
    WorkerState state = WorkerState::loading;
    bool started = false;
    bool beat_requested = false;
    std::atomic<bool> stopping{false};
    std::thread thread;

    std::atomic<uint64_t> sent{0};
    std::atomic<uint64_t> failed{0};
    uint64_t sequence = 0;  // heartbeat thread only

    void log(std::string_view level, const std::string &message) const {
        if (options.log) options.log(level, message);
        else log_to_worker_log(level, message);
    }

    std::string body(HeartbeatEvent event, WorkerState current) {
        HeartbeatSnapshot snap;
        if (snapshot) {
            try {
                snap = snapshot();
            } catch (const std::exception &e) {
                log("error", std::string("snapshot callback failed: ") + e.what());
            }
        }
        const double uptime = std::chrono::duration<double>(Clock::now() - started_at).count();
        return heartbeat_message(event, options.worker_id, ++sequence, current, snap, uptime).dump();
    }

    // Best effort: the orchestrator learns at once that this worker is gone, also when
    // the regular beats were backing off. A poster of its own, because stop() cancels
    // `poster` and may do so after this thread got here: the final message is bounded by
    // its own deadline instead. Within that deadline a failed attempt (e.g. refused while
    // the orchestrator restarts) is retried every 100 ms with the same body, so the same
    // sequence number: a receiver can tell a repeat from a new message.
    void send_final_message() {
        const auto deadline = Clock::now() + to_ms(options.final_beat_timeout_s);
        const std::string message = body(HeartbeatEvent::stopped, WorkerState::stopped);
        HttpPoster final_poster;
        std::string error;
        int attempts = 0;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) break;
            ++attempts;
            if (final_poster.post(options.url, message, left, &error)) {
                ++sent;
                return;
            }
            ++failed;
            const auto pause = std::min<Clock::duration>(std::chrono::milliseconds(100), deadline - Clock::now());
            if (pause > Clock::duration::zero()) std::this_thread::sleep_for(pause);
        }
        log("debug", "final \"stopped\" message not delivered after " + std::to_string(attempts) +
                         " attempt(s) (" + (attempts > 0 ? error : std::string("no time left")) + ")");
    }

    void run() {
        bool registered = false;
        int consecutive_failures = 0;
        Clock::time_point next_due = Clock::now();  // register at once
        const auto interval = to_ms(options.interval_s);
        const auto timeout = to_ms(options.request_timeout_s);
        // The state of the last message attempted (delivered or not): a requested beat
        // whose state differs from it is a state change, sent at once even while backing
        // off; any other requested beat waits for the retry when backing off.
        std::optional<WorkerState> last_attempted;

        while (true) {
            WorkerState current;
            {
                std::unique_lock lock(mutex);
                wake.wait_until(lock, next_due, [&] {
                    return stopping.load() ||
                           (beat_requested && (consecutive_failures == 0 || state != last_attempted)) ||
                           Clock::now() >= next_due;
                });
                if (stopping) break;
                beat_requested = false;
                current = state;
            }
            last_attempted = current;
            const HeartbeatEvent event = registered ? HeartbeatEvent::heartbeat : HeartbeatEvent::register_worker;
            std::string error;
            const bool ok = poster.post(options.url, body(event, current), timeout, &error,
                                        [this] { return stopping.load(); });
            if (ok) {
                ++sent;
                if (consecutive_failures > 0)
                    log("info", "orchestrator reachable again after " + std::to_string(consecutive_failures) +
                                    " failed attempt(s)");
                else if (!registered)
                    log("info", "registered with " + options.url.host_header() + options.url.target);
                registered = registered || event == HeartbeatEvent::register_worker;
                consecutive_failures = 0;
                next_due = Clock::now() + interval;
                continue;
            }
            if (stopping) break;
            ++failed;
            ++consecutive_failures;
            const double backoff_s = std::min(options.max_backoff_s,
                                              options.initial_backoff_s * std::pow(2.0, std::min(consecutive_failures - 1, 30)));
            next_due = Clock::now() + to_ms(backoff_s);
            // One warning when the orchestrator goes away, then quieter until it is back.
            log(consecutive_failures == 1 ? "warn" : "debug",
                std::string(to_string(event)) + " to " + options.url.host_header() + options.url.target +
                    " failed (" + error + "); retrying in " + std::to_string(backoff_s) + " s");
        }

        send_final_message();
    }
};

HeartbeatClient::HeartbeatClient(HeartbeatOptions options, SnapshotFn snapshot) : impl_(std::make_shared<Impl>()) {
    impl_->options = std::move(options);
    impl_->snapshot = std::move(snapshot);
}

HeartbeatClient::~HeartbeatClient() { stop(); }

void HeartbeatClient::start(WorkerState initial_state) {
    std::lock_guard lock(impl_->mutex);
    if (impl_->started || impl_->stopping) return;
    impl_->started = true;
    impl_->state = initial_state;
    impl_->thread = std::thread([impl = impl_] { impl->run(); });
}

void HeartbeatClient::notify(WorkerState state) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->state = state;
        impl_->beat_requested = true;
    }
    impl_->wake.notify_one();
}

void HeartbeatClient::notify() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->beat_requested = true;
    }
    impl_->wake.notify_one();
}

void HeartbeatClient::stop() {
    std::thread thread;
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
        impl_->state = WorkerState::stopped;
        thread = std::move(impl_->thread);
    }
    impl_->wake.notify_one();
    impl_->poster.cancel_in_flight();
    // Bounded: the request in flight is cancelled, and the final one has its own
    // deadline (every step of HttpPoster::post is under it).
    if (thread.joinable()) thread.join();
}

WorkerState HeartbeatClient::state() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->state;
}

uint64_t HeartbeatClient::messages_sent() const { return impl_->sent; }
uint64_t HeartbeatClient::failures() const { return impl_->failed; }

}  // namespace sdw
