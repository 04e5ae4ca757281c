// Test helper: a tiny HTTP server on 127.0.0.1 that records every POST body, and can
// answer 200, answer 500, never answer (hang), or go away and come back on its port.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace sdw::test {

struct ReceivedPost {
    nlohmann::json body;
    std::chrono::steady_clock::time_point at;
};

class HeartbeatReceiver {
public:
    enum class Mode { answer_ok, answer_500, hang };

    HeartbeatReceiver();  // listening on an ephemeral port
    ~HeartbeatReceiver();

    uint16_t port() const;
    void set_mode(Mode mode);
    void close();   // stop listening: connections are refused
    void reopen();  // listen again on the same port

    std::vector<ReceivedPost> posts() const;
    size_t requests_seen() const;  // including those left hanging
    // Waits until `done(posts())` or the timeout; returns the final verdict.
    bool wait_for(const std::function<bool(const std::vector<ReceivedPost> &)> &done,
                  std::chrono::milliseconds timeout) const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace sdw::test
