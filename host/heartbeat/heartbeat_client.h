// Keeps an orchestrator informed: POSTs a "register" message when started, a
// "heartbeat" every interval and at once on every state change, and a best-effort
// "stopped" message on stop(). Runs on its own thread; no call blocks on the network.
//
// Failures (refused, timed out, non-2xx) are logged and retried with exponential
// backoff (initial_backoff_s doubling up to max_backoff_s); the first success after
// failures is logged too. A register that never succeeded is retried as "register".
// A state change is not held back by the backoff: it is attempted at once (once; if
// that attempt fails too, the backoff goes on and the next retry carries the state),
// so an orchestrator that comes back hears "draining" when it happens, not up to
// max_backoff_s later. A beat in flight is not cancelled for it: the change goes out
// when that one ends (within request_timeout_s).
// Every message carries a sequence number that increases by one per message sent.
//
// Threading: every public member is thread-safe. The snapshot callback runs on the
// heartbeat thread, never under a lock of this class.
#pragma once

#include "config/http_url.h"
#include "heartbeat/heartbeat_message.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sdw {

struct HeartbeatOptions {
    HttpUrl url;
    std::string worker_id;
    double interval_s = 10.0;          // fractions allowed (tests use milliseconds)
    double request_timeout_s = 5.0;    // resolve + connect + write + read, per attempt
    double initial_backoff_s = 0.5;
    double max_backoff_s = 30.0;
    double final_beat_timeout_s = 1.0; // for the "stopped" message sent by stop(), retries included
    // level is "debug", "info", "warn" or "error"; default: the worker's log (log/log.h),
    // "heartbeat: " before the message. Tests set it to see what was logged.
    std::function<void(std::string_view level, const std::string &message)> log;
};

class HeartbeatClient {
public:
    using SnapshotFn = std::function<HeartbeatSnapshot()>;

    HeartbeatClient(HeartbeatOptions options, SnapshotFn snapshot);
    ~HeartbeatClient();  // stop()
    HeartbeatClient(const HeartbeatClient &) = delete;
    HeartbeatClient &operator=(const HeartbeatClient &) = delete;

    // Starts the thread, which sends "register" at once. Idempotent.
    void start(WorkerState initial_state = WorkerState::loading);

    // Records the state and wakes the thread to send a beat now. When the state differs
    // from that of the last message attempted, the beat goes out at once even while
    // backing off after failures; the same state again is treated as notify().
    // Never blocks on the network.
    void notify(WorkerState state);
    // Wakes the thread to send a beat now with the current state (e.g. new progress),
    // unless it is backing off after failures: then the next retry carries it (progress
    // does not get to hammer an orchestrator that is down).
    void notify();

    // Cancels the request in flight (a beat not yet sent is superseded), then sends the
    // final "stopped" message (state "stopped"), whether or not the client was backing
    // off: attempts with one body (one sequence number), retried every 100 ms while
    // they fail, until one is answered 2xx or final_beat_timeout_s has passed. Joins
    // the thread: returns within about final_beat_timeout_s even when the receiver
    // hangs or is down. Idempotent.
    void stop();

    WorkerState state() const;
    // Counters, mainly for tests and /metrics.
    uint64_t messages_sent() const;   // answered with 2xx
    uint64_t failures() const;        // attempts that failed

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace sdw
