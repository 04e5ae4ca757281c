// OpenAI's images API: POST /v1/images/generations (JSON) and /v1/images/edits
// (multipart/form-data), translated to native job bodies (openai_images.h), validated by
// the native parser and run through the same queue, limits and auth as POST /v1/jobs;
// each answers when its job has ended. Every error on these routes, auth included, is in
// OpenAI's envelope {"error": {"message", "type", "param", "code"}}.
#include "server/api_handler.h"
#include "server/openai_images.h"

namespace sdw {

namespace {

ApiResponse openai_response(const OpenAiError &error) {
    ApiResponse response;
    response.status = error.status;
    response.body = openai_error_body(error);
    return response;
}

// Where the client reached us, for "url" results: the Host it sent (it is the client's
// own view of this server; a request without one gets a relative URL).
std::string base_url(const ApiRequest &request) {
    return request.host.empty() ? std::string() : "http://" + request.host;
}

}  // namespace

ApiResponse ApiHandler::openai_error(int status, const std::string &message, const std::string &param,
                                     const std::string &type, const std::string &code) {
    return openai_response(OpenAiError{status, message, param, type, code});
}

ApiResponse ApiHandler::openai_unauthorized(const ApiRequest &request) {
    return openai_response(openai_authentication_error(!request.authorization.empty() || !request.api_key.empty()));
}

ApiResponse ApiHandler::openai_refusal(const Refusal &refusal) {
    ApiResponse response = openai_error(refusal.status, refusal.message, "",
                                        refusal.status == 429 ? "requests" : "server_error", refusal.code);
    response.headers.insert(response.headers.end(), refusal.headers.begin(), refusal.headers.end());
    return response;
}

ApiResponse ApiHandler::openai_route(const ApiRequest &request, std::string_view path) {
    const bool generations = path == "/v1/images/generations";
    if (!generations && path != "/v1/images/edits")
        return openai_error(404, "Unknown request URL: " + std::string(path), "", "invalid_request_error",
                            "unknown_url");
    if (request.method != "POST") {
        ApiResponse response = openai_error(405, "Only POST is allowed on " + std::string(path), "",
                                            "invalid_request_error", "method_not_allowed");
        response.headers.emplace_back("Allow", "POST");
        return response;
    }

    if (generations && !is_json_content_type(request.content_type))
        return openai_error(415, "The body must be JSON, sent as Content-Type: application/json.", "",
                            "invalid_request_error", "unsupported_media_type");
    auto model = model_for_submit();
    if (auto *refusal = std::get_if<Refusal>(&model)) return openai_refusal(*refusal);
    const ModelDescription &description = std::get<ModelDescription>(model);
    auto translated =
        generations ? translate_openai_generation(request.body, description)
                    : translate_openai_edit(request.content_type, request.body, description, options_.limits);
    if (auto *error = std::get_if<OpenAiError>(&translated)) return openai_response(*error);
    auto job_request = std::make_shared<OpenAiImageJob>(std::move(std::get<OpenAiImageJob>(translated)));

    ParsedGeneration parsed = parse_generation_request(job_request->native_body, description,
                                                       options_.limits, [this] { return random_seed(); });
    if (auto *error = std::get_if<FieldError>(&parsed)) return openai_response(openai_error_from_field(*error));
    auto admitted = enqueue(std::move(std::get<GenerationRequest>(parsed)));
    if (auto *refusal = std::get_if<Refusal>(&admitted)) return openai_refusal(*refusal);

    ApiResponse response;
    response.await_job = std::get<SubmitResult>(admitted).job;
    response.finish_awaited = [job_request, base = base_url(request)](const JobPtr &job) {
        JobSnapshot snapshot = job->snapshot();
        if (snapshot.state != JobState::completed) return openai_response(openai_error_from_job(snapshot));
        ApiResponse answer;
        answer.body = openai_images_response(snapshot, job->id(), *job_request, base);
        return answer;
    };
    return response;
}

}  // namespace sdw
