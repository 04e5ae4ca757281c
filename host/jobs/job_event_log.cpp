#include "jobs/job_event_log.h"

#include <algorithm>

namespace sdw {

uint64_t JobEventLog::append(std::string name, std::string data, bool terminal) {
    return push(std::move(name), std::move(data), terminal, false);
}

uint64_t JobEventLog::append_superseding(std::string name, std::string data) {
    return push(std::move(name), std::move(data), false, true);
}

uint64_t JobEventLog::push(std::string name, std::string data, bool terminal, bool superseding) {
    std::vector<std::shared_ptr<Listener>> to_notify;
    uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        if (closed_) return 0;
        id = events_.size() + 1;
        if (superseding) {
            auto latest = std::find_if(latest_superseding_.begin(), latest_superseding_.end(),
                                       [&name](const auto &entry) { return entry.first == name; });
            if (latest != latest_superseding_.end()) {
                JobEventPtr &old = events_[latest->second];
                old = std::make_shared<const JobEvent>(JobEvent{old->id, old->name, "", false, true});
                latest->second = events_.size();
            } else {
                latest_superseding_.emplace_back(name, events_.size());
            }
        }
        events_.push_back(std::make_shared<const JobEvent>(
            JobEvent{id, std::move(name), std::move(data), terminal, false}));
        closed_ = terminal;
        to_notify.reserve(listeners_.size());
        for (auto &entry : listeners_) to_notify.push_back(entry.second);
        // No listener is called after the terminal event: letting them go here frees
        // whatever they hold (an HTTP session awaiting this job holds itself through
        // its listener) even if nobody unsubscribes.
        if (terminal) listeners_.clear();
    }
    for (auto &listener : to_notify) (*listener)();
    return id;
}

std::vector<JobEventPtr> JobEventLog::events_after(uint64_t last_id) const {
    std::lock_guard lock(mutex_);
    std::vector<JobEventPtr> events;
    for (size_t i = last_id; i < events_.size(); ++i)
        if (!events_[i]->superseded) events.push_back(events_[i]);
    return events;
}

uint64_t JobEventLog::last_id() const {
    std::lock_guard lock(mutex_);
    return events_.size();
}

bool JobEventLog::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

uint64_t JobEventLog::subscribe(Listener listener) {
    std::lock_guard lock(mutex_);
    if (closed_) return 0;
    uint64_t token = next_token_++;
    listeners_.emplace_back(token, std::make_shared<Listener>(std::move(listener)));
    return token;
}

void JobEventLog::unsubscribe(uint64_t token) {
    std::lock_guard lock(mutex_);
    std::erase_if(listeners_, [token](const auto &entry) { return entry.first == token; });
}

size_t JobEventLog::subscriber_count() const {
    std::lock_guard lock(mutex_);
    return listeners_.size();
}

}  // namespace sdw
