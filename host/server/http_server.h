// The asynchronous HTTP/1.1 server (Boost.Beast), modelled on Beast's advanced_server:
// - a strand per connection; `expires_after` before every read and write;
// - a body limit on the request parser (413 beyond it);
// - a bounded queue of pipelined responses (reading pauses while it is full);
// - SSE streams take over the connection, switch the idle timeout off (each write
//   still has one) and send ": keep-alive" comments from a timer on the same strand.
// No plugin work runs on the I/O threads: handlers only validate, enqueue and read
// job state; the JobQueue's workers generate.
//
// Drain (SIGTERM/SIGINT once handle_signals() is called, or begin_drain()): /ready
// turns 503, new jobs get 503 "draining", queued jobs are cancelled, the running job
// may finish within `drain_grace` and is cancelled after it; when no job is left and
// the streams have flushed their last events, the server stops and wait() returns.
#pragma once

#include "jobs/job_queue.h"
#include "server/api_handler.h"
#include "server/connection_limiter.h"
#include "server/service_state.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sdw {

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;  // 0: an ephemeral port, see HttpServer::port()
    unsigned io_threads = 2;
    size_t body_limit = 32u << 20;  // base64 images make bodies large
    size_t max_pipelined = 8;       // responses queued per connection before reading pauses
    // Time to receive a request (and to write any one response or event batch).
    std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
    // How long a keep-alive connection may wait idle for its next request.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds sse_keepalive{std::chrono::seconds(15)};
    std::chrono::milliseconds drain_grace{std::chrono::seconds(30)};
    // After the last job has ended, how long streams get to deliver their final events.
    std::chrono::milliseconds stream_flush_timeout{std::chrono::seconds(2)};
    ConnectionLimits connections;  // open connections, in all and per client address
    ApiOptions api;
};

class HttpServer {
public:
    HttpServer(ServerOptions options, JobQueue &queue, ServiceState &state);
    ~HttpServer();  // stop()
    HttpServer(const HttpServer &) = delete;
    HttpServer &operator=(const HttpServer &) = delete;

    // Binds, listens and starts the I/O threads. Throws std::runtime_error when the
    // address cannot be bound. Returns the bound port.
    uint16_t start();
    uint16_t port() const { return port_; }

    // SIGINT and SIGTERM begin a drain (a second signal stops at once).
    void handle_signals();
    // Begins a drain; returns immediately. Idempotent.
    void begin_drain();
    bool draining() const { return draining_.load(); }
    // Blocks until the server has stopped (after a drain or stop()).
    void wait();
    // Stops accepting, closes every connection and joins the I/O threads. Idempotent;
    // returns once the server has stopped, whichever thread stops it.
    void stop();

    size_t open_streams() const;
    size_t open_connections() const;  // event streams and reserve connections included

    struct Impl;

private:
    void drain_worker();
    void wait_for_signal();

    ServerOptions options_;
    JobQueue &queue_;
    ServiceState &state_;
    std::shared_ptr<Impl> impl_;
    uint16_t port_ = 0;
    std::atomic<bool> draining_{false};
    std::thread drain_thread_;
    std::mutex stop_mutex_;
    std::condition_variable stopped_cv_;
    bool stopping_ = false;
    bool stopped_ = false;
};

}  // namespace sdw
