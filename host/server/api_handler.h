// The HTTP API's routes, independent of sockets: a parsed request in, a response
// (or "stream this job's events") out. The Beast sessions in http_server.cpp only
// move bytes; everything a client can observe about the API is decided here.
//
//   GET    /                              the web UI (index.html), no auth
//   GET    /ui/<file>                     its other files, no auth
//   GET    /health                        liveness, always 200, no auth
//   GET    /ready                         200 when the model is loaded and not draining, else 503, no auth
//   GET    /v1/info                       plugin, device, model, schedulers, limits, queue
//   POST   /v1/jobs                       submit -> 202 {job_id, status_url, sse_url, queue_position, seed}
//   GET    /v1/jobs/{id}                  state, progress, error, images, timings
//   DELETE /v1/jobs/{id}                  cancel (queued: at once; running: before its next step)
//   GET    /v1/jobs/{id}/stream           Server-Sent Events, replay after Last-Event-ID
//   GET    /v1/jobs/{id}/images/{n}.png   image/png
//   GET    /metrics                       Prometheus text format (public with metrics.public)
//   OPTIONS any                           CORS preflight (allowed origins only)
// HEAD is answered wherever GET is, with the GET's headers and no body.
//
// Errors are {"error": {"code", "message"[, "field"]}}. With API keys configured,
// every route but /health and /ready needs "Authorization: Bearer <key>" or
// "X-API-Key: <key>"; the stream route also takes "?api_key=<key>" because a
// browser's EventSource cannot set headers.
#pragma once

#include "jobs/job.h"
#include "jobs/job_queue.h"
#include "server/generation_request_parser.h"
#include "server/metrics.h"
#include "server/service_state.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace sdw {

struct ApiRequest {
    std::string method;          // "GET", "POST", ...
    std::string target;          // path and query, e.g. "/v1/jobs/abc/stream?last_event_id=3"
    std::string authorization;   // Authorization header
    std::string api_key;         // X-API-Key header
    std::string last_event_id;   // Last-Event-ID header
    std::string origin;          // Origin header (CORS)
    std::string access_control_request_method;  // a CORS preflight's
    std::string body;
};

struct ApiResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool head_only = false;  // a HEAD request: send the headers (Content-Length included), no body
    // Set for a stream request that was accepted: the session sends the event-stream
    // header and then this job's events with ids greater than stream_after_id.
    JobPtr stream_job;
    uint64_t stream_after_id = 0;
};

struct ApiOptions {
    ApiLimits limits;
    std::vector<std::string> api_keys;  // empty: no authentication
    size_t body_limit = 32u << 20;      // reported by /v1/info
    std::string server_version;
    // CORS: origins whose pages may call the API ("*": any); empty: same-origin only.
    std::vector<std::string> cors_origins;
    std::shared_ptr<Metrics> metrics;  // nullptr: no /metrics
    bool metrics_public = false;       // /metrics without an API key
};

class ApiHandler {
public:
    ApiHandler(ApiOptions options, JobQueue &queue, ServiceState &state);
    // Routes the request, then adds the CORS headers its Origin is allowed, and counts it
    // in the metrics by route template.
    ApiResponse handle(const ApiRequest &request);

    // Responses for refusals made before a request reaches handle().
    static ApiResponse error_response(int status, const std::string &code,
                                      const std::string &message);

private:
    ApiResponse route(const ApiRequest &request, std::string &route_label);
    ApiResponse metrics();
    void add_cors_headers(const ApiRequest &request, ApiResponse &response) const;
    bool origin_allowed(const std::string &origin) const;
    bool authorized(const ApiRequest &request, bool allow_query_key,
                    const std::string &query) const;
    ApiResponse submit(const ApiRequest &request);
    ApiResponse job_status(const JobPtr &job);
    ApiResponse cancel(const std::string &id);
    ApiResponse stream(const JobPtr &job, const ApiRequest &request, const std::string &query);
    ApiResponse image(const JobPtr &job, const std::string &file);
    ApiResponse info();
    ApiResponse web_asset(std::string_view name);
    uint64_t random_seed();

    ApiOptions options_;
    JobQueue &queue_;
    ServiceState &state_;
    std::mutex seed_mutex_;
    std::mt19937_64 seed_rng_;
};

}  // namespace sdw
