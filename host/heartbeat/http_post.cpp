#include "heartbeat/http_post.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <algorithm>
#include <mutex>

namespace sdw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// Orchestrators answer with a short acknowledgement; anything bigger is a mistake.
constexpr size_t kResponseBodyLimit = 64 * 1024;
}  // namespace

struct HttpPoster::State {
    asio::io_context io;
    std::mutex mutex;
    bool active = false;   // a post is running (guarded by mutex)
    uint64_t generation = 0;
    // Valid only while a post runs, touched only on the io thread.
    tcp::resolver *resolver = nullptr;
    beast::tcp_stream *stream = nullptr;
    asio::steady_timer *resolve_timer = nullptr;
    bool cancelled = false;
};

HttpPoster::HttpPoster() : state_(std::make_unique<State>()) {}
HttpPoster::~HttpPoster() = default;

void HttpPoster::cancel_in_flight() {
    std::lock_guard lock(state_->mutex);
    if (!state_->active) return;
    State *state = state_.get();
    const uint64_t generation = state->generation;
    // Runs on the thread inside post(); the generation check keeps a late handler from
    // cancelling a later post.
    asio::post(state->io, [state, generation] {
        if (state->generation != generation || !state->stream) return;
        state->cancelled = true;
        state->resolver->cancel();
        state->resolve_timer->cancel();
        state->stream->cancel();
        beast::error_code ignored;
        state->stream->socket().close(ignored);
    });
}

bool HttpPoster::post(const HttpUrl &url, const std::string &json_body, std::chrono::milliseconds timeout,
                      std::string *error, const std::function<bool()> &should_abort) {
    State &s = *state_;
    {
        std::lock_guard lock(s.mutex);
        if (should_abort && should_abort()) {
            if (error) *error = "cancelled";
            return false;
        }
        s.active = true;
        ++s.generation;
    }
    s.io.restart();

    tcp::resolver resolver(s.io);
    beast::tcp_stream stream(s.io);
    asio::steady_timer resolve_timer(s.io);
    beast::flat_buffer buffer;
    http::request<http::string_body> request{http::verb::post, url.target, 11};
    request.set(http::field::host, url.host_header());
    request.set(http::field::user_agent, "sd-worker heartbeat");
    request.set(http::field::content_type, "application/json");
    request.keep_alive(false);
    request.body() = json_body;
    request.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);

    s.resolver = &resolver;
    s.stream = &stream;
    s.resolve_timer = &resolve_timer;
    s.cancelled = false;

    beast::error_code result;
    std::string stage = "resolve";
    auto finish = [&](beast::error_code ec) {
        result = ec;
        resolve_timer.cancel();
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.socket().close(ignored);
    };
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto remaining = [deadline] {
        return std::max(std::chrono::steady_clock::duration::zero(), deadline - std::chrono::steady_clock::now());
    };

    // The resolver has no expiry of its own: a timer cancels it.
    resolve_timer.expires_after(timeout);
    resolve_timer.async_wait([&](beast::error_code ec) {
        if (!ec) resolver.cancel();
    });
    resolver.async_resolve(url.host, std::to_string(url.port), [&](beast::error_code ec, tcp::resolver::results_type endpoints) {
        resolve_timer.cancel();
        if (ec) return finish(ec);
        stage = "connect";
        stream.expires_after(remaining());  // one deadline for connect, write and read
        stream.async_connect(endpoints, [&](beast::error_code ec2, const tcp::endpoint &) {
            if (ec2) return finish(ec2);
            stage = "write";
            http::async_write(stream, request, [&](beast::error_code ec3, size_t) {
                if (ec3) return finish(ec3);
                stage = "read";
                http::async_read(stream, buffer, parser, [&](beast::error_code ec4, size_t) { finish(ec4); });
            });
        });
    });
    s.io.run();

    {
        std::lock_guard lock(s.mutex);
        s.active = false;
        s.resolver = nullptr;
        s.stream = nullptr;
        s.resolve_timer = nullptr;
    }
    // Handlers posted by a cancel that came too late run now, harmlessly.
    s.io.restart();
    s.io.poll();

    if (result) {
        if (error) {
            const bool timed_out = result == beast::error::timeout ||
                                   (result == asio::error::operation_aborted && !s.cancelled);
            *error = stage + ": " + (s.cancelled ? std::string("cancelled")
                                     : timed_out ? std::string("timed out")
                                                 : result.message());
        }
        return false;
    }
    const unsigned status = parser.get().result_int();
    if (status < 200 || status > 299) {
        if (error) *error = "HTTP " + std::to_string(status);
        return false;
    }
    return true;
}

}  // namespace sdw
