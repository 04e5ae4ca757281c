#include "server/api_handler.h"

#include "image/base64.h"
#include "server/openapi_document.h"
#include "web/web_assets.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace sdw {

using json = nlohmann::json;

namespace {

constexpr const char *kPluginAbi = "1";

// {"weights_bytes", "plans_bytes", "cache_bytes"}, or null when not reported.
json memory_json(const std::optional<BackendMemory> &memory) {
    if (!memory) return nullptr;
    return {{"weights_bytes", memory->weights_bytes},
            {"plans_bytes", memory->plans_bytes},
            {"cache_bytes", memory->cache_bytes}};
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t start = 1;  // skip the leading '/'
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// The value of `name` in a query string (no percent-decoding: our values are ids and
// keys from a safe alphabet).
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

// Decimal digits in canonical form: "0", or no leading zero ("00.png" is no image).
std::optional<uint64_t> parse_u64(std::string_view text) {
    if (text.size() > 1 && text.front() == '0') return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

// Locale-free ASCII lowering; std::tolower is undefined for the negative chars that
// header bytes >= 0x80 become.
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Compares without an early exit so response timing does not reveal a key's prefix.
bool constant_time_equal(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

json iso_time(std::chrono::system_clock::time_point t) {
    std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch())
                      .count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
    return text;
}

json optional_time(const std::optional<std::chrono::system_clock::time_point> &t) {
    return t ? iso_time(*t) : json(nullptr);
}

ApiResponse json_response(int status, const json &body) {
    ApiResponse response;
    response.status = status;
    // A refusal may quote request bytes that are not UTF-8 (a Host header): replaced by
    // U+FFFD rather than letting dump() throw, which would turn the 4xx into a 500.
    response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return response;
}

ApiResponse invalid_field(const std::string &field, const std::string &message) {
    json error{{"code", "invalid_field"}, {"message", message}};
    error["field"] = field.empty() ? json(nullptr) : json(field);
    return json_response(400, json{{"error", error}});
}

ApiResponse method_not_allowed(const char *allow) {
    ApiResponse response = ApiHandler::error_response(405, "method_not_allowed",
                                                      std::string("allowed: ") + allow);
    response.headers.emplace_back("Allow", allow);
    return response;
}

ApiResponse not_found(const std::string &what) {
    return ApiHandler::error_response(404, "not_found", what);
}

std::string job_path(const std::string &id) { return "/v1/jobs/" + id; }

}  // namespace

ApiHandler::ApiHandler(ApiOptions options, JobQueue &queue, ServiceState &state)
    : options_(std::move(options)), queue_(queue), state_(state),
      seed_rng_(std::random_device{}()) {}

ApiResponse ApiHandler::error_response(int status, const std::string &code,
                                       const std::string &message) {
    return json_response(status, json{{"error", {{"code", code}, {"message", message}}}});
}

uint64_t ApiHandler::random_seed() {
    std::lock_guard lock(seed_mutex_);
    return seed_rng_();
}

bool ApiHandler::authorized(const ApiRequest &request, bool allow_query_key,
                            const std::string &query) const {
    if (options_.api_keys.empty()) return true;
    std::vector<std::string> offered;
    constexpr std::string_view bearer = "Bearer ";
    if (request.authorization.size() > bearer.size() &&
        std::equal(bearer.begin(), bearer.end(), request.authorization.begin(),
                   [](char a, char b) { return ascii_lower(a) == ascii_lower(b); }))
        offered.push_back(request.authorization.substr(bearer.size()));
    // HTTP Basic with the key as the password (the user name is not checked): what
    // A1111 clients send for their --api-auth.
    constexpr std::string_view basic = "Basic ";
    if (request.authorization.size() > basic.size() &&
        std::equal(basic.begin(), basic.end(), request.authorization.begin(),
                   [](char a, char b) { return ascii_lower(a) == ascii_lower(b); }))
        if (auto decoded = base64_decode(std::string_view(request.authorization).substr(basic.size()))) {
            std::string credentials(decoded->begin(), decoded->end());
            size_t colon = credentials.find(':');
            if (colon != std::string::npos) offered.push_back(credentials.substr(colon + 1));
        }
    if (!request.api_key.empty()) offered.push_back(request.api_key);
    if (allow_query_key)
        if (auto key = query_value(query, "api_key")) offered.push_back(*key);
    bool ok = false;
    for (const auto &candidate : offered)
        for (const auto &key : options_.api_keys) ok |= constant_time_equal(candidate, key);
    return ok;
}

std::vector<std::string> ApiHandler::loopback_host_names() { return {"localhost", "127.0.0.1", "[::1]"}; }

bool ApiHandler::is_json_content_type(std::string_view content_type) {
    std::string_view media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
    constexpr std::string_view json_type = "application/json";
    return media.size() == json_type.size() &&
           std::equal(media.begin(), media.end(), json_type.begin(),
                      [](char a, char b) { return ascii_lower(a) == b; });
}

std::optional<ApiResponse> ApiHandler::refuse_cross_site(const ApiRequest &request) const {
    // The Host without its port: "[::1]:8080" -> "[::1]", "Example.COM:80" -> "example.com".
    std::string host = request.host;
    size_t port_colon = host.rfind(':');
    if (port_colon != std::string::npos && host.find(']', port_colon) == std::string::npos &&
        (host.front() == '[' || host.find(':') == port_colon))
        host.resize(port_colon);
    std::transform(host.begin(), host.end(), host.begin(), ascii_lower);
    // A request without Host (HTTP/1.0 tools) is no browser's: only names can be rebound.
    if (!options_.allowed_hosts.empty() && !host.empty() &&
        std::none_of(options_.allowed_hosts.begin(), options_.allowed_hosts.end(), [&](const std::string &allowed) {
            return std::equal(allowed.begin(), allowed.end(), host.begin(), host.end(),
                              [](char a, char b) { return ascii_lower(a) == b; });
        }))
        return error_response(403, "host_not_allowed",
                              "Host '" + request.host + "' is not one this server answers to (http.allowed_hosts)");

    const bool changes_state = request.method == "POST" || request.method == "DELETE" ||
                               request.method == "PUT" || request.method == "PATCH";
    // Browsers send Origin with every cross-origin request and with same-origin POSTs;
    // a page's request that needs no preflight (a form, text/plain) still reaches us,
    // so it is refused here unless the page is ours or allowed.
    const bool same_origin = request.origin == "http://" + request.host || request.origin == "https://" + request.host;
    if (changes_state && !request.origin.empty() && !origin_allowed(request.origin) && !same_origin)
        return error_response(403, "origin_not_allowed",
                              "requests from pages of origin '" + request.origin +
                                  "' are not allowed (http.cors_origins)");
    return std::nullopt;
}

ApiResponse ApiHandler::handle(const ApiRequest &request) {
    std::string route_label = "other";
    ApiResponse response;
    if (auto refused = refuse_cross_site(request)) {
        response = std::move(*refused);
    } else if (request.method == "OPTIONS") {
        route_label = "OPTIONS";
        if (!request.access_control_request_method.empty() && !origin_allowed(request.origin)) {
            response = error_response(403, "origin_not_allowed",
                                      "origin '" + request.origin + "' is not in http.cors_origins");
        } else {
            response.status = 204;
            response.content_type.clear();
            response.headers.emplace_back("Allow", "GET, HEAD, POST, DELETE, OPTIONS");
        }
    } else if (request.method == "HEAD") {
        ApiRequest as_get = request;
        as_get.method = "GET";
        response = route(as_get, route_label);
        response.head_only = true;
        if (response.stream_job) {  // the stream's headers, no stream
            response.stream_job = nullptr;
            response.content_type = "text/event-stream; charset=utf-8";
        }
    } else {
        response = route(request, route_label);
    }
    if (response.await_job) {
        // A synchronous route: CORS and the count apply to the answer given at the job's end.
        ApiRequest cors_request;
        cors_request.method = request.method;
        cors_request.origin = request.origin;
        response.finish_awaited = [this, cors_request, route_label,
                                   finish = std::move(response.finish_awaited)](const JobPtr &job) {
            ApiResponse answer = finish(job);
            add_cors_headers(cors_request, answer);
            if (options_.metrics) options_.metrics->count_request(route_label, answer.status);
            return answer;
        };
        return response;
    }
    add_cors_headers(request, response);
    if (options_.metrics)
        options_.metrics->count_request(route_label, response.stream_job ? 200 : response.status);
    return response;
}

bool ApiHandler::origin_allowed(const std::string &origin) const {
    if (origin.empty()) return false;
    for (const auto &allowed : options_.cors_origins)
        if (allowed == "*" || allowed == origin) return true;
    return false;
}

void ApiHandler::add_cors_headers(const ApiRequest &request, ApiResponse &response) const {
    if (options_.cors_origins.empty()) return;
    response.headers.emplace_back("Vary", "Origin");
    if (!origin_allowed(request.origin)) return;
    response.headers.emplace_back("Access-Control-Allow-Origin", request.origin);
    if (request.method == "OPTIONS") {
        response.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, OPTIONS");
        response.headers.emplace_back("Access-Control-Allow-Headers",
                                      "Authorization, Content-Type, X-API-Key, Last-Event-ID");
        response.headers.emplace_back("Access-Control-Max-Age", "600");
    } else {
        response.headers.emplace_back("Access-Control-Expose-Headers", "Location, Retry-After");
    }
}

ApiResponse ApiHandler::metrics() {
    QueueStats stats = queue_.stats();
    Metrics::Gauges gauges;
    gauges.queue_depth = stats.queued;
    gauges.jobs_running = stats.running;
    if (auto model = state_.model()) gauges.plugin_memory = model->backend.memory;
    ApiResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = options_.metrics->render(gauges);
    return response;
}

ApiResponse ApiHandler::route(const ApiRequest &request, std::string &route_label) {
    std::string_view target = request.target;
    size_t question = target.find('?');
    std::string_view path = target.substr(0, question);
    std::string query(question == std::string_view::npos ? "" : target.substr(question + 1));
    const std::string &method = request.method;
    bool get = method == "GET";
    route_label = "other";

    if (path == "/health" || path == "/ready" || path == "/" || path == "/v1/info" ||
        path == "/metrics" || path == "/v1/jobs" || path == "/openapi.json")
        route_label = std::string(path);
    else if (path.starts_with("/ui/"))
        route_label = "/ui/{file}";
    if (path == "/metrics" && options_.metrics && options_.metrics_public) {
        if (!get) return method_not_allowed("GET, HEAD");
        return metrics();
    }
    if (path == "/health") {
        if (!get) return method_not_allowed("GET, HEAD");
        return json_response(200, json{{"status", "ok"}});
    }
    if (path == "/ready") {
        if (!get) return method_not_allowed("GET, HEAD");
        ServicePhase phase = state_.phase();
        json body{{"status", to_string(phase)}};
        if (phase == ServicePhase::failed) body["error"] = state_.failure();
        return json_response(phase == ServicePhase::ready ? 200 : 503, body);
    }

    // The API's description (docs/openapi.json): public like /health, it holds no secret.
    if (path == "/openapi.json") {
        if (!get) return method_not_allowed("GET, HEAD");
        ApiResponse response;
        response.body = std::string(openapi_document());
        return response;
    }

    // The web UI: public like /health (the page asks for the API key itself).
    if (path == "/" || path.starts_with("/ui/")) {
        if (!get) return method_not_allowed("GET, HEAD");
        return web_asset(path == "/" ? std::string_view("index.html") : path.substr(4));
    }

    auto parts = split_path(path);
    bool is_stream = parts.size() == 4 && parts[0] == "v1" && parts[1] == "jobs" &&
                     parts[3] == "stream";
    bool openai = path.starts_with("/v1/images/");
    bool a1111 = path.starts_with("/sdapi/");
    // Labels only for the routes that exist: a client's made-up paths must not grow the
    // metrics without bound.
    static constexpr std::string_view kCompatRoutes[] = {
        "/v1/images/generations", "/v1/images/edits",   "/sdapi/v1/txt2img",
        "/sdapi/v1/img2img",      "/sdapi/v1/progress", "/sdapi/v1/interrupt",
        "/sdapi/v1/skip",         "/sdapi/v1/samplers", "/sdapi/v1/schedulers",
        "/sdapi/v1/sd-models",    "/sdapi/v1/options",  "/sdapi/v1/scripts"};
    if (std::find(std::begin(kCompatRoutes), std::end(kCompatRoutes), path) != std::end(kCompatRoutes))
        route_label = std::string(path);
    // Labelled before the key is checked, so that refused requests count under their route.
    if (parts.size() >= 3 && parts[0] == "v1" && parts[1] == "jobs") {
        route_label = parts.size() == 3   ? "/v1/jobs/{id}"
                      : parts.size() == 4 ? "/v1/jobs/{id}/" + std::string(parts[3] == "stream" ? "stream" : "{other}")
                                          : "/v1/jobs/{id}/images/{n}";
    }
    if (!authorized(request, is_stream, query)) {
        ApiResponse response =
            openai ? openai_unauthorized(request)
                   : error_response(401, "unauthorized", "a valid API key is required");
        response.headers.emplace_back("WWW-Authenticate", a1111 ? "Basic realm=\"sd-worker\"" : "Bearer");
        return response;
    }
    if (openai) return openai_route(request, path);
    if (a1111) return a1111_route(request, path);

    if (path == "/metrics" && options_.metrics) {
        if (!get) return method_not_allowed("GET, HEAD");
        return metrics();
    }
    if (parts.size() == 2 && parts[0] == "v1" && parts[1] == "info") {
        if (!get) return method_not_allowed("GET, HEAD");
        return info();
    }
    if (parts.size() < 2 || parts[0] != "v1" || parts[1] != "jobs")
        return not_found("no such path");
    if (parts.size() == 2) {
        if (method == "GET") return list_jobs(query);
        if (method != "POST") return method_not_allowed("GET, HEAD, POST");
        return submit(request);
    }
    std::string id(parts[2]);
    JobPtr job = id.empty() ? nullptr : queue_.find(id);
    if (parts.size() == 3) {
        if (method != "GET" && method != "DELETE") return method_not_allowed("GET, HEAD, DELETE");
        if (!job) return not_found("no such job");
        return method == "GET" ? job_status(job) : cancel(id);
    }
    if (parts.size() == 4 && parts[3] == "stream") {
        if (!get) return method_not_allowed("GET, HEAD");
        if (!job) return not_found("no such job");
        return stream(job, request, query);
    }
    if (parts.size() == 5 && parts[3] == "images") {
        if (!get) return method_not_allowed("GET, HEAD");
        if (!job) return not_found("no such job");
        return image(job, std::string(parts[4]));
    }
    return not_found("no such path");
}

ApiResponse ApiHandler::web_asset(std::string_view name) {
    const WebAsset *asset = find_web_asset(name);
    if (!asset) return not_found("no such file");
    ApiResponse response;
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->body);
    // The assets change only with the binary; a reload revalidates them.
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return response;
}

std::variant<ModelDescription, ApiHandler::Refusal> ApiHandler::model_for_submit() const {
    ServicePhase phase = state_.phase();
    if (phase == ServicePhase::draining) return Refusal{503, "draining", "the worker is shutting down", {}};
    auto model = state_.model();
    if (phase != ServicePhase::ready || !model)
        return Refusal{503, "not_ready", "the model is not loaded yet", {}};
    return *model;
}

std::variant<SubmitResult, ApiHandler::Refusal> ApiHandler::enqueue(GenerationRequest generation) {
    SubmitResult result = queue_.submit(std::move(generation));
    switch (result.error) {
    case SubmitError::none: return result;
    case SubmitError::queue_full:
        return Refusal{429, "queue_full", "the job queue is full",
                       {{"Retry-After", std::to_string(queue_.retry_after().count())}}};
    case SubmitError::draining: return Refusal{503, "draining", "the worker is shutting down", {}};
    case SubmitError::not_ready: break;
    }
    return Refusal{503, "not_ready", "the model is not loaded yet", {}};
}

ApiResponse ApiHandler::refusal_response(const Refusal &refusal) {
    ApiResponse response = error_response(refusal.status, refusal.code, refusal.message);
    response.headers.insert(response.headers.end(), refusal.headers.begin(), refusal.headers.end());
    return response;
}

ApiResponse ApiHandler::submit(const ApiRequest &request) {
    if (!is_json_content_type(request.content_type))
        return error_response(415, "unsupported_media_type",
                              "the body must be JSON, sent as Content-Type: application/json");
    auto model = model_for_submit();
    if (auto *refusal = std::get_if<Refusal>(&model)) return refusal_response(*refusal);
    ParsedGeneration parsed = parse_generation_request(request.body, std::get<ModelDescription>(model),
                                                       options_.limits, [this] { return random_seed(); });
    if (auto *error = std::get_if<FieldError>(&parsed)) return invalid_field(error->field, error->message);
    auto &generation = std::get<GenerationRequest>(parsed);
    uint64_t seed = generation.seed;

    auto admitted = enqueue(std::move(generation));
    if (auto *refusal = std::get_if<Refusal>(&admitted)) return refusal_response(*refusal);
    const SubmitResult &result = std::get<SubmitResult>(admitted);
    const std::string &id = result.job->id();
    ApiResponse response = json_response(202, json{{"job_id", id},
                                                   {"status_url", job_path(id)},
                                                   {"sse_url", job_path(id) + "/stream"},
                                                   {"queue_position", result.queue_position},
                                                   {"seed", seed}});
    response.headers.emplace_back("Location", job_path(id));
    return response;
}

ApiResponse ApiHandler::list_jobs(const std::string &query) {
    constexpr uint64_t kDefaultLimit = 20, kMaxLimit = 100;
    uint64_t limit = kDefaultLimit;
    if (auto given = query_value(query, "limit")) {
        auto parsed = parse_u64(*given);
        if (!parsed || *parsed < 1 || *parsed > kMaxLimit)
            return invalid_field("limit", "limit must be an integer from 1 to " + std::to_string(kMaxLimit));
        limit = *parsed;
    }
    std::vector<JobPtr> jobs = queue_.recent_jobs();
    auto first = jobs.begin();
    if (auto after = query_value(query, "after"); after && !after->empty()) {
        first = std::find_if(jobs.begin(), jobs.end(), [&](const JobPtr &job) { return job->id() == *after; });
        if (first == jobs.end())
            return invalid_field("after", "no job '" + *after + "' (finished jobs are evicted after a while)");
        ++first;
    }
    json page = json::array();
    auto it = first;
    for (; it != jobs.end() && page.size() < limit; ++it) page.push_back(job_json(*it));
    json body{{"jobs", std::move(page)}};
    body["next"] = it == jobs.end() || it == first
                       ? json(nullptr)
                       : json("/v1/jobs?limit=" + std::to_string(limit) + "&after=" + (*std::prev(it))->id());
    return json_response(200, body);
}

ApiResponse ApiHandler::job_status(const JobPtr &job) { return json_response(200, job_json(job)); }

nlohmann::json ApiHandler::job_json(const JobPtr &job) const {
    JobSnapshot s = job->snapshot();
    json body{{"job_id", job->id()},
              {"state", to_string(s.state)},
              {"operation", to_string(job->operation())},
              {"seed", job->seed()},
              {"step", s.step},
              {"total", s.total ? s.total : job->requested_steps()},
              {"cancel_requested", s.cancel_requested},
              {"created_at", iso_time(s.created_at)},
              {"started_at", optional_time(s.started_at)},
              {"finished_at", optional_time(s.finished_at)},
              {"status_url", job_path(job->id())},
              {"sse_url", job_path(job->id()) + "/stream"}};
    auto position = s.state == JobState::queued ? queue_.queue_position(job->id()) : std::nullopt;
    body["queue_position"] = position ? json(*position) : json(nullptr);
    if (s.error) {
        json error{{"code", s.error->code}, {"message", s.error->message}};
        if (!s.error->field.empty()) error["field"] = s.error->field;
        body["error"] = error;
    } else {
        body["error"] = nullptr;
    }
    if (s.state == JobState::cancelled || s.cancel_requested) body["cancel_reason"] = s.cancel_reason;
    json images = json::array();
    for (size_t i = 0; i < s.images.size(); ++i)
        images.push_back({{"index", i},
                          {"url", job_image_url(job->id(), i)},
                          {"seed", s.images[i].seed},
                          {"width", s.images[i].width},
                          {"height", s.images[i].height}});
    body["images"] = images;
    body["timings_ms"] = s.timings_ms;
    return body;
}

ApiResponse ApiHandler::cancel(const std::string &id) {
    switch (queue_.cancel(id, "cancelled by the client")) {
    case CancelOutcome::cancelled:
    case CancelOutcome::cancelling: {
        JobPtr job = queue_.find(id);
        if (job) return job_status(job);
        return error_response(404, "not_found", "no such job");
    }
    case CancelOutcome::already_finished: {
        JobPtr job = queue_.find(id);
        std::string state = job ? std::string(to_string(job->state())) : "finished";
        return error_response(409, "already_finished", "the job is already " + state);
    }
    case CancelOutcome::not_found: break;
    }
    return not_found("no such job");
}

ApiResponse ApiHandler::stream(const JobPtr &job, const ApiRequest &request,
                               const std::string &query) {
    // ?last_event_id=, then the Last-Event-ID header (what a reconnecting EventSource
    // sends), which counts when both are given; each one given must be an event id.
    uint64_t after = 0;
    for (const std::optional<std::string> &given :
         {query_value(query, "last_event_id"), std::optional<std::string>(request.last_event_id)}) {
        if (!given || given->empty()) continue;
        auto parsed = parse_u64(*given);
        if (!parsed) return invalid_field("last_event_id", "Last-Event-ID must be an event id");
        after = *parsed;
    }
    // An id beyond the log (a client's stale or forged id) counts as "from the end": the
    // stream goes on with the next event, so it still ends with the terminal one.
    after = std::min(after, job->events().last_id());
    // A client that has seen the terminal event (an EventSource reconnecting after the
    // server closed the stream) is told to stop: 204 ends EventSource's reconnection.
    if (job->events().closed() && after >= job->events().last_id()) {
        ApiResponse response;
        response.status = 204;
        response.content_type.clear();
        return response;
    }
    // Each stream holds a connection and, while it writes, its batch of events: bounded
    // per job and in all (the counts may run over by the streams being opened right now).
    size_t streams = 0, on_job = 0;
    {
        std::lock_guard lock(streams_mutex_);
        streams = open_streams_;
        auto it = streams_per_job_.find(job->id());
        on_job = it == streams_per_job_.end() ? 0 : it->second;
    }
    if (streams >= options_.max_streams || on_job >= options_.max_streams_per_job) {
        ApiResponse refused = error_response(
            429, "too_many_streams",
            streams >= options_.max_streams
                ? std::to_string(streams) + " event streams are open, the most this server keeps"
                : "this job has " + std::to_string(on_job) + " event streams open, the most one job may have");
        refused.headers.emplace_back("Retry-After", "5");
        return refused;
    }
    ApiResponse response;
    response.stream_job = job;
    response.stream_after_id = after;
    return response;
}

void ApiHandler::stream_opened(const std::string &job_id) {
    std::lock_guard lock(streams_mutex_);
    ++open_streams_;
    ++streams_per_job_[job_id];
}

void ApiHandler::stream_closed(const std::string &job_id) {
    std::lock_guard lock(streams_mutex_);
    --open_streams_;
    auto it = streams_per_job_.find(job_id);
    if (it != streams_per_job_.end() && --it->second == 0) streams_per_job_.erase(it);
}

size_t ApiHandler::open_streams() const {
    std::lock_guard lock(streams_mutex_);
    return open_streams_;
}

ApiResponse ApiHandler::image(const JobPtr &job, const std::string &file) {
    constexpr std::string_view suffix = ".png";
    if (file.size() <= suffix.size() || !file.ends_with(suffix)) return not_found("no such image");
    auto index = parse_u64(std::string_view(file).substr(0, file.size() - suffix.size()));
    if (!index) return not_found("no such image");
    auto image = job->image(*index);
    if (!image) {
        JobState state = job->state();
        return not_found(state == JobState::completed
                             ? "the job has no image " + std::to_string(*index)
                             : "the job is " + std::string(to_string(state)) + ", it has no images");
    }
    ApiResponse response;
    response.content_type = "image/png";
    response.body.assign(image->png->begin(), image->png->end());
    response.headers.emplace_back("Cache-Control", "private, max-age=3600, immutable");
    return response;
}

ApiResponse ApiHandler::info() {
    auto model = state_.model();
    BackendDescription backend = model ? model->backend : BackendDescription{};
    json contexts = json::array();
    for (const BackendContextStatus &context : state_.contexts())
        contexts.push_back({{"device", context.device}, {"memory", memory_json(context.memory)}});
    QueueStats stats = queue_.stats();
    const ApiLimits &l = options_.limits;
    json body{{"service", "sd-worker"},
              {"version", options_.server_version},
              {"api_version", "v1"},
              {"state", to_string(state_.phase())},
              {"plugin",
               {{"name", backend.plugin_name},
                {"version", backend.plugin_version},
                {"path", backend.plugin_path},
                {"abi", backend.abi_version.empty() ? kPluginAbi : backend.abi_version},
                {"device", backend.device},
                {"memory", memory_json(backend.memory)},
                {"contexts", std::move(contexts)}}},
              {"device", backend.device},
              {"limits",
               {{"min_size", l.min_size},
                {"max_size", l.max_size},
                {"size_multiple", 8},
                {"max_steps", l.max_steps},
                {"max_guidance_scale", l.max_guidance_scale},
                {"max_images", l.max_images},
                {"max_clip_skip", l.max_clip_skip},
                {"max_prompt_bytes", l.max_prompt_bytes},
                {"max_pixel_steps", l.max_pixel_steps},
                {"body_limit_bytes", options_.body_limit}}},
              {"queue",
               {{"capacity", stats.capacity},
                {"queued", stats.queued},
                {"running", stats.running},
                {"workers", stats.workers},
                {"retention_s",
                 std::chrono::duration<double>(queue_.options().retention).count()},
                {"max_retained", queue_.options().max_retained}}},
              {"auth", options_.api_keys.empty() ? "none" : "api_key"}};
    if (model) {
        body["model"] = {{"name", model->name},
                         {"path", model->path},
                         {"default_width", model->default_width},
                         {"default_height", model->default_height},
                         {"inpainting_unet", model->inpainting_unet},
                         {"max_clip_skip", model->max_clip_skip}};
        json operations = json::array();
        for (Operation op : model->operations) operations.push_back(to_string(op));
        body["operations"] = std::move(operations);
        body["schedulers"] = model->schedulers.empty() ? default_scheduler_names() : model->schedulers;
    } else {
        body["model"] = nullptr;
        body["operations"] = json::array();
        body["schedulers"] = json::array();
    }
    return json_response(200, body);
}

}  // namespace sdw
