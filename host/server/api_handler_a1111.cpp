// AUTOMATIC1111-compatible routes: the requests are translated to native job bodies
// (a1111_api.h), validated by the native parser, and run through the same queue, limits
// and auth as POST /v1/jobs; txt2img and img2img answer when their job has ended.
//
//   POST /sdapi/v1/txt2img | img2img     synchronous generation
//   GET  /sdapi/v1/progress              the running job: progress, ETA, latest preview
//   POST /sdapi/v1/interrupt | skip      cancels the running job (its request returns at once)
//   GET  /sdapi/v1/samplers | schedulers | sd-models | options | scripts (none)
//   POST /sdapi/v1/options               accepted when it names the loaded model (or none)
//
// Errors keep the native envelope {"error": {"code", "message", "field"}} and add
// "detail" (the message), which is where A1111 clients look.
#include "server/a1111_api.h"
#include "server/api_handler.h"
#include "server/bounded_json.h"

#include <nlohmann/json.hpp>

namespace sdw {

using json = nlohmann::json;

namespace {

ApiResponse a1111_json(int status, std::string body) {
    ApiResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

ApiResponse a1111_error(int status, const std::string &code, const std::string &message,
                        const std::string &field = {}) {
    json error{{"code", code}, {"message", message}};
    error["field"] = field.empty() ? json(nullptr) : json(field);
    // Replace, not throw, on bytes that are not UTF-8 in a quoted request value.
    return a1111_json(status, json{{"error", error}, {"detail", message}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

ApiResponse a1111_method_not_allowed(const char *allow) {
    ApiResponse response = a1111_error(405, "method_not_allowed", std::string("allowed: ") + allow);
    response.headers.emplace_back("Allow", allow);
    return response;
}

}  // namespace

ApiResponse ApiHandler::a1111_route(const ApiRequest &request, std::string_view path) {
    const bool get = request.method == "GET", post = request.method == "POST";
    if (path == "/sdapi/v1/txt2img" || path == "/sdapi/v1/img2img") {
        if (!post) return a1111_method_not_allowed("POST");
        return a1111_generate(request, path == "/sdapi/v1/img2img");
    }
    if (path == "/sdapi/v1/progress") {
        if (!get) return a1111_method_not_allowed("GET, HEAD");
        return a1111_progress();
    }
    if (path == "/sdapi/v1/interrupt" || path == "/sdapi/v1/skip") {
        if (!post) return a1111_method_not_allowed("POST");
        // A1111 runs one job at a time and these act on it; here that is the running one.
        queue_.cancel_running(std::string("interrupted through ") + std::string(path));
        return a1111_json(200, "{}");
    }

    if (path == "/sdapi/v1/scripts") {  // no A1111 scripts here; clients look before using any
        if (!get) return a1111_method_not_allowed("GET, HEAD");
        return a1111_json(200, R"({"txt2img": [], "img2img": []})");
    }

    auto model = state_.model();
    if (path == "/sdapi/v1/samplers" || path == "/sdapi/v1/schedulers" ||
        path == "/sdapi/v1/sd-models") {
        if (!get) return a1111_method_not_allowed("GET, HEAD");
        if (!model) return a1111_error(503, "not_ready", "the model is not loaded yet");
        if (path == "/sdapi/v1/samplers") return a1111_json(200, a1111_samplers_body(*model));
        if (path == "/sdapi/v1/schedulers") return a1111_json(200, a1111_schedulers_body(*model));
        return a1111_json(200, a1111_sd_models_body(*model));
    }
    if (path == "/sdapi/v1/options") {
        if (!get && !post) return a1111_method_not_allowed("GET, HEAD, POST");
        if (!model) return a1111_error(503, "not_ready", "the model is not loaded yet");
        if (get) return a1111_json(200, a1111_options_body(*model));
        if (!is_json_content_type(request.content_type))
            return a1111_error(415, "unsupported_media_type",
                               "the body must be JSON, sent as Content-Type: application/json");
        // Clients set options before generating (most often the checkpoint). This worker
        // serves one model and keeps no A1111 settings: a change to the checkpoint is
        // refused, anything else is accepted and has no effect.
        auto parsed = parse_bounded_json(request.body);
        if (auto *refusal = std::get_if<JsonRefusal>(&parsed))
            return a1111_error(400, "invalid_field", refusal->message, refusal->field);
        const json &body = std::get<json>(parsed);
        if (!body.is_object()) return a1111_error(400, "invalid_field", "the body must be a JSON object");
        if (auto it = body.find("sd_model_checkpoint"); it != body.end() && !it->is_null() && *it != model->name)
            return a1111_error(400, "invalid_field",
                               "this worker serves only '" + model->name + "'; sd_model_checkpoint cannot change",
                               "sd_model_checkpoint");
        return a1111_json(200, "null");
    }
    return a1111_error(404, "not_found", "no such path");
}

ApiResponse ApiHandler::a1111_refusal(const Refusal &refusal) {
    ApiResponse response = a1111_error(refusal.status, refusal.code, refusal.message);
    response.headers.insert(response.headers.end(), refusal.headers.begin(), refusal.headers.end());
    return response;
}

ApiResponse ApiHandler::a1111_generate(const ApiRequest &request, bool img2img) {
    if (!is_json_content_type(request.content_type))
        return a1111_error(415, "unsupported_media_type",
                           "the body must be JSON, sent as Content-Type: application/json");
    auto model = model_for_submit();
    if (auto *refusal = std::get_if<Refusal>(&model)) return a1111_refusal(*refusal);
    const ModelDescription &description = std::get<ModelDescription>(model);
    auto translated = img2img ? translate_a1111_img2img(request.body, description, options_.limits)
                              : translate_a1111_txt2img(request.body, description, options_.limits);
    if (auto *error = std::get_if<FieldError>(&translated))
        return a1111_error(400, "invalid_field", error->message, error->field);
    auto job_request = std::make_shared<A1111Job>(std::move(std::get<A1111Job>(translated)));

    ParsedGeneration parsed = parse_generation_request(job_request->native_body, description,
                                                       options_.limits, [this] { return random_seed(); });
    if (auto *error = std::get_if<FieldError>(&parsed)) {
        FieldError renamed = a1111_field_error(*error);
        return a1111_error(400, "invalid_field", renamed.message, renamed.field);
    }
    auto admitted = enqueue(std::move(std::get<GenerationRequest>(parsed)));
    if (auto *refusal = std::get_if<Refusal>(&admitted)) return a1111_refusal(*refusal);

    ApiResponse response;
    response.await_job = std::get<SubmitResult>(admitted).job;
    response.finish_awaited = [job_request](const JobPtr &job) {
        JobSnapshot snapshot = job->snapshot();
        if (snapshot.state == JobState::failed) {
            const JobError &error = *snapshot.error;
            return a1111_error(error.code == "invalid_request" ? 400 : 500, error.code, error.message,
                               error.field);
        }
        // Completed, or interrupted: A1111 answers an interrupted request with what it
        // has, which here is no image; the info says why.
        return a1111_json(200, a1111_generation_response(*job_request, snapshot));
    };
    return response;
}

ApiResponse ApiHandler::a1111_progress() {
    std::vector<JobPtr> running = queue_.running_jobs();
    size_t queued = queue_.stats().queued;
    if (running.empty()) return a1111_json(200, a1111_progress_body(nullptr, queued, {}));
    const JobPtr &job = running.front();
    JobSnapshot snapshot = job->snapshot();
    return a1111_json(200, a1111_progress_body(&snapshot, queued, job->latest_preview_base64()));
}

}  // namespace sdw
