// The HTTP API tests' fixture: the real Beast server on an ephemeral loopback port, the
// real job queue, a fake Generator whose steps sleep and honour cancellation.
#pragma once

#include "fake_generator.h"
#include "http_test_client.h"
#include "queue_options.h"

#include "image/base64.h"
#include "image/png.h"
#include "jobs/job_queue.h"
#include "server/http_server.h"
#include "log/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sdw::test {

using namespace std::chrono_literals;

inline std::string png_base64(int width, int height, uint8_t value = 128) {
    Image image;
    image.width = width;
    image.height = height;
    image.channels = 3;
    image.pixels.assign(static_cast<size_t>(width) * height * 3, value);
    return base64_encode(encode_png(image));
}

// Pipelines "POST <target>" with a JSON body and "GET /health" on one connection and
// returns whatever the server sent: for checks that the answers keep their order.
inline std::string post_then_health(uint16_t port, const std::string &target, const std::string &body) {
    const std::string requests = "POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +
                                 "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    return raw_exchange(port, requests, std::chrono::seconds(10));
}

struct HttpApi : ::testing::Test {
    std::shared_ptr<FakeGenerator> generator = std::make_shared<FakeGenerator>();
    std::unique_ptr<JobQueue> queue;
    ServiceState state;
    std::unique_ptr<HttpServer> server;
    uint16_t port = 0;

    static ServerOptions default_options() {
        ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.io_threads = 2;
        options.body_limit = 1u << 20;
        options.request_timeout = 5s;
        options.sse_keepalive = 5s;
        options.drain_grace = 5s;
        options.api.server_version = "test";
        return options;
    }

    void start(ServerOptions options = default_options(), JobQueueOptions queue_options = {},
               bool ready = true) {
        set_log_level(LogLevel::warn);
        queue = std::make_unique<JobQueue>(queue_options);
        queue->start({generator});
        if (ready)
            state.set_ready(generator->describe(), {generator});
        server = std::make_unique<HttpServer>(options, *queue, state);
        port = server->start();
    }

    void TearDown() override {
        generator->release();
        if (server) server->stop();
        server.reset();
        if (queue) queue->shutdown();
    }

    test::HttpResult post_job(const nlohmann::json &body, const test::Headers &headers = {}) {
        return http_request(port, "POST", "/v1/jobs", body.dump(), headers);
    }
    std::string submit(const nlohmann::json &body) {
        auto result = post_job(body);
        EXPECT_EQ(result.status, 202) << result.body << result.error;
        return result.json().value("job_id", "");
    }
    nlohmann::json status(const std::string &id) {
        return http_request(port, "GET", "/v1/jobs/" + id).json();
    }
    std::string state_of(const std::string &id) { return status(id).value("state", "?"); }
};

}  // namespace sdw::test
