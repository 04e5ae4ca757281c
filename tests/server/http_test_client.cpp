#include "http_test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>

namespace sdw::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

template <typename Fields>
std::map<std::string, std::string> header_map(const Fields &fields) {
    std::map<std::string, std::string> out;
    for (const auto &field : fields)
        out[lower(std::string(field.name_string()))] = std::string(field.value());
    return out;
}

tcp::endpoint loopback(uint16_t port) { return {net::ip::make_address("127.0.0.1"), port}; }

}  // namespace

HttpResult http_request(uint16_t port, const std::string &method, const std::string &target,
                        const std::string &body, const Headers &headers,
                        std::chrono::milliseconds timeout) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    HttpResult result;
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto &[name, value] : headers) req.set(name, value);
    if (!body.empty() || method == "POST") {
        if (req[http::field::content_type].empty()) req.set(http::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    if (method == "HEAD") parser.skip(true);  // the answer's Content-Length has no body behind it

    stream.expires_after(timeout);  // one deadline for the whole exchange
    stream.async_connect(loopback(port), [&](beast::error_code ec) {
        if (ec) {
            result.error = "connect: " + ec.message();
            return;
        }
        http::async_write(stream, req, [&](beast::error_code wec, size_t) {
            if (wec) result.error = "write: " + wec.message();
            // Read even after a failed write: the server may have answered (413) first.
            http::async_read(stream, buffer, parser, [&](beast::error_code rec, size_t) {
                if (rec) {
                    result.error += (result.error.empty() ? "" : "; ") + ("read: " + rec.message());
                    return;
                }
                auto &res = parser.get();
                result.status = static_cast<int>(res.result_int());
                result.headers = header_map(res);
                result.body = res.body();
            });
        });
    });
    ioc.run();
    return result;
}

HttpResult http_request_partial_body(uint16_t port, const std::string &target,
                                     size_t declared_length, size_t sent,
                                     std::chrono::milliseconds timeout) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    HttpResult result;
    std::string head = "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/json\r\nContent-Length: " +
                       std::to_string(declared_length) + "\r\n\r\n" + std::string(sent, ' ');
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    stream.expires_after(timeout);
    stream.async_connect(loopback(port), [&](beast::error_code ec) {
        if (ec) {
            result.error = "connect: " + ec.message();
            return;
        }
        net::async_write(stream, net::buffer(head), [&](beast::error_code wec, size_t) {
            if (wec) result.error = "write: " + wec.message();
            http::async_read(stream, buffer, parser, [&](beast::error_code rec, size_t) {
                if (rec) {
                    result.error += "read: " + rec.message();
                    return;
                }
                result.status = static_cast<int>(parser.get().result_int());
                result.headers = header_map(parser.get());
                result.body = parser.get().body();
            });
        });
    });
    ioc.run();
    return result;
}

std::string raw_exchange(uint16_t port, const std::string &bytes,
                         std::chrono::milliseconds timeout) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    std::string received;
    std::array<char, 4096> chunk{};
    std::function<void()> read_more = [&] {
        stream.async_read_some(net::buffer(chunk), [&](beast::error_code ec, size_t n) {
            received.append(chunk.data(), n);
            if (!ec) read_more();
        });
    };
    stream.expires_after(timeout);
    stream.async_connect(loopback(port), [&](beast::error_code ec) {
        if (ec) return;
        net::async_write(stream, net::buffer(bytes), [&](beast::error_code wec, size_t) {
            if (!wec) read_more();
        });
    });
    ioc.run();
    return received;
}

SseResult read_sse(uint16_t port, const std::string &target, const Headers &headers,
                   std::chrono::milliseconds timeout,
                   const std::function<bool(const SseEvent &)> &on_event) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    SseResult result;
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Accept: text/event-stream\r\n";
    for (const auto &[name, value] : headers) request += name + ": " + value + "\r\n";
    request += "\r\n";

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::uint64_t{1} << 40);
    std::array<char, 8192> chunk{};
    SseParser sse;
    bool stop = false;

    std::function<void()> read_body;
    auto consume = [&](size_t n) {
        std::string_view bytes(chunk.data(), n);
        result.raw.append(bytes);
        for (auto &event : sse.feed(bytes)) {
            result.events.push_back(event);
            if (on_event && !on_event(event)) stop = true;
        }
        result.comments = sse.comments();
    };
    read_body = [&] {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        http::async_read_some(stream, buffer, parser, [&](beast::error_code ec, size_t) {
            size_t n = chunk.size() - parser.get().body().size;
            if (n) consume(n);
            if (ec == http::error::need_buffer) ec = {};
            if (ec == http::error::end_of_stream || ec == net::error::eof ||
                (!ec && parser.is_done())) {
                result.closed_by_server = true;
                return;
            }
            if (ec) {
                result.error = "read: " + ec.message();
                return;
            }
            if (stop) return;
            read_body();
        });
    };

    stream.expires_after(timeout);
    stream.async_connect(loopback(port), [&](beast::error_code ec) {
        if (ec) {
            result.error = "connect: " + ec.message();
            return;
        }
        net::async_write(stream, net::buffer(request), [&](beast::error_code wec, size_t) {
            if (wec) {
                result.error = "write: " + wec.message();
                return;
            }
            http::async_read_header(stream, buffer, parser, [&](beast::error_code hec, size_t) {
                if (hec) {
                    result.error = "read header: " + hec.message();
                    return;
                }
                result.status = static_cast<int>(parser.get().result_int());
                result.headers = header_map(parser.get());
                if (parser.is_done()) {  // e.g. 204 with no body
                    result.closed_by_server = true;
                    return;
                }
                read_body();
            });
        });
    });
    ioc.run();
    return result;
}

}  // namespace sdw::test
