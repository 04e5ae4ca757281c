// A small blocking HTTP/1.1 client for the tests (Boost.Beast), loopback only, with
// a deadline on every exchange so a broken server fails a test instead of hanging it.
#pragma once

#include "sse_parser.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sdw::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
    int status = 0;                              // 0: no response (connection or timeout error)
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string error;                           // transport error, if any

    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string header(const std::string &lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? "" : it->second;
    }
};

HttpResult http_request(uint16_t port, const std::string &method, const std::string &target,
                        const std::string &body = "", const Headers &headers = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Sends a request whose Content-Length announces `declared_length` bytes but sends
// only `sent` of them, then reads the answer (for body-limit tests).
HttpResult http_request_partial_body(uint16_t port, const std::string &target,
                                     size_t declared_length, size_t sent,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Writes `bytes` as they are and returns everything the server sends until it closes
// the connection or `timeout` passes.
std::string raw_exchange(uint16_t port, const std::string &bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

struct SseResult {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::vector<SseEvent> events;
    size_t comments = 0;
    bool closed_by_server = false;  // the server ended the stream (EOF)
    std::string error;
    std::string raw;                // every byte of the body
};

// Opens an event stream and reads it until the server closes it, `on_event` returns
// false, or `timeout` passes. Non-200 answers come back with their body in raw.
SseResult read_sse(uint16_t port, const std::string &target, const Headers &headers = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(10),
                   const std::function<bool(const SseEvent &)> &on_event = {});

}  // namespace sdw::test
