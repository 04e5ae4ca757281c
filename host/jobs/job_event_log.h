// The ordered events of one job (queued, started, progress, ..., one terminal event),
// kept for replay so that any number of SSE subscribers, arriving at any time, see
// the same sequence with the same ids.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sdw {

struct JobEvent {
    uint64_t id = 0;        // 1, 2, 3, ... within the job
    std::string name;       // SSE event name: queued, started, progress, completed, failed, cancelled
    std::string data;       // JSON text
    bool terminal = false;  // the last event the job will ever have
    // Replaced by a later event of the same name (a preview): kept only as an id,
    // never sent, so a long job's log holds one preview image, not one per step.
    bool superseded = false;
};

using JobEventPtr = std::shared_ptr<const JobEvent>;

class JobEventLog {
public:
    // Called after every append, outside the log's lock, from whichever thread
    // appended. Listeners must be cheap (post to a strand) and must not block.
    using Listener = std::function<void()>;

    // Appends an event; ignored (returns 0) once a terminal event has been appended.
    uint64_t append(std::string name, std::string data, bool terminal = false);

    // Appends an event that makes the previous event of the same name appended this
    // way superseded (its data is released; events_after skips it). Ignored once closed.
    uint64_t append_superseding(std::string name, std::string data);

    // Events with id > last_id, in order, superseded ones left out. Shares the stored
    // events, no copies of data.
    std::vector<JobEventPtr> events_after(uint64_t last_id) const;

    uint64_t last_id() const;
    bool closed() const;  // a terminal event has been appended

    // Returns a token for unsubscribe. A listener may still be running (or about to
    // run) on another thread when unsubscribe returns; it must tolerate that.
    // Listeners are released once the terminal event has been delivered to them; on a
    // closed log, subscribe keeps nothing and returns 0 (check closed() after subscribing
    // to catch an end that came first).
    uint64_t subscribe(Listener listener);
    void unsubscribe(uint64_t token);
    size_t subscriber_count() const;

private:
    // Appends under the lock (superseding the previous event named `name` when asked),
    // then notifies the listeners outside it.
    uint64_t push(std::string name, std::string data, bool terminal, bool superseding);

    mutable std::mutex mutex_;
    std::vector<JobEventPtr> events_;
    bool closed_ = false;
    std::vector<std::pair<std::string, size_t>> latest_superseding_;  // name -> index in events_
    uint64_t next_token_ = 1;
    std::vector<std::pair<uint64_t, std::shared_ptr<Listener>>> listeners_;
};

}  // namespace sdw
