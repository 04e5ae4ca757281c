#include "config/http_url.h"

#include <cctype>
#include <charconv>

namespace sdw {
namespace {

bool fail(std::string *why, std::string text) {
    if (why) *why = std::move(text);
    return false;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    return true;
}

bool parse_into(std::string_view url, HttpUrl &out, std::string *why) {
    for (const char c : url)
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            return fail(why, "URL contains whitespace or control characters");
    if (iequals_prefix(url, "https://"))
        return fail(why, "https is not supported (the worker has no TLS client): use an http:// URL, "
                         "e.g. through a local TLS-terminating proxy");
    if (!iequals_prefix(url, "http://")) return fail(why, "expected an http://host[:port]/path URL");
    std::string_view rest = url.substr(7);
    if (rest.find('#') != std::string_view::npos) return fail(why, "URL must not contain a fragment ('#')");

    const size_t path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    if (path_start != std::string_view::npos) {
        // Appended, not insert(0, "/") or "/" + ...: GCC 12 warns a false -Wrestrict on those at -O2.
        const std::string_view target = rest.substr(path_start);
        out.target.clear();
        if (target.front() == '?') out.target.push_back('/');
        out.target.append(target);
    }
    if (authority.find('@') != std::string_view::npos) return fail(why, "URL must not contain user info ('@')");

    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) return fail(why, "unterminated IPv6 address in URL");
        out.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return fail(why, "unexpected characters after the IPv6 address");
            port_text = after.substr(1);
            if (port_text.empty()) return fail(why, "empty port in URL");
        }
        for (const char c : out.host)
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
                return fail(why, "invalid IPv6 address in URL");
    } else {
        const size_t colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return fail(why, "empty port in URL");
        }
        for (const char c : out.host)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
                return fail(why, "invalid host name in URL");
    }
    if (out.host.empty()) return fail(why, "URL has no host");
    if (!port_text.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
            return fail(why, "invalid port in URL (expected 1..65535)");
        out.port = static_cast<uint16_t>(value);
    }
    return true;
}

}  // namespace

std::string HttpUrl::host_header() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string *why) {
    HttpUrl out;
    if (!parse_into(url, out, why)) return std::nullopt;
    return out;
}

}  // namespace sdw
