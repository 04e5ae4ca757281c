// The HTTP API's routes, independent of sockets: a parsed request in, a response
// (or "stream this job's events") out. The Beast sessions in http_server.cpp only
// move bytes; everything a client can observe about the API is decided here.
//
//   GET    /                              the web UI (index.html), no auth
//   GET    /ui/<file>                     its other files, no auth
//   GET    /health                        liveness, always 200, no auth
//   GET    /ready                         200 when the model is loaded and not draining, else 503, no auth
//   GET    /openapi.json                  the native API as OpenAPI 3 (docs/openapi.json, embedded), no auth
//   GET    /v1/info                       plugin, device, model, schedulers, limits, queue
//   POST   /v1/jobs                       submit -> 202 {job_id, status_url, sse_url, queue_position, seed}
//   GET    /v1/jobs?limit=N&after=<id>    recent jobs, newest first: {jobs: [status...], next: url|null}
//   GET    /v1/jobs/{id}                  state, progress, error, images, timings
//   DELETE /v1/jobs/{id}                  cancel (queued: at once; running: before its next step)
//   GET    /v1/jobs/{id}/stream           Server-Sent Events, replay after Last-Event-ID
//   GET    /v1/jobs/{id}/images/{n}.png   image/png
//   GET    /metrics                       Prometheus text format (public with metrics.public)
//   /sdapi/v1/...                          AUTOMATIC1111's API (api_handler_a1111.cpp)
//   POST   /v1/images/generations|edits   OpenAI's images API (api_handler_openai.cpp)
//   OPTIONS any                           CORS preflight (allowed origins only)
// HEAD is answered wherever GET is, with the GET's headers and no body.
//
// Errors are {"error": {"code", "message"[, "field"]}}. With API keys configured,
// every route but /health, /ready and /openapi.json needs "Authorization: Bearer <key>",
// "Authorization: Basic" with the key as the password (A1111 clients' --api-auth), or
// "X-API-Key: <key>"; the stream route also takes "?api_key=<key>" because a
// browser's EventSource cannot set headers.
#pragma once

#include "jobs/job.h"
#include "jobs/job_queue.h"
#include "server/generation_request_parser.h"
#include "server/metrics.h"
#include "server/service_state.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <map>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
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
    std::string content_type;    // Content-Type header (multipart bodies need its boundary)
    std::string host;            // Host header, for absolute URLs in responses
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
    // Set for a synchronous route (A1111, OpenAI) whose job was accepted: the session
    // reads no further request and, once the job has ended, answers with
    // finish_awaited(job) instead of this response. finish_awaited runs on an I/O
    // thread and must not block.
    JobPtr await_job;
    std::function<ApiResponse(const JobPtr &)> finish_awaited;
};

struct ApiOptions {
    ApiLimits limits;
    std::vector<std::string> api_keys;  // empty: no authentication
    size_t body_limit = 32u << 20;      // reported by /v1/info
    std::string server_version;
    // CORS: origins whose pages may call the API ("*": any); empty: same-origin only.
    std::vector<std::string> cors_origins;
    // Host names (no port; matched without case) the Host header may carry; empty: any.
    // A server bound to a loopback address lists the loopback names (and what the
    // config adds), so a DNS-rebinding page cannot reach it under a name of its own.
    std::vector<std::string> allowed_hosts;
    // Event streams: at most this many open at once, and per job (429 too_many_streams).
    size_t max_streams = 1024;
    size_t max_streams_per_job = 64;
    std::shared_ptr<Metrics> metrics;  // nullptr: no /metrics
    bool metrics_public = false;       // /metrics without an API key
};

class ApiHandler {
public:
    ApiHandler(ApiOptions options, JobQueue &queue, ServiceState &state);
    // Routes the request, then adds the CORS headers its Origin is allowed, and counts it
    // in the metrics by route template.
    ApiResponse handle(const ApiRequest &request);

    // Event streams open now, in all and per job: each SSE session counts itself in
    // and out; stream() refuses new ones beyond ApiOptions::max_streams(_per_job).
    void stream_opened(const std::string &job_id);
    void stream_closed(const std::string &job_id);
    size_t open_streams() const;

    // Responses for refusals made before a request reaches handle().
    static ApiResponse error_response(int status, const std::string &code,
                                      const std::string &message);
    // The names a loopback-bound server answers to: localhost, 127.0.0.1, [::1].
    static std::vector<std::string> loopback_host_names();
    // True for a JSON media type ("application/json", any case, parameters allowed):
    // JSON routes answer anything else with 415, so that a page's plain form or
    // text/plain post (which needs no CORS preflight) cannot queue a job.
    static bool is_json_content_type(std::string_view content_type);

private:
    // Why a job was not admitted: the status, code and message every route family
    // renders in its own error format.
    struct Refusal {
        int status;
        std::string code;
        std::string message;
        std::vector<std::pair<std::string, std::string>> headers;  // Retry-After
    };
    std::variant<ModelDescription, Refusal> model_for_submit() const;
    std::variant<SubmitResult, Refusal> enqueue(GenerationRequest generation);
    static ApiResponse refusal_response(const Refusal &refusal);
    // The same refusal in the A1111 and OpenAI error formats, Retry-After kept.
    static ApiResponse a1111_refusal(const Refusal &refusal);
    static ApiResponse openai_refusal(const Refusal &refusal);

    ApiResponse route(const ApiRequest &request, std::string &route_label);
    // Cross-site refusals made before routing: a Host not allowed (403 host_not_allowed),
    // a state-changing request from a page whose Origin is neither this server's nor
    // allowed by CORS (403 origin_not_allowed).
    std::optional<ApiResponse> refuse_cross_site(const ApiRequest &request) const;
    ApiResponse metrics();
    void add_cors_headers(const ApiRequest &request, ApiResponse &response) const;
    bool origin_allowed(const std::string &origin) const;
    bool authorized(const ApiRequest &request, bool allow_query_key,
                    const std::string &query) const;
    ApiResponse submit(const ApiRequest &request);
    ApiResponse job_status(const JobPtr &job);
    nlohmann::json job_json(const JobPtr &job) const;  // GET /v1/jobs/{id}'s body
    ApiResponse list_jobs(const std::string &query);
    ApiResponse cancel(const std::string &id);
    ApiResponse stream(const JobPtr &job, const ApiRequest &request, const std::string &query);
    ApiResponse image(const JobPtr &job, const std::string &file);
    ApiResponse info();
    ApiResponse web_asset(std::string_view name);

    // AUTOMATIC1111-compatible routes (api_handler_a1111.cpp), /sdapi/v1/...
    ApiResponse a1111_route(const ApiRequest &request, std::string_view path);
    ApiResponse a1111_generate(const ApiRequest &request, bool img2img);
    ApiResponse a1111_progress();
    // OpenAI images routes (api_handler_openai.cpp), /v1/images/...
    ApiResponse openai_route(const ApiRequest &request, std::string_view path);
    static ApiResponse openai_error(int status, const std::string &message, const std::string &param,
                                    const std::string &type, const std::string &code);
    static ApiResponse openai_unauthorized(const ApiRequest &request);
    uint64_t random_seed();

    ApiOptions options_;
    JobQueue &queue_;
    ServiceState &state_;
    mutable std::mutex streams_mutex_;
    size_t open_streams_ = 0;
    std::map<std::string, size_t> streams_per_job_;
    std::mutex seed_mutex_;
    std::mt19937_64 seed_rng_;
};

}  // namespace sdw
