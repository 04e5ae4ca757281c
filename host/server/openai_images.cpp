#include "server/openai_images.h"

#include "image/base64.h"
#include "image/png.h"
#include "server/bounded_json.h"
#include "server/multipart_form.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <new>
#include <optional>
#include <utility>

namespace sdw {

using json = nlohmann::json;

namespace {

// Thrown inside this file only; turned into the variant's error at the boundary.
struct Refusal {
    OpenAiError error;
};

[[noreturn]] void refuse(std::string param, std::string code, std::string message) {
    OpenAiError error;
    error.param = std::move(param);
    error.code = std::move(code);
    error.message = std::move(message);
    throw Refusal{std::move(error)};
}

// A client's value inside a message: quoted, at most 64 characters, control and
// non-ASCII bytes shown as '?' (the envelope must stay valid JSON whatever was sent).
std::string shown(std::string_view text) {
    std::string out = "'";
    for (char c : text.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    if (text.size() > 64) out += "...";
    return out + "'";
}

// The fields both routes share, read from JSON or from form parts.
struct Fields {
    std::optional<std::string> prompt;
    json n;  // null, or an integer for the native parser to range-check
    std::optional<std::string> size;
    std::optional<std::string> response_format;
    std::optional<std::string> output_format;
    std::optional<std::string> background;
    bool stream = false;
};

std::optional<std::string> json_string(const json &body, const char *name) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) refuse(name, "invalid_type", std::string(name) + " must be a string");
    return it->get<std::string>();
}

Fields fields_from_json(const json &body) {
    Fields fields;
    fields.prompt = json_string(body, "prompt");
    if (auto it = body.find("n"); it != body.end() && !it->is_null()) {
        if (!it->is_number_integer()) refuse("n", "invalid_type", "n must be an integer");
        fields.n = *it;
    }
    fields.size = json_string(body, "size");
    fields.response_format = json_string(body, "response_format");
    fields.output_format = json_string(body, "output_format");
    fields.background = json_string(body, "background");
    if (auto it = body.find("stream"); it != body.end() && !it->is_null()) {
        if (!it->is_boolean()) refuse("stream", "invalid_type", "stream must be a boolean");
        fields.stream = it->get<bool>();
    }
    return fields;
}

std::optional<std::string> form_text(const MultipartForm &form, const char *name) {
    const MultipartPart *part = form.find(name);
    if (!part) return std::nullopt;
    return std::string(part->body);
}

Fields fields_from_form(const MultipartForm &form) {
    Fields fields;
    fields.prompt = form_text(form, "prompt");
    if (auto n = form_text(form, "n")) {
        int64_t value = 0;
        const char *end = n->data() + n->size();
        auto [ptr, ec] = std::from_chars(n->data(), end, value);
        if (n->empty() || ec != std::errc() || ptr != end)
            refuse("n", "invalid_type", "n must be an integer, not " + shown(*n));
        fields.n = value;
    }
    fields.size = form_text(form, "size");
    fields.response_format = form_text(form, "response_format");
    fields.output_format = form_text(form, "output_format");
    fields.background = form_text(form, "background");
    if (auto stream = form_text(form, "stream")) {
        if (*stream == "true" || *stream == "True" || *stream == "1") fields.stream = true;
        else if (!stream->empty() && *stream != "false" && *stream != "False" && *stream != "0")
            refuse("stream", "invalid_value", "stream must be true or false, not " + shown(*stream));
    }
    return fields;
}

struct Size {
    int width = 0;
    int height = 0;
};

// "WxH" -> the size; "auto" (or no size) -> nullopt.
std::optional<Size> parse_size(const std::optional<std::string> &text) {
    if (!text || *text == "auto") return std::nullopt;
    const std::string_view value = *text;
    const size_t x = value.find('x');
    auto number = [](std::string_view digits, int &out) {
        if (digits.empty() || digits.size() > 5) return false;
        if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
        std::from_chars(digits.data(), digits.data() + digits.size(), out);
        return true;
    };
    Size size;
    if (x == std::string_view::npos || !number(value.substr(0, x), size.width) ||
        !number(value.substr(x + 1), size.height))
        refuse("size", "invalid_value",
               "size must be WIDTHxHEIGHT in pixels (e.g. 512x512) or auto, not " + shown(value));
    return size;
}

// Checks what both routes share; returns the response format.
std::string check_common(const Fields &fields) {
    if (!fields.prompt) refuse("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.");
    try {
        (void)json(*fields.prompt).dump();
    } catch (const json::type_error &) {
        refuse("prompt", "invalid_value", "prompt is not valid UTF-8");
    }
    if (fields.stream)
        refuse("stream", "unsupported_value", "streaming is not supported by this server; omit stream or set it to false");
    if (fields.output_format && *fields.output_format != "png")
        refuse("output_format", "unsupported_value",
               "this server returns PNG images only (output_format png), not " + shown(*fields.output_format));
    if (fields.background) {
        if (*fields.background == "transparent")
            refuse("background", "unsupported_value",
                   "this server generates opaque images only (background auto or opaque)");
        if (*fields.background != "auto" && *fields.background != "opaque")
            refuse("background", "invalid_value",
                   "background must be auto, opaque or transparent, not " + shown(*fields.background));
    }
    const std::string format = fields.response_format.value_or("b64_json");
    if (format != "b64_json" && format != "url")
        refuse("response_format", "invalid_value",
               "response_format must be b64_json or url, not " + shown(format));
    return format;
}

json native_base(const Fields &fields, std::string_view operation) {
    json native = json::object();
    native["operation"] = std::string(operation);
    native["prompt"] = *fields.prompt;
    if (!fields.n.is_null()) native["num_images"] = fields.n;
    return native;
}

bool offers(const ModelDescription &model, Operation op) {
    return std::find(model.operations.begin(), model.operations.end(), op) != model.operations.end();
}

OpenAiImageJob translate_generation(std::string_view json_body, const ModelDescription &) {
    auto parsed = parse_bounded_json(json_body);
    if (auto *refusal = std::get_if<JsonRefusal>(&parsed))
        refuse(refusal->field, "invalid_json", "We could not parse the JSON body of your request: " + refusal->message + ".");
    json body = std::move(std::get<json>(parsed));
    if (!body.is_object()) refuse("", "invalid_json", "The request body must be a JSON object.");
    const Fields fields = fields_from_json(body);
    OpenAiImageJob job;
    job.response_format = check_common(fields);
    job.prompt = *fields.prompt;
    json native = native_base(fields, "txt2img");
    if (auto size = parse_size(fields.size)) {
        native["width"] = size->width;
        native["height"] = size->height;
    }
    job.native_body = native.dump();
    return job;
}

PngDecodeLimits png_limits(const ApiLimits &limits) {
    PngDecodeLimits png;
    png.max_width = limits.max_size;
    png.max_height = limits.max_size;
    png.max_pixels = int64_t{limits.max_size} * limits.max_size;
    return png;
}

// A file part's alpha plane; refuses with `param` when it is not a readable PNG.
Image decode_alpha(std::string_view bytes, const char *param, const char *code, const ApiLimits &limits) {
    const auto *data = reinterpret_cast<const uint8_t *>(bytes.data());
    if (bytes.empty()) refuse(param, code, std::string(param) + " is empty");
    if (!looks_like_png(data, bytes.size()))
        refuse(param, code, std::string(param) + " must be a PNG file (this server reads no other format)");
    try {
        return decode_png_alpha(data, bytes.size(), png_limits(limits));
    } catch (const std::runtime_error &e) {
        refuse(param, code, std::string(param) + " is not a readable PNG image (" + e.what() + ")");
    }
}

std::string dimensions(const Image &image) {
    return std::to_string(image.width) + "x" + std::to_string(image.height);
}

// Native mask from an alpha plane: white (repaint) where fully transparent. nullopt
// when no pixel is.
std::optional<Image> mask_from_alpha(const Image &alpha) {
    Image mask = alpha;
    bool any = false;
    for (auto &pixel : mask.pixels) {
        pixel = pixel == 0 ? 255 : 0;
        any = any || pixel;
    }
    if (!any) return std::nullopt;
    return mask;
}

OpenAiImageJob translate_edit(std::string_view content_type, std::string_view body, const ModelDescription &model,
                              const ApiLimits &limits) {
    auto parsed = parse_multipart_form(content_type, body);
    if (auto *error = std::get_if<MultipartError>(&parsed))
        refuse("", "invalid_multipart", "The image edit request must be multipart/form-data: " + error->message);
    const MultipartForm &form = std::get<MultipartForm>(parsed);

    const MultipartPart *image_part = nullptr;
    for (const auto &part : form.parts)
        if (part.name == "image" || part.name == "image[]") {
            image_part = &part;
            break;
        }
    if (!image_part) refuse("image", "missing_required_parameter", "Missing required parameter: 'image'.");
    if (form.find("markup")) refuse("markup", "unsupported_value", "markup is not supported by this server");

    const Fields fields = fields_from_form(form);
    OpenAiImageJob job;
    job.response_format = check_common(fields);
    job.prompt = *fields.prompt;

    const Image image_alpha = decode_alpha(image_part->body, "image", "invalid_image", limits);
    if (auto size = parse_size(fields.size); size && (size->width != image_alpha.width || size->height != image_alpha.height))
        refuse("size", "invalid_value",
               "size must equal the image's size (" + dimensions(image_alpha) + ") or be omitted; this server does "
               "not resize (size " + shown(*fields.size) + ")");

    std::optional<Image> mask;
    if (const MultipartPart *mask_part = form.find("mask")) {
        const Image mask_alpha = decode_alpha(mask_part->body, "mask", "invalid_mask", limits);
        if (mask_alpha.width != image_alpha.width || mask_alpha.height != image_alpha.height)
            refuse("mask", "invalid_value",
                   "mask is " + dimensions(mask_alpha) + " but image is " + dimensions(image_alpha) +
                       "; the mask must have the image's size");
        mask = mask_from_alpha(mask_alpha);
        if (!mask)
            refuse("mask", "invalid_value",
                   "mask has no fully transparent pixels: the region to edit is where the mask's alpha is 0 "
                   "(a mask without an alpha channel marks nothing)");
    } else {
        mask = mask_from_alpha(image_alpha);  // transparent pixels of the image itself
    }

    const Operation operation = mask ? Operation::inpaint : Operation::img2img;
    if (!offers(model, operation) && operation == Operation::img2img && offers(model, Operation::inpaint))
        refuse("mask", "missing_required_parameter",
               "this model only inpaints: send a mask (or an image with fully transparent pixels) marking "
               "the region to edit");

    json native = native_base(fields, to_string(operation));
    native["init_image"] = base64_encode(reinterpret_cast<const uint8_t *>(image_part->body.data()),
                                         image_part->body.size());
    if (mask) {
        native["mask"] = base64_encode(encode_png(*mask));
        native["strength"] = 1.0;
    }
    job.native_body = native.dump();
    return job;
}

template <typename Translate>
std::variant<OpenAiImageJob, OpenAiError> guarded(Translate &&translate) {
    try {
        return translate();
    } catch (const Refusal &refusal) {
        return refusal.error;
    } catch (const std::bad_alloc &) {
        throw;
    } catch (const std::exception &e) {
        OpenAiError error;
        error.status = 500;
        error.type = "server_error";
        error.message = std::string("internal error translating the request: ") + e.what();
        return error;
    }
}

bool word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Replaces whole-word occurrences of `from` with `to`.
std::string rename_word(std::string text, std::string_view from, std::string_view to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
        const bool starts = at == 0 || !word_char(text[at - 1]);
        const bool ends = at + from.size() == text.size() || !word_char(text[at + from.size()]);
        if (starts && ends) {
            text.replace(at, from.size(), to);
            at += to.size();
        } else {
            at += from.size();
        }
    }
    return text;
}

int64_t unix_seconds(std::chrono::system_clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace

std::string openai_error_body(const OpenAiError &error) {
    json inner = json::object();
    inner["message"] = error.message;
    inner["type"] = error.type;
    inner["param"] = error.param.empty() ? json(nullptr) : json(error.param);
    inner["code"] = error.code.empty() ? json(nullptr) : json(error.code);
    return json{{"error", inner}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::variant<OpenAiImageJob, OpenAiError> translate_openai_generation(std::string_view json_body,
                                                                      const ModelDescription &model) {
    return guarded([&] { return translate_generation(json_body, model); });
}

std::variant<OpenAiImageJob, OpenAiError> translate_openai_edit(std::string_view content_type,
                                                                std::string_view body,
                                                                const ModelDescription &model,
                                                                const ApiLimits &limits) {
    return guarded([&] { return translate_edit(content_type, body, model, limits); });
}

OpenAiError openai_error_from_field(const FieldError &error) {
    OpenAiError out;
    out.code = "invalid_value";
    if (error.field == "width" || error.field == "height") out.param = "size";
    else if (error.field == "num_images") out.param = "n";
    else if (error.field == "init_image") out.param = "image";
    else if (error.field == "prompt" || error.field == "mask") out.param = error.field;
    out.message = rename_word(rename_word(error.message, "init_image", "image"), "num_images", "n");
    return out;
}

OpenAiError openai_error_from_job(const JobSnapshot &snapshot) {
    OpenAiError out;
    out.status = 500;
    out.type = "server_error";
    switch (snapshot.state) {
    case JobState::failed:
        if (snapshot.error && !snapshot.error->field.empty())
            return openai_error_from_field(FieldError{snapshot.error->field, snapshot.error->message});
        out.message = snapshot.error ? snapshot.error->message : "the image generation failed";
        out.code = snapshot.error ? snapshot.error->code : "generation_failed";
        return out;
    case JobState::cancelled:
        out.status = 503;
        out.code = "job_cancelled";
        out.message = "the image generation was cancelled" +
                      (snapshot.cancel_reason.empty() ? std::string() : " (" + snapshot.cancel_reason + ")");
        return out;
    case JobState::queued:
    case JobState::running:
    case JobState::completed:
        break;
    }
    out.message = "internal error: the job is " + std::string(to_string(snapshot.state)) + ", not failed";
    return out;
}

OpenAiError openai_authentication_error(bool key_given) {
    OpenAiError out;
    out.status = 401;
    if (key_given) {
        out.code = "invalid_api_key";
        out.message = "Incorrect API key provided.";
    } else {
        out.message = "You didn't provide an API key. Send it as \"Authorization: Bearer <key>\".";
    }
    return out;
}

std::string openai_images_response(const JobSnapshot &snapshot, const std::string &job_id,
                                   const OpenAiImageJob &request, const std::string &base_url) {
    json data = json::array();
    for (size_t i = 0; i < snapshot.images.size(); ++i) {
        const JobImage &image = snapshot.images[i];
        if (request.response_format == "url") {
            data.push_back({{"url", base_url + job_image_url(job_id, i)}});
        } else {
            data.push_back({{"b64_json", image.png ? base64_encode(*image.png) : std::string()}});
        }
    }
    json body = json::object();
    body["created"] = unix_seconds(snapshot.finished_at.value_or(snapshot.created_at));
    body["data"] = std::move(data);
    body["output_format"] = "png";
    if (!snapshot.images.empty())
        body["size"] = std::to_string(snapshot.images[0].width) + "x" + std::to_string(snapshot.images[0].height);
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sdw
