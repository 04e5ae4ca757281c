// OpenAI's images API on top of the native job API: POST /v1/images/generations (JSON)
// and POST /v1/images/edits (multipart/form-data) are translated into a POST /v1/jobs
// body for parse_generation_request, the job runs like any other, and its images are
// answered in OpenAI's ImagesResponse shape. Pure functions: no I/O, no shared state,
// callable from any thread; every input, however malformed, gives a value (never an
// exception, std::bad_alloc aside).
//
// Generations (JSON object):
//   prompt           string, required
//   n                integer or null -> num_images (the native limits apply, 1..8 by default)
//   size             "WxH" (e.g. "512x512"; decimal, 1-5 digits each) -> width, height
//                    (multiples of 8 in the native range); "auto", null or omitted: the
//                    model's default size
//   response_format  "b64_json" (default; what GPT image models always answer) | "url"
//   output_format    "png" or null; any other format is refused (we only encode PNG)
//   background       "auto", "opaque" or null; "transparent" is refused (no alpha output)
//   stream           false or null; true is refused (no streamed partial images)
//   model, quality, style, user, safety_identifier, moderation, output_compression,
//   partial_images, and every field this list does not name: accepted and ignored
//   (we serve the loaded model; OpenAI clients add fields faster than servers learn them)
// The seed is always drawn at random (OpenAI has no seed field).
//
// Edits (multipart/form-data, see multipart_form.h; text fields as above, as strings):
//   image            required: a PNG file part; "image[]" (the openai client's name for
//                    a list) works too, the first image part is used, others are ignored
//   mask             optional PNG, the image's size: its FULLY TRANSPARENT pixels
//                    (alpha 0) are repainted -> operation inpaint with native mask white
//                    there and black elsewhere. A mask without any alpha-0 pixel is
//                    refused (it would repaint nothing; a black/white mask without alpha
//                    is a common mistake)
//   no mask          the image's own alpha-0 pixels are the mask when it has any (what
//                    OpenAI documents for DALL-E 2 edits) -> inpaint; a fully opaque
//                    image -> img2img over the whole image at the native default strength
//   size             "auto", omitted, or exactly the image's size (no resizing is done)
//   prompt, n, response_format, output_format, background, stream, model, ...: as above;
//   markup           refused (not supported)
// Inpaint jobs run at strength 1: OpenAI's edits fill the transparent region anew
// (the colours under alpha 0 are commonly black), as diffusers' inpainting default does.
// The image goes to the native parser as sent, which drops its alpha channel.
//
// Errors follow OpenAI's envelope, status 400 and type "invalid_request_error" unless
// said otherwise; `param` names the OpenAI parameter at fault.
#pragma once

#include "jobs/job.h"
#include "server/generation_request_parser.h"

#include <string>
#include <string_view>
#include <variant>

namespace sdw {

struct OpenAiError {
    int status = 400;
    std::string message;
    std::string param;                       // OpenAI's parameter name at fault, empty: none
    std::string type = "invalid_request_error";
    std::string code;                        // e.g. "invalid_value", "invalid_api_key"; empty -> null
};

// {"error": {"message", "type", "param" (null when empty), "code" (null when empty)}}
std::string openai_error_body(const OpenAiError &error);

struct OpenAiImageJob {
    std::string native_body;      // JSON body for parse_generation_request
    std::string response_format;  // "b64_json" (default) or "url"
    // The prompt as sent, for logs. Not echoed as revised_prompt: OpenAI returns that
    // only when a model rewrote the prompt, and ours never does.
    std::string prompt;
};

// `json_body`: the POST /v1/images/generations body. Codes: "invalid_json" (param
// null) for a body that is not a JSON object, "missing_required_parameter",
// "invalid_type" (a field of the wrong JSON type), "invalid_value", "unsupported_value"
// (a value OpenAI knows that this server cannot honour).
std::variant<OpenAiImageJob, OpenAiError> translate_openai_generation(std::string_view json_body,
                                                                      const ModelDescription &model);

// `content_type`: the request's Content-Type header (multipart/form-data; boundary=...).
// `limits`: the server's ApiLimits, pass the configured ones: the image and mask are
// decoded here (for their sizes and alpha) under the same size limits the native parser
// applies. Codes as above, plus "invalid_multipart" (param null) for a body that is not
// multipart/form-data and "invalid_image" / "invalid_mask" for unreadable PNGs.
std::variant<OpenAiImageJob, OpenAiError> translate_openai_edit(std::string_view content_type,
                                                                std::string_view body,
                                                                const ModelDescription &model,
                                                                const ApiLimits &limits = {});

// A native FieldError (field names of the native API, from parse_generation_request on
// a translated body) in OpenAI's envelope, status 400, code "invalid_value", with the
// param renamed to the OpenAI field the user wrote: width/height -> "size",
// num_images -> "n", init_image -> "image", prompt and mask unchanged; any other field
// (our translation never sets one the user controls) -> null. Native names in the
// message are renamed the same way ("init_image is 100x100..." -> "image is 100x100...").
OpenAiError openai_error_from_field(const FieldError &error);

// A job that did not complete, in OpenAI's envelope: failed with a request field at
// fault (GenerationInvalid) -> 400 as openai_error_from_field; failed otherwise -> 500,
// type "server_error", code the job's; cancelled -> 503, type "server_error", code
// "job_cancelled" (a shutdown or DELETE /v1/jobs/{id}; the openai client retries 5xx).
// Meant for snapshots in a terminal state other than completed.
OpenAiError openai_error_from_job(const JobSnapshot &snapshot);

// 401 for a request without a valid API key: code "invalid_api_key" (a key was sent)
// or null (none was), so the openai client raises AuthenticationError either way.
OpenAiError openai_authentication_error(bool key_given);

// 200 body for a completed job:
//   {"created": <unix seconds of finished_at, else created_at>,
//    "data": [{"b64_json": <base64 PNG>} | {"url": base_url + job_image_url(job_id, i)}],
//    "output_format": "png", "size": "WxH" (the first image's)}
// base_url like "http://127.0.0.1:8080", no trailing slash. The URLs are the native image
// route: behind the API key like the rest of /v1, and gone when the job is evicted.
std::string openai_images_response(const JobSnapshot &snapshot, const std::string &job_id,
                                   const OpenAiImageJob &request, const std::string &base_url);

}  // namespace sdw
