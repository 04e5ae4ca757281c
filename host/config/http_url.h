// The only URL form the worker dials out to (the orchestrator callback): http://host[:port]/path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sdw {

struct HttpUrl {
    std::string host;         // name, IPv4, or IPv6 without brackets
    uint16_t port = 80;
    std::string target = "/";  // path and query, as sent in the request line
    std::string host_header() const;  // "host:port" (brackets for IPv6), for the Host field
    bool operator==(const HttpUrl &) const = default;
};

// nullopt with the reason in *why for anything else, including https:// (the worker
// has no TLS client), user info, fragments and whitespace.
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string *why = nullptr);

}  // namespace sdw
