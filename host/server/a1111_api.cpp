#include "server/a1111_api.h"

#include "image/base64.h"
#include "image/image_resize.h"
#include "image/png.h"
#include "server/bounded_json.h"
#include "server/field_refusal.h"
#include "server/version.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sdw {

using json = nlohmann::json;

namespace {

// --- Samplers and schedules --------------------------------------------------------

struct Sampler {
    const char *name;                  // as A1111 writes it
    std::vector<const char *> aliases; // A1111's
    const char *native;                // under the "Automatic" schedule
    const char *native_karras;         // under "Karras"; nullptr: none here
    const char *options;               // A1111's options, JSON
};

const std::vector<Sampler> &samplers() {
    static const std::vector<Sampler> table{
        {"DPM++ 2M", {"k_dpmpp_2m"}, "dpmpp_2m", "dpmpp_2m_karras", "{}"},
        {"DPM++ 2M Karras", {"k_dpmpp_2m_ka"}, "dpmpp_2m_karras", "dpmpp_2m_karras",
         R"({"scheduler": "karras"})"},
        {"Euler a", {"k_euler_a", "k_euler_ancestral"}, "euler_a", nullptr, R"({"uses_ensd": true})"},
        {"Euler", {"k_euler"}, "euler", nullptr, "{}"},
        {"LMS", {"k_lms"}, "lms", nullptr, "{}"},
        {"DDIM", {"ddim"}, "ddim", nullptr, "{}"},
        {"PLMS", {"plms"}, "pndm", nullptr, "{}"},
        {"LCM", {"k_lcm"}, "lcm", nullptr, "{}"},
    };
    return table;
}

// A1111's sd_schedulers.schedulers: (name, label, aliases). Only the first two run here.
struct Schedule {
    const char *name;
    const char *label;
    std::vector<const char *> aliases;
};

const std::vector<Schedule> &a1111_schedules() {
    static const std::vector<Schedule> table{
        {"automatic", "Automatic", {}},
        {"uniform", "Uniform", {}},
        {"karras", "Karras", {}},
        {"exponential", "Exponential", {}},
        {"polyexponential", "Polyexponential", {}},
        {"sgm_uniform", "SGM Uniform", {"SGMUniform"}},
        {"kl_optimal", "KL Optimal", {}},
        {"align_your_steps", "Align Your Steps", {}},
        {"simple", "Simple", {}},
        {"normal", "Normal", {}},
        {"ddim", "DDIM", {}},
        {"beta", "Beta", {}},
        {"karras_exponential", "Karras Exponential", {}},
    };
    return table;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool same_name(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

bool ends_with_word(std::string_view text, std::string_view word) {
    return text.size() > word.size() && text[text.size() - word.size() - 1] == ' ' &&
           same_name(text.substr(text.size() - word.size()), word);
}

const std::vector<std::string> &model_schedulers(const ModelDescription &model) {
    return model.schedulers.empty() ? default_scheduler_names() : model.schedulers;
}

bool offers(const ModelDescription &model, const char *native) {
    const auto &names = model_schedulers(model);
    return native && std::find(names.begin(), names.end(), native) != names.end();
}

std::string offered_samplers(const ModelDescription &model) {
    std::string list;
    for (const Sampler &s : samplers())
        if (offers(model, s.native)) list += (list.empty() ? "" : ", ") + std::string(s.name);
    return list.empty() ? std::string("none") : list;
}

const Sampler *find_sampler(std::string_view name) {
    for (const Sampler &s : samplers()) {
        if (same_name(name, s.name)) return &s;
        for (const char *alias : s.aliases)
            if (same_name(name, alias)) return &s;
    }
    return nullptr;
}

struct ResolvedSampler {
    const Sampler *sampler = nullptr;  // the base sampler ("DPM++ 2M" for "DPM++ 2M Karras")
    bool karras = false;
    std::string native;
};

const json *present(const json &body, const char *name) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return nullptr;
    return &*it;
}

// As A1111's sd_samplers.get_sampler_and_scheduler: a schedule named as a suffix of the
// sampler name wins over the scheduler field; a sampler's own default schedule counts
// as "Automatic".
ResolvedSampler resolve_sampler(const json &body, const ModelDescription &model) {
    std::string name;
    std::string sampler_field = "sampler_name";
    const json *sampler_name = present(body, "sampler_name");
    if (sampler_name && !sampler_name->is_string())
        refuse("sampler_name", "sampler_name must be a string");
    if (sampler_name) name = sampler_name->get<std::string>();
    if (name.empty()) {
        if (const json *index = present(body, "sampler_index")) {
            if (!index->is_string()) refuse("sampler_index", "sampler_index must be a sampler's name");
            name = index->get<std::string>();
            sampler_field = "sampler_index";
        }
    }

    bool karras = false;
    std::string schedule_field = "scheduler";
    if (const json *scheduler = present(body, "scheduler")) {
        if (!scheduler->is_string()) refuse("scheduler", "scheduler must be a string");
        const std::string text = scheduler->get<std::string>();
        if (!text.empty() && !same_name(text, "automatic")) {
            if (same_name(text, "karras")) karras = true;
            else
                refuse("scheduler", "scheduler \"" + text +
                                        "\" is not available here; it must be Automatic or Karras");
        }
    }
    if (name.empty()) {
        // A1111's API falls back to sampler_index's default, "Euler".
        const Sampler *fallback = find_sampler("Euler");
        if (!offers(model, fallback->native)) {
            fallback = nullptr;
            for (const Sampler &s : samplers())
                if (offers(model, s.native)) {
                    fallback = &s;
                    break;
                }
        }
        if (!fallback) refuse(sampler_field, "this model offers no sampler A1111 clients can name");
        name = fallback->name;
    }

    const Sampler *sampler = find_sampler(name);
    if (!sampler) {
        for (const Schedule &schedule : a1111_schedules()) {
            std::vector<const char *> options{schedule.label, schedule.name};
            options.insert(options.end(), schedule.aliases.begin(), schedule.aliases.end());
            for (const char *option : options) {
                if (!ends_with_word(name, option)) continue;
                std::string base = name.substr(0, name.size() - std::string_view(option).size() - 1);
                if (const Sampler *found = find_sampler(base)) {
                    if (std::string_view(schedule.name) == "automatic") {
                        karras = false;
                    } else if (std::string_view(schedule.name) == "karras") {
                        karras = true;
                    } else {
                        refuse(sampler_field, sampler_field + " \"" + name + "\": the " +
                                                  schedule.label +
                                                  " schedule is not available here (Automatic or Karras)");
                    }
                    schedule_field = sampler_field;
                    sampler = found;
                }
                break;
            }
            if (sampler) break;
        }
    }
    if (!sampler)
        refuse(sampler_field, sampler_field + " \"" + name + "\" is not a sampler here; it must be one of " +
                                  offered_samplers(model));
    // "DPM++ 2M Karras" named whole: the Karras variant, whatever the scheduler field says.
    if (sampler->native_karras && std::string_view(sampler->native) == sampler->native_karras) {
        karras = true;
        schedule_field = sampler_field;
        sampler = find_sampler("DPM++ 2M");
    }

    ResolvedSampler resolved;
    resolved.sampler = sampler;
    resolved.karras = karras;
    if (karras) {
        if (!sampler->native_karras)
            refuse(schedule_field, std::string("the Karras schedule is not available with ") + sampler->name +
                                       " here (only with DPM++ 2M)");
        resolved.native = sampler->native_karras;
    } else {
        resolved.native = sampler->native;
    }
    if (!offers(model, resolved.native.c_str())) {
        std::string display = std::string(sampler->name) + (karras ? " Karras" : "");
        refuse(karras && schedule_field == "scheduler" ? "scheduler" : sampler_field,
               "this model does not offer " + display + " (scheduler " + resolved.native +
                   "); it offers " + offered_samplers(model));
    }
    return resolved;
}

// --- Field checks ----------------------------------------------------------------------

bool truthy(const json &value) {
    if (value.is_boolean()) return value.get<bool>();
    if (value.is_number()) return value.get<double>() != 0;
    if (value.is_string()) return !value.get<std::string>().empty();
    if (value.is_array() || value.is_object()) return !value.empty();
    return false;
}

double number(const json &body, const char *name) {
    const json &value = body.at(name);
    if (!value.is_number()) refuse(name, std::string(name) + " must be a number");
    double v = value.get<double>();
    if (!std::isfinite(v)) refuse(name, std::string(name) + " must be finite");
    return v;
}

// Fields that change the picture in A1111 and are refused unless at their no-op value.
void refuse_unsupported(const json &body, bool img2img) {
    auto refuse_if = [&](const char *name, bool condition, const std::string &why) {
        if (condition) refuse(name, std::string(name) + " " + why + " is not supported here");
    };
    if (const json *v = present(body, "enable_hr")) refuse_if("enable_hr", truthy(*v), "(hires fix)");
    if (present(body, "subseed_strength"))
        refuse_if("subseed_strength", number(body, "subseed_strength") > 0, "> 0 (variation seeds)");
    if (present(body, "seed_resize_from_w") && present(body, "seed_resize_from_h"))
        refuse_if("seed_resize_from_w",
                  number(body, "seed_resize_from_w") > 0 && number(body, "seed_resize_from_h") > 0,
                  "with seed_resize_from_h (resizing the seed)");
    if (const json *v = present(body, "restore_faces")) refuse_if("restore_faces", truthy(*v), "(face restoration)");
    if (const json *v = present(body, "tiling")) refuse_if("tiling", truthy(*v), "(tiling)");
    if (present(body, "s_churn")) refuse_if("s_churn", number(body, "s_churn") > 0, "> 0");
    if (present(body, "s_noise")) refuse_if("s_noise", number(body, "s_noise") != 1, "other than 1");
    if (present(body, "s_min_uncond")) refuse_if("s_min_uncond", number(body, "s_min_uncond") > 0, "> 0");
    if (const json *v = present(body, "script_name")) refuse_if("script_name", truthy(*v), "(scripts)");
    if (const json *v = present(body, "refiner_checkpoint"))
        refuse_if("refiner_checkpoint", truthy(*v) && *v != "None", "(a refiner)");
    if (const json *v = present(body, "infotext")) refuse_if("infotext", truthy(*v), "(parameters from an infotext)");
    if (const json *scripts = present(body, "alwayson_scripts")) {
        if (!scripts->is_object()) refuse("alwayson_scripts", "alwayson_scripts must be an object");
        for (const auto &[name, entry] : scripts->items()) {
            const json *args = entry.is_object() ? present(entry, "args") : nullptr;
            bool off = !args || (args->is_array() && (args->empty() || (*args)[0] == false));
            if (!off)
                refuse("alwayson_scripts",
                       "alwayson_scripts: the script \"" + name + "\" is not available here");
        }
    }
    if (!img2img) {
        for (const char *name : {"firstphase_width", "firstphase_height"})
            if (present(body, name)) refuse_if(name, number(body, name) != 0, "other than 0");
    } else {
        if (present(body, "initial_noise_multiplier"))
            refuse_if("initial_noise_multiplier", number(body, "initial_noise_multiplier") != 1,
                      "other than 1");
        if (const json *v = present(body, "latent_mask")) refuse_if("latent_mask", truthy(*v), "(a latent mask)");
    }
}

// Whole numbers, as JSON integers or integral doubles (pydantic coerces those).
std::optional<int64_t> integer(const json &body, const char *name) {
    const json *value = present(body, name);
    if (!value) return std::nullopt;
    if (value->is_number_integer()) {
        if (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t{1} << 40)
            refuse(name, std::string(name) + " is out of range");
        return value->get<int64_t>();
    }
    if (value->is_number_float()) {
        double v = value->get<double>();
        if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e12) return static_cast<int64_t>(v);
    }
    refuse(name, std::string(name) + " must be an integer");
}

int image_count(const json &body) {
    int64_t batch = integer(body, "batch_size").value_or(1);
    int64_t iterations = integer(body, "n_iter").value_or(1);
    if (batch < 1) refuse("batch_size", "batch_size must be at least 1");
    if (iterations < 1) refuse("n_iter", "n_iter must be at least 1");
    // Anything above the native limit (at most a few dozen) is refused by the parser
    // as num_images; clamp only to keep the product in range.
    return static_cast<int>(std::min<int64_t>(batch * std::min<int64_t>(iterations, 1 << 20), 1 << 20));
}

// --- Images ----------------------------------------------------------------------------

std::vector<uint8_t> decode_base64_field(const std::string &text, const char *field) {
    auto bytes = base64_decode(text);
    if (!bytes) refuse(field, std::string(field) + " is not valid base64");
    if (!looks_like_png(bytes->data(), bytes->size()))
        refuse(field, std::string(field) + " is not a PNG image (this server reads PNG only)");
    return std::move(*bytes);
}

PngDecodeLimits source_limits(const ApiLimits &limits) {
    PngDecodeLimits png;
    png.max_width = 4 * limits.max_size;
    png.max_height = 4 * limits.max_size;
    png.max_pixels = int64_t{4} * limits.max_size * limits.max_size;
    return png;
}

// The size in the IHDR chunk, without decoding; nullopt when it is not where PNG puts it.
std::optional<std::pair<int, int>> png_size(const std::vector<uint8_t> &png) {
    if (png.size() < 24 || std::string_view(reinterpret_cast<const char *>(&png[12]), 4) != "IHDR")
        return std::nullopt;
    auto be32 = [&](size_t at) {
        return (uint32_t{png[at]} << 24) | (uint32_t{png[at + 1]} << 16) | (uint32_t{png[at + 2]} << 8) |
               uint32_t{png[at + 3]};
    };
    uint32_t w = be32(16), h = be32(20);
    if (w > (1u << 30) || h > (1u << 30)) return std::nullopt;
    return std::pair<int, int>{static_cast<int>(w), static_cast<int>(h)};
}

Image decode(const std::vector<uint8_t> &bytes, bool grey, const ApiLimits &limits, const char *field) {
    try {
        return grey ? decode_png_grey(bytes.data(), bytes.size(), source_limits(limits))
                    : decode_png(bytes.data(), bytes.size(), source_limits(limits));
    } catch (const std::exception &e) {
        refuse(field, std::string(field) + " is not a readable PNG image (" + e.what() + ")");
    }
}

Image resize_for(const Image &image, int width, int height, int resize_mode) {
    if (image.width == width && image.height == height) return image;
    return resize_mode == 1 ? resize_crop_lanczos(image, width, height) : resize_lanczos(image, width, height);
}

std::string png_base64(const Image &image) { return base64_encode(encode_png(image)); }

// --- Requests --------------------------------------------------------------------------

const json &txt2img_defaults() {
    static const json defaults = json::parse(R"({
        "prompt": "", "negative_prompt": "", "styles": null, "seed": -1, "subseed": -1,
        "subseed_strength": 0, "seed_resize_from_h": -1, "seed_resize_from_w": -1,
        "seed_enable_extras": true, "sampler_name": null, "scheduler": null,
        "batch_size": 1, "n_iter": 1, "steps": 50, "cfg_scale": 7.0, "width": 512,
        "height": 512, "restore_faces": null, "tiling": null, "do_not_save_samples": false,
        "do_not_save_grid": false, "eta": null, "denoising_strength": null,
        "s_min_uncond": null, "s_churn": null, "s_tmax": null, "s_tmin": null,
        "s_noise": null, "override_settings": null,
        "override_settings_restore_afterwards": true, "refiner_checkpoint": null,
        "refiner_switch_at": null, "disable_extra_networks": false, "firstpass_image": null,
        "comments": null, "enable_hr": false, "firstphase_width": 0, "firstphase_height": 0,
        "hr_scale": 2.0, "hr_upscaler": null, "hr_second_pass_steps": 0, "hr_resize_x": 0,
        "hr_resize_y": 0, "hr_checkpoint_name": null, "hr_sampler_name": null,
        "hr_scheduler": null, "hr_prompt": "", "hr_negative_prompt": "",
        "force_task_id": null, "sampler_index": "Euler", "script_name": null,
        "script_args": [], "send_images": true, "save_images": false,
        "alwayson_scripts": {}, "infotext": null
    })");
    return defaults;
}

const json &img2img_defaults() {
    static const json defaults = [] {
        json d = txt2img_defaults();
        for (const char *key : {"enable_hr", "firstphase_width", "firstphase_height", "hr_scale",
                                "hr_upscaler", "hr_second_pass_steps", "hr_resize_x", "hr_resize_y",
                                "hr_checkpoint_name", "hr_sampler_name", "hr_scheduler", "hr_prompt",
                                "hr_negative_prompt", "firstpass_image"})
            d.erase(key);
        d.update(json::parse(R"({
            "init_images": null, "resize_mode": 0, "denoising_strength": 0.75,
            "image_cfg_scale": null, "mask": null, "mask_blur_x": 4, "mask_blur_y": 4,
            "mask_blur": null, "mask_round": true, "inpainting_fill": 0,
            "inpaint_full_res": true, "inpaint_full_res_padding": 0,
            "inpainting_mask_invert": 0, "initial_noise_multiplier": null,
            "latent_mask": null, "include_init_images": false
        })"));
        return d;
    }();
    return defaults;
}

json echo_parameters(const json &body, bool img2img) {
    json parameters = img2img ? img2img_defaults() : txt2img_defaults();
    for (auto &[key, value] : parameters.items())
        if (auto it = body.find(key); it != body.end()) value = *it;
    if (img2img && !truthy(parameters["include_init_images"])) {
        parameters["init_images"] = nullptr;
        parameters["mask"] = nullptr;
    }
    return parameters;
}

const json &or_default(const json &body, const char *name, const json &defaults) {
    if (const json *value = present(body, name)) return *value;
    return defaults.at(name);
}

int checked_size(const json &body, const char *name, const ApiLimits &limits) {
    int64_t value = integer(body, name).value_or(512);
    if (value < limits.min_size || value > limits.max_size)
        refuse(name, std::string(name) + " must be in [" + std::to_string(limits.min_size) + ", " +
                         std::to_string(limits.max_size) + "]");
    if (value % 8 != 0) refuse(name, std::string(name) + " must be a multiple of 8");
    return static_cast<int>(value);
}

bool is_operation_served(const ModelDescription &model, Operation op) {
    return std::find(model.operations.begin(), model.operations.end(), op) != model.operations.end();
}

A1111Job translate(std::string_view text, const ModelDescription &model, const ApiLimits &limits,
                   bool img2img) {
    auto parsed = parse_bounded_json(text);
    if (auto *refusal = std::get_if<JsonRefusal>(&parsed)) refuse(refusal->field, refusal->message);
    json body = std::move(std::get<json>(parsed));
    if (!body.is_object()) refuse("", "the request body must be a JSON object");
    const json &defaults = img2img ? img2img_defaults() : txt2img_defaults();

    refuse_unsupported(body, img2img);
    ResolvedSampler sampler = resolve_sampler(body, model);

    json native;
    native["prompt"] = or_default(body, "prompt", defaults);
    native["negative_prompt"] = or_default(body, "negative_prompt", defaults);
    native["steps"] = or_default(body, "steps", defaults);
    native["guidance_scale"] = or_default(body, "cfg_scale", defaults);
    native["seed"] = or_default(body, "seed", defaults);
    native["scheduler"] = sampler.native;
    native["num_images"] = image_count(body);
    native["preview"] = true;

    json clip_skip = 1;
    std::string rng = "cpu";
    if (const json *overrides = present(body, "override_settings")) {
        if (!overrides->is_object()) refuse("override_settings", "override_settings must be an object");
        if (const json *v = present(*overrides, "CLIP_stop_at_last_layers")) {
            native["clip_skip"] = *v;
            clip_skip = *v;
        }
        if (const json *v = present(*overrides, "randn_source")) {
            if (*v == "CPU") rng = "cpu";
            else if (*v == "GPU") rng = "cuda";
            else
                refuse("override_settings.randn_source",
                       "override_settings.randn_source must be CPU or GPU (NV is not supported)");
            native["rng"] = rng;
        }
        if (const json *v = present(*overrides, "sd_model_checkpoint")) {
            if (!v->is_string() || (v->get<std::string>() != model.name))
                refuse("override_settings.sd_model_checkpoint",
                       "override_settings.sd_model_checkpoint must name the loaded model, " + model.name);
        }
        if (const json *v = present(*overrides, "eta_noise_seed_delta"))
            if (truthy(*v))
                refuse("override_settings.eta_noise_seed_delta",
                       "override_settings.eta_noise_seed_delta other than 0 is not supported here");
    }

    Operation operation = Operation::txt2img;
    json width, height;
    json denoising = nullptr;
    if (!img2img) {
        width = or_default(body, "width", defaults);
        height = or_default(body, "height", defaults);
        native["width"] = width;
        native["height"] = height;
        if (!is_operation_served(model, Operation::txt2img))
            refuse("", "this model serves no txt2img (it is an inpainting model): use img2img with a mask");
    } else {
        const json *images = present(body, "init_images");
        if (!images) refuse("init_images", "img2img requires init_images");
        if (!images->is_array()) refuse("init_images", "init_images must be a list of base64 PNG images");
        if (images->empty()) refuse("init_images", "init_images is empty");
        if (images->size() > 1) refuse("init_images", "init_images holds more than one image; one is supported");
        if (!(*images)[0].is_string()) refuse("init_images", "init_images[0] must be a base64 string");
        const json *mask = present(body, "mask");
        if (mask && !mask->is_string()) refuse("mask", "mask must be a base64 string");
        if (mask && mask->get<std::string>().empty()) mask = nullptr;
        operation = mask ? Operation::inpaint : Operation::img2img;
        if (!is_operation_served(model, operation)) {
            if (operation == Operation::img2img && is_operation_served(model, Operation::inpaint))
                refuse("mask", "this is an inpainting model: img2img needs a mask");
            refuse(mask ? "mask" : "init_images",
                   std::string("this model does not serve ") + (mask ? "inpainting" : "img2img"));
        }

        const int64_t resize_mode = integer(body, "resize_mode").value_or(0);
        if (resize_mode != 0 && resize_mode != 1)
            refuse("resize_mode", "resize_mode must be 0 (just resize) or 1 (crop and resize); " +
                                      std::to_string(resize_mode) + " is not supported here");
        if (auto value = integer(body, "inpainting_fill")) {
            if (*value == 2 || *value == 3)
                refuse("inpainting_fill", "inpainting_fill " + std::to_string(*value) +
                                              " (latent noise / latent nothing) is not supported here; "
                                              "0 and 1 both start from the original image");
            if (*value != 0 && *value != 1) refuse("inpainting_fill", "inpainting_fill must be 0, 1, 2 or 3");
        }
        const int w = checked_size(body, "width", limits);
        const int h = checked_size(body, "height", limits);
        width = w;
        height = h;

        const std::string &init_text = (*images)[0].get_ref<const std::string &>();
        std::vector<uint8_t> init_png = decode_base64_field(init_text, "init_images");
        auto size = png_size(init_png);
        if (size && size->first == w && size->second == h) {
            native["init_image"] = init_text;  // the native parser strips a data: prefix
        } else {
            Image init = decode(init_png, false, limits, "init_images");
            native["init_image"] = png_base64(resize_for(init, w, h, static_cast<int>(resize_mode)));
        }

        if (mask) {
            Image grey = decode(decode_base64_field(mask->get<std::string>(), "mask"), true, limits, "mask");
            const json *round = present(body, "mask_round");
            const bool binarize = !round || truthy(*round);
            bool invert = false;
            if (const json *v = present(body, "inpainting_mask_invert")) {
                if (!(v->is_boolean() || v->is_number_integer()) || (v->is_number_integer() && *v != 0 && *v != 1))
                    refuse("inpainting_mask_invert", "inpainting_mask_invert must be 0 or 1");
                invert = truthy(*v);
            }
            for (uint8_t &p : grey.pixels) {
                if (binarize) p = p > 128 ? 255 : 0;
                if (invert) p = static_cast<uint8_t>(255 - p);
            }
            native["mask"] = png_base64(resize_for(grey, w, h, static_cast<int>(resize_mode)));
        }
        denoising = or_default(body, "denoising_strength", defaults);
        native["strength"] = denoising;
    }
    native["operation"] = std::string(to_string(operation));

    A1111Job job;
    job.native_body = native.dump();
    job.parameters = echo_parameters(body, img2img);

    json styles = or_default(body, "styles", defaults);
    const json &seed_resize_w = or_default(body, "seed_resize_from_w", defaults);
    const json &seed_resize_h = or_default(body, "seed_resize_from_h", defaults);
    job.info = {
        {"prompt", native["prompt"]},
        {"negative_prompt", native["negative_prompt"]},
        {"request_seed", native["seed"]},
        {"subseed", or_default(body, "subseed", defaults)},
        {"subseed_strength", or_default(body, "subseed_strength", defaults)},
        {"width", width},
        {"height", height},
        {"sampler_name", sampler.sampler->name},
        {"scheduler", sampler.karras ? "Karras" : "Automatic"},
        {"cfg_scale", native["guidance_scale"]},
        {"steps", native["steps"]},
        {"batch_size", or_default(body, "batch_size", defaults)},
        {"num_images", native["num_images"]},
        {"restore_faces", false},
        {"face_restoration_model", nullptr},
        {"sd_model_name", model.name},
        {"sd_model_hash", nullptr},
        {"sd_vae_name", nullptr},
        {"sd_vae_hash", nullptr},
        {"seed_resize_from_w", seed_resize_w},
        {"seed_resize_from_h", seed_resize_h},
        {"denoising_strength", denoising},
        {"extra_generation_params", {{"Schedule type", sampler.karras ? "Karras" : "Automatic"}}},
        {"index_of_first_image", 0},
        {"styles", styles.is_array() ? styles : json::array()},
        {"clip_skip", clip_skip},
        {"rng", rng},
        {"is_using_inpainting_conditioning", operation == Operation::inpaint && model.inpainting_unet},
        {"version", "sd-worker " + std::string(server_version())},
    };
    return job;
}

std::variant<A1111Job, FieldError> translate_boundary(std::string_view body, const ModelDescription &model,
                                                      const ApiLimits &limits, bool img2img) {
    try {
        return translate(body, model, limits, img2img);
    } catch (const FieldRefusal &refusal) {
        return refusal.error;
    }
}

// --- Answers ---------------------------------------------------------------------------

// A1111's infotext_utils.quote.
std::string quote(const std::string &text) {
    if (text.find_first_of(",\n:") == std::string::npos) return text;
    return json(text).dump();
}

std::string text_of(const json &value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
}

// A1111's create_infotext for one image (the fields sd-worker has).
std::string infotext(const json &info, const json &seed) {
    std::vector<std::pair<std::string, std::string>> params{
        {"Steps", text_of(info["steps"])},
        {"Sampler", text_of(info["sampler_name"])},
        {"Schedule type", text_of(info["scheduler"])},
        {"CFG scale", text_of(info["cfg_scale"])},
        {"Seed", text_of(seed)},
        {"Size", text_of(info["width"]) + "x" + text_of(info["height"])},
        {"Model", text_of(info["sd_model_name"])},
    };
    if (!info["denoising_strength"].is_null())
        params.emplace_back("Denoising strength", text_of(info["denoising_strength"]));
    if (info["clip_skip"].is_number() && info["clip_skip"].get<double>() > 1)
        params.emplace_back("Clip skip", text_of(info["clip_skip"]));
    params.emplace_back("RNG", info["rng"] == "cuda" ? "GPU" : "CPU");
    params.emplace_back("Version", text_of(info["version"]));
    std::string out = text_of(info["prompt"]);
    const std::string negative = text_of(info["negative_prompt"]);
    if (!negative.empty()) out += "\nNegative prompt: " + negative;
    out += "\n";
    for (size_t i = 0; i < params.size(); ++i)
        out += (i ? ", " : "") + params[i].first + ": " + quote(params[i].second);
    return out;
}

std::string timestamp(std::chrono::system_clock::time_point at) {
    std::time_t t = std::chrono::system_clock::to_time_t(at);
    std::tm parts{};
    gmtime_r(&t, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &parts);
    return text;
}

json list_of(const json &value, size_t n) { return json(std::vector<json>(n, value)); }

}  // namespace

std::variant<A1111Job, FieldError> translate_a1111_txt2img(std::string_view body, const ModelDescription &model,
                                                           const ApiLimits &limits) {
    return translate_boundary(body, model, limits, false);
}

std::variant<A1111Job, FieldError> translate_a1111_img2img(std::string_view body, const ModelDescription &model,
                                                           const ApiLimits &limits) {
    return translate_boundary(body, model, limits, true);
}

FieldError a1111_field_error(const FieldError &native) {
    static const std::map<std::string, std::string, std::less<>> fields{
        {"guidance_scale", "cfg_scale"},
        {"num_images", "batch_size"},
        {"init_image", "init_images"},
        {"strength", "denoising_strength"},
        {"scheduler", "sampler_name"},
        {"clip_skip", "override_settings.CLIP_stop_at_last_layers"},
        {"rng", "override_settings.randn_source"},
        {"operation", ""},
        {"preview", ""},
    };
    FieldError out;
    auto it = fields.find(native.field);
    out.field = it == fields.end() ? native.field : it->second;
    // The message names native fields as words; each one becomes its A1111 name.
    auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    const std::string &m = native.message;
    for (size_t i = 0; i < m.size();) {
        if (!word_char(m[i])) {
            out.message += m[i++];
            continue;
        }
        size_t end = i;
        while (end < m.size() && word_char(m[end])) ++end;
        std::string_view word(&m[i], end - i);
        auto found = fields.find(word);
        if (word == "num_images") out.message += "batch_size * n_iter";
        else if (found != fields.end() && !found->second.empty()) out.message += found->second;
        else out.message += word;
        i = end;
    }
    return out;
}

std::string a1111_generation_response(const A1111Job &job, const JobSnapshot &snapshot) {
    json info = job.info;
    const size_t n = snapshot.images.size();
    json seeds = json::array();
    for (const JobImage &image : snapshot.images) seeds.push_back(image.seed);
    json seed = n ? seeds[0] : info["request_seed"];
    if (!seed.is_number_integer()) seed = -1;
    const size_t count = n ? n : static_cast<size_t>(std::max(0, info.value("num_images", 1)));
    info["seed"] = seed;
    info["all_seeds"] = seeds;
    info["all_prompts"] = list_of(info["prompt"], count);
    info["all_negative_prompts"] = list_of(info["negative_prompt"], count);
    info["all_subseeds"] = list_of(info["subseed"], count);
    json infotexts = json::array();
    for (const json &s : seeds) infotexts.push_back(infotext(info, s));
    info["infotexts"] = infotexts;
    info["job_timestamp"] = timestamp(snapshot.started_at.value_or(snapshot.created_at));
    if (snapshot.state == JobState::cancelled)
        info["interrupted"] = snapshot.cancel_reason.empty() ? "interrupted" : snapshot.cancel_reason;
    for (const char *internal : {"request_seed", "num_images", "rng"}) info.erase(internal);

    json images = json::array();
    if (truthy(job.parameters.value("send_images", json(true))))
        for (const JobImage &image : snapshot.images)
            if (image.png) images.push_back(base64_encode(*image.png));
    json body{{"images", std::move(images)}, {"parameters", job.parameters}, {"info", info.dump()}};
    return body.dump();
}

std::string a1111_progress_body(const JobSnapshot *running, std::size_t queued_jobs,
                                const std::string &current_image_b64) {
    json state{{"skipped", false},       {"interrupted", false}, {"stopping_generation", false},
               {"job", ""},              {"job_count", queued_jobs}, {"job_timestamp", "0"},
               {"job_no", 0},            {"sampling_step", 0},   {"sampling_steps", 0}};
    double progress = 0, eta = 0;
    if (running) {
        const int step = std::max(0, running->step), total = std::max(0, running->total);
        progress = std::min(1.0, 0.01 + (total > 0 ? static_cast<double>(step) / total : 0.0));
        const auto start = running->started_at.value_or(running->created_at);
        const double elapsed =
            std::max(0.0, std::chrono::duration<double>(std::chrono::system_clock::now() - start).count());
        if (step > 0 && total >= step) eta = elapsed * (total - step) / step;
        state["job"] = "sd-worker";
        state["job_count"] = queued_jobs + 1;
        state["job_timestamp"] = timestamp(start);
        state["sampling_step"] = step;
        state["sampling_steps"] = total;
        state["interrupted"] = running->cancel_requested;
    }
    json body{{"progress", progress},
              {"eta_relative", eta},
              {"state", std::move(state)},
              {"current_image", running && !current_image_b64.empty() ? json(current_image_b64) : json(nullptr)},
              {"textinfo", nullptr},
              {"current_task", nullptr}};
    return body.dump();
}

std::string a1111_samplers_body(const ModelDescription &model) {
    json list = json::array();
    for (const Sampler &s : samplers()) {
        if (!offers(model, s.native)) continue;
        json aliases = json::array();
        for (const char *alias : s.aliases) aliases.push_back(alias);
        list.push_back({{"name", s.name}, {"aliases", aliases}, {"options", json::parse(s.options)}});
    }
    return list.dump();
}

std::string a1111_schedulers_body(const ModelDescription &model) {
    json list = json::array();
    list.push_back({{"name", "automatic"}, {"label", "Automatic"}, {"aliases", nullptr},
                    {"default_rho", -1.0}, {"need_inner_model", false}});
    bool karras = false;
    for (const Sampler &s : samplers()) karras = karras || offers(model, s.native_karras);
    if (karras)
        list.push_back({{"name", "karras"}, {"label", "Karras"}, {"aliases", nullptr},
                        {"default_rho", 7.0}, {"need_inner_model", false}});
    return list.dump();
}

std::string a1111_sd_models_body(const ModelDescription &model) {
    json list = json::array();
    list.push_back({{"title", model.name}, {"model_name", model.name}, {"hash", nullptr},
                    {"sha256", nullptr}, {"filename", model.path}, {"config", nullptr}});
    return list.dump();
}

std::string a1111_options_body(const ModelDescription &model) {
    json options{{"sd_model_checkpoint", model.name},
                 {"sd_checkpoint_hash", nullptr},
                 {"sd_vae", "Automatic"},
                 {"CLIP_stop_at_last_layers", 1},
                 {"samples_format", "png"},
                 {"show_progress_every_n_steps", 1},
                 {"live_previews_enable", true},
                 {"eta_noise_seed_delta", 0},
                 {"randn_source", "CPU"},
                 {"img2img_fix_steps", false}};
    return options.dump();
}

}  // namespace sdw
