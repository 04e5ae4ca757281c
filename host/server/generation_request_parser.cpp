#include "server/generation_request_parser.h"

#include "server/bounded_json.h"
#include "server/field_refusal.h"

#include "image/base64.h"
#include "image/png.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace sdw {

using json = nlohmann::json;

namespace {

const std::set<std::string> &known_fields() {
    static const std::set<std::string> fields{
        "operation", "prompt",   "negative_prompt", "width",     "height",
        "steps",     "guidance_scale", "seed",      "scheduler", "num_images",
        "strength",  "init_image", "mask",          "clip_skip", "rng",
        "preview"};
    return fields;
}

const json *field(const json &body, const char *name) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<std::string> string_field(const json &body, const char *name, size_t max_bytes) {
    const json *value = field(body, name);
    if (!value) return std::nullopt;
    if (!value->is_string()) refuse(name, std::string(name) + " must be a string");
    const auto &text = value->get_ref<const std::string &>();
    if (text.size() > max_bytes)
        refuse(name, std::string(name) + " is longer than " + std::to_string(max_bytes) +
                         " bytes");
    return text;
}

std::optional<int64_t> integer_field(const json &body, const char *name, int64_t min,
                                     int64_t max) {
    const json *value = field(body, name);
    if (!value) return std::nullopt;
    if (!value->is_number_integer()) refuse(name, std::string(name) + " must be an integer");
    bool in_range;
    int64_t number = 0;
    if (value->is_number_unsigned()) {
        uint64_t u = value->get<uint64_t>();
        in_range = u <= static_cast<uint64_t>(max) && (min <= 0 || u >= static_cast<uint64_t>(min));
        number = in_range ? static_cast<int64_t>(u) : max;
    } else {
        number = value->get<int64_t>();
        in_range = number >= min && number <= max;
    }
    if (!in_range)
        refuse(name, std::string(name) + " must be in [" + std::to_string(min) + ", " +
                         std::to_string(max) + "]");
    return number;
}

std::optional<double> number_field(const json &body, const char *name) {
    const json *value = field(body, name);
    if (!value) return std::nullopt;
    if (!value->is_number()) refuse(name, std::string(name) + " must be a number");
    double number = value->get<double>();
    if (!std::isfinite(number)) refuse(name, std::string(name) + " must be finite");
    return number;
}

std::string format_number(double value) {
    json j = value;
    return j.dump();
}

int size_field(const json &body, const char *name, const ApiLimits &limits) {
    auto value = integer_field(body, name, limits.min_size, limits.max_size);
    if (!value) return 0;
    if (*value % 8 != 0) refuse(name, std::string(name) + " must be a multiple of 8");
    return static_cast<int>(*value);
}

int default_size(int value, const char *name, const ApiLimits &limits) {
    if (value < limits.min_size || value > limits.max_size || value % 8 != 0)
        refuse(name, std::string("the model's default ") + name + " " + std::to_string(value) +
                         " is not a multiple of 8 in [" + std::to_string(limits.min_size) + ", " +
                         std::to_string(limits.max_size) + "]; give " + name + " explicitly");
    return value;
}

Image decode_image_field(const json &body, const char *name, bool grey, const ApiLimits &limits) {
    auto text = string_field(body, name, std::numeric_limits<size_t>::max());
    auto bytes = base64_decode(*text);
    if (!bytes) refuse(name, std::string(name) + " is not valid base64");
    if (!looks_like_png(bytes->data(), bytes->size()))
        refuse(name, std::string(name) + " is not a PNG image");
    PngDecodeLimits png_limits;
    png_limits.max_width = limits.max_size;
    png_limits.max_height = limits.max_size;
    png_limits.max_pixels = int64_t{limits.max_size} * limits.max_size;
    Image image;
    try {
        image = grey ? decode_png_grey(bytes->data(), bytes->size(), png_limits)
                     : decode_png(bytes->data(), bytes->size(), png_limits);
    } catch (const std::exception &e) {
        refuse(name, std::string(name) + " is not a readable PNG image (" + e.what() + ")");
    }
    if (image.width % 8 != 0 || image.height % 8 != 0)
        refuse(name, std::string(name) + " is " + std::to_string(image.width) + "x" +
                         std::to_string(image.height) +
                         ", its width and height must be multiples of 8");
    if (image.width < limits.min_size || image.height < limits.min_size)
        refuse(name, std::string(name) + " is smaller than " + std::to_string(limits.min_size) +
                         " pixels on a side");
    return image;
}

GenerationRequest parse(const json &body, const ModelDescription &model, const ApiLimits &limits,
                        const std::function<uint64_t()> &random_seed) {
    if (!body.is_object()) refuse("", "the request body must be a JSON object");
    for (const auto &item : body.items())
        if (!known_fields().count(item.key())) refuse(item.key(), "unknown field " + item.key());

    GenerationRequest request;
    if (auto op = string_field(body, "operation", 64)) {
        if (*op == "txt2img") request.operation = Operation::txt2img;
        else if (*op == "img2img") request.operation = Operation::img2img;
        else if (*op == "inpaint") request.operation = Operation::inpaint;
        else refuse("operation", "operation must be one of txt2img, img2img, inpaint");
    }
    if (std::find(model.operations.begin(), model.operations.end(), request.operation) ==
        model.operations.end()) {
        std::string list;
        for (Operation op : model.operations) list += (list.empty() ? "" : ", ") + std::string(to_string(op));
        refuse("operation", "this model serves " + list + " only (operation " +
                                std::string(to_string(request.operation)) + ")");
    }
    auto prompt = string_field(body, "prompt", limits.max_prompt_bytes);
    if (!prompt) refuse("prompt", "prompt is required");
    request.prompt = *prompt;
    request.negative_prompt =
        string_field(body, "negative_prompt", limits.max_prompt_bytes).value_or("");

    int width = size_field(body, "width", limits);
    int height = size_field(body, "height", limits);
    request.steps = static_cast<int>(integer_field(body, "steps", 1, limits.max_steps).value_or(20));
    if (auto g = number_field(body, "guidance_scale")) {
        if (*g < 0 || *g > limits.max_guidance_scale)
            refuse("guidance_scale",
                   "guidance_scale must be in [0, " + format_number(limits.max_guidance_scale) + "]");
        request.guidance_scale = static_cast<float>(*g);
    }

    const json *seed = field(body, "seed");
    if (seed && seed->is_number_integer() && !seed->is_number_unsigned() &&
        seed->get<int64_t>() == -1)
        seed = nullptr;  // -1: "random", as in the A1111 API
    if (seed) {
        if (!seed->is_number_integer()) refuse("seed", "seed must be an integer");
        if (!seed->is_number_unsigned())
            refuse("seed", "seed must be in [0, 18446744073709551615] (or -1 for random)");
        request.seed = seed->get<uint64_t>();
    } else {
        request.seed = random_seed() & ((uint64_t{1} << 53) - 1);
    }

    const auto &schedulers = model.schedulers.empty() ? default_scheduler_names() : model.schedulers;
    if (auto scheduler = string_field(body, "scheduler", 64)) {
        if (std::find(schedulers.begin(), schedulers.end(), *scheduler) == schedulers.end()) {
            std::string list;
            for (const auto &name : schedulers) list += (list.empty() ? "" : ", ") + name;
            refuse("scheduler", "scheduler must be one of " + list);
        }
        request.scheduler = *scheduler;
    } else {
        bool has_ddim = std::find(schedulers.begin(), schedulers.end(), "ddim") != schedulers.end();
        request.scheduler = has_ddim ? "ddim" : schedulers.front();
    }

    request.num_images =
        static_cast<int>(integer_field(body, "num_images", 1, limits.max_images).value_or(1));
    if (auto strength = number_field(body, "strength")) {
        if (!(*strength > 0 && *strength <= 1)) refuse("strength", "strength must be in (0, 1]");
        request.strength = static_cast<float>(*strength);
    }
    request.clip_skip = static_cast<int>(
        integer_field(body, "clip_skip", 1, std::max(1, std::min(limits.max_clip_skip, model.max_clip_skip)))
            .value_or(1));
    if (auto rng = string_field(body, "rng", 16)) {
        if (*rng != "cpu" && *rng != "cuda") refuse("rng", "rng must be cpu or cuda");
        request.rng = *rng;
    }

    if (const json *preview = field(body, "preview")) {
        if (preview->is_boolean()) request.preview_every = preview->get<bool>() ? 1 : 0;
        else request.preview_every = static_cast<int>(*integer_field(body, "preview", 1, limits.max_steps));
    }

    bool has_init = field(body, "init_image") != nullptr;
    bool has_mask = field(body, "mask") != nullptr;
    switch (request.operation) {
    case Operation::txt2img:
        if (has_init) refuse("init_image", "init_image is only used by img2img and inpaint");
        if (has_mask) refuse("mask", "mask is only used by inpaint");
        break;
    case Operation::img2img:
        if (!has_init) refuse("init_image", "img2img requires init_image");
        if (has_mask) refuse("mask", "mask is only used by inpaint (operation img2img)");
        break;
    case Operation::inpaint:
        if (!has_init) refuse("init_image", "inpaint requires init_image");
        if (!has_mask) refuse("mask", "inpaint requires mask");
        break;
    }
    if (has_init) {
        request.init_image = decode_image_field(body, "init_image", false, limits);
        if (has_mask) {
            request.mask = decode_image_field(body, "mask", true, limits);
            if (request.mask->width != request.init_image->width ||
                request.mask->height != request.init_image->height)
                refuse("mask", "mask is " + std::to_string(request.mask->width) + "x" +
                                   std::to_string(request.mask->height) + " but init_image is " +
                                   std::to_string(request.init_image->width) + "x" +
                                   std::to_string(request.init_image->height));
        }
        if (width && width != request.init_image->width)
            refuse("width", "width must equal init_image's width (" +
                                std::to_string(request.init_image->width) + ") or be omitted");
        if (height && height != request.init_image->height)
            refuse("height", "height must equal init_image's height (" +
                                 std::to_string(request.init_image->height) + ") or be omitted");
        width = request.init_image->width;
        height = request.init_image->height;
    }
    // A model's default size comes from its config (sample_size x the VAE's scale), which
    // may lie outside what this server accepts; it must pass the checks a requested one does.
    request.width = width ? width : default_size(model.default_width, "width", limits);
    request.height = height ? height : default_size(model.default_height, "height", limits);

    // One request may not hold the worker for hours: its work grows with the pixels
    // denoised, the images and the steps (the UNet passes), so their product is capped.
    const int64_t cost = int64_t{request.width} * request.height * request.num_images * request.steps;
    if (cost > limits.max_pixel_steps)
        refuse("steps", "width x height x num_images x steps = " + std::to_string(request.width) + " x " +
                            std::to_string(request.height) + " x " + std::to_string(request.num_images) +
                            " x " + std::to_string(request.steps) + " = " + std::to_string(cost) +
                            " pixel-steps, more than this server's limit of " +
                            std::to_string(limits.max_pixel_steps) + " (limits.max_pixel_steps); " +
                            "ask for fewer steps, fewer images or a smaller size");
    return request;
}

}  // namespace

const std::vector<std::string> &default_scheduler_names() {
    static const std::vector<std::string> names{"ddim",     "pndm",     "euler",
                                                "euler_a",  "dpmpp_2m", "dpmpp_2m_karras",
                                                "lms",      "lcm"};
    return names;
}

ParsedGeneration parse_generation_request(std::string_view body, const ModelDescription &model,
                                          const ApiLimits &limits,
                                          const std::function<uint64_t()> &random_seed) {
    auto parsed = parse_bounded_json(body);
    if (auto *refusal = std::get_if<JsonRefusal>(&parsed)) return FieldError{refusal->field, refusal->message};
    try {
        return parse(std::get<json>(parsed), model, limits, random_seed);
    } catch (const FieldRefusal &refusal) {
        return refusal.error;
    }
}

}  // namespace sdw
