// Raw bytes off a connection: Beast's request parser with the server's limits, then the
// request as http_server.cpp hands it to ApiHandler::handle (the same header fields), on
// the real job queue with a generator that fails at once (no plugin). Two handlers see each
// request: one open, one with an API key, CORS origins, allowed hosts and public metrics, so
// that both sides of authentication are reachable. An exception out of handle() would be a
// 500 for a client's request (the session catches it), so here it is a crash.
#include "fuzz_model.h"
#include "jobs/job_queue.h"
#include "log/log.h"
#include "server/api_handler.h"
#include "server/api_request_from_http.h"
#include "server/metrics.h"
#include "server/service_state.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace http = boost::beast::http;

namespace {

constexpr size_t kBodyLimit = 1u << 20;
constexpr uint32_t kHeaderLimit = 16 * 1024;  // http_server.cpp's kHeaderLimit

class FailingGenerator : public sdw::Generator {
public:
    sdw::ModelDescription describe() const override { return sdw::fuzz::fuzz_model(); }
    sdw::GenerationResult generate(const sdw::GenerationRequest &, const sdw::GenerationCallbacks &) override {
        throw std::runtime_error("fuzz generator: no model");
    }
};

struct Server {
    std::shared_ptr<FailingGenerator> generator = std::make_shared<FailingGenerator>();
    std::shared_ptr<sdw::Metrics> metrics = std::make_shared<sdw::Metrics>();
    std::unique_ptr<sdw::JobQueue> queue;
    sdw::ServiceState state;
    std::unique_ptr<sdw::ApiHandler> open;
    std::unique_ptr<sdw::ApiHandler> guarded;

    Server() {
        sdw::set_log_level(sdw::LogLevel::error);
        sdw::JobQueueOptions queue_options;
        queue_options.capacity = 4;
        queue_options.max_retained = 16;
        queue_options.metrics = metrics;
        queue = std::make_unique<sdw::JobQueue>(queue_options);
        queue->start({generator});
        state.set_ready(generator->describe(), {generator});

        sdw::ApiOptions options;
        options.body_limit = kBodyLimit;
        options.server_version = "fuzz";
        options.limits.max_size = 256;
        options.limits.max_pixel_steps = int64_t{256} * 256 * 2 * 10;
        options.metrics = metrics;
        open = std::make_unique<sdw::ApiHandler>(options, *queue, state);
        options.api_keys = {"fuzz-key"};
        options.cors_origins = {"http://ui.example"};
        options.allowed_hosts = sdw::ApiHandler::loopback_host_names();
        options.metrics_public = true;
        guarded = std::make_unique<sdw::ApiHandler>(options, *queue, state);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // Never destroyed: the queue's worker thread outlives every input.
    static Server *server = new Server;

    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;

    auto &req = parser.get();
sdw::ApiRequest api = sdw::api_request_from_http(req);

    for (sdw::ApiHandler *handler : {server->open.get(), server->guarded.get()}) {
        const sdw::ApiResponse response = handler->handle(api);
        if (response.status < 100 || response.status > 599) std::abort();
    }
    return 0;
}
