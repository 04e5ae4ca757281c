// One bounded, cancellable HTTP/1.1 POST of a JSON body (Boost.Beast), run on an
// io_context owned by the caller's thread.
#pragma once

#include "config/http_url.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace sdw {

class HttpPoster {
public:
    HttpPoster();
    ~HttpPoster();
    HttpPoster(const HttpPoster &) = delete;
    HttpPoster &operator=(const HttpPoster &) = delete;

    // Resolve, connect, write, read the status line and headers and body, all within
    // `timeout`. Returns true for a 2xx answer; otherwise false with the reason in *error.
    // Runs on the calling thread; only one post at a time.
    // `should_abort`, if set, is checked when the post starts, under the same lock as
    // cancel_in_flight: a caller that sets its abort condition and then calls
    // cancel_in_flight can never miss a post that is just starting.
    bool post(const HttpUrl &url, const std::string &json_body, std::chrono::milliseconds timeout,
              std::string *error, const std::function<bool()> &should_abort = {});

    // Thread-safe: makes the post in flight (if any) fail at once.
    void cancel_in_flight();

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sdw
