// When a running job publishes its next live preview: on every `every`-th step and
// no sooner than `min_interval` after the previous one, so a fast backend (a step in
// a few milliseconds) does not turn its event stream into a stream of images.
#pragma once

#include <chrono>

namespace sdw {

class PreviewThrottle {
public:
    using Clock = std::chrono::steady_clock;

    PreviewThrottle(int every, Clock::duration min_interval)
        : every_(every), min_interval_(min_interval) {}

    // True when step `step` (from 1) should get a preview; records it as published.
    bool due(int step, Clock::time_point now) {
        if (every_ <= 0 || step % every_ != 0) return false;
        if (published_ && now - last_ < min_interval_) return false;
        published_ = true;
        last_ = now;
        return true;
    }

private:
    int every_;
    Clock::duration min_interval_;
    bool published_ = false;
    Clock::time_point last_{};
};

}  // namespace sdw
