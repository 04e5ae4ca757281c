// The AUTOMATIC1111 translation (server/a1111_api.h): request mapping and refusals, the
// native parser's view of the bodies it makes, and the answers' bodies.
#include "server/a1111_api.h"

#include "image/base64.h"
#include "image/image_resize.h"
#include "image/png.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sdw {
namespace {

using json = nlohmann::json;

ModelDescription test_model() {
    ModelDescription model;
    model.name = "sd-shapes";
    model.path = "/models/sd-shapes";
    model.default_width = 64;
    model.default_height = 64;
    return model;  // schedulers empty: default_scheduler_names()
}

A1111Job txt2img(const json &body, const ModelDescription &model = test_model()) {
    auto result = translate_a1111_txt2img(body.dump(), model);
    if (auto *error = std::get_if<FieldError>(&result))
        ADD_FAILURE() << "refused: " << error->field << ": " << error->message;
    return std::holds_alternative<A1111Job>(result) ? std::get<A1111Job>(result) : A1111Job{};
}

A1111Job img2img(const json &body, const ModelDescription &model = test_model()) {
    auto result = translate_a1111_img2img(body.dump(), model);
    if (auto *error = std::get_if<FieldError>(&result))
        ADD_FAILURE() << "refused: " << error->field << ": " << error->message;
    return std::holds_alternative<A1111Job>(result) ? std::get<A1111Job>(result) : A1111Job{};
}

FieldError txt2img_error(const json &body, const ModelDescription &model = test_model()) {
    auto result = translate_a1111_txt2img(body.dump(), model);
    if (auto *error = std::get_if<FieldError>(&result)) return *error;
    ADD_FAILURE() << "accepted: " << body.dump();
    return {};
}

FieldError img2img_error(const json &body, const ModelDescription &model = test_model()) {
    auto result = translate_a1111_img2img(body.dump(), model);
    if (auto *error = std::get_if<FieldError>(&result)) return *error;
    ADD_FAILURE() << "accepted";
    return {};
}

json native(const A1111Job &job) { return json::parse(job.native_body); }

GenerationRequest parsed(const A1111Job &job, const ModelDescription &model = test_model()) {
    auto result = parse_generation_request(job.native_body, model, ApiLimits{}, [] { return uint64_t{77}; });
    if (auto *error = std::get_if<FieldError>(&result))
        ADD_FAILURE() << "native parser refused " << error->field << ": " << error->message;
    return std::holds_alternative<GenerationRequest>(result) ? std::get<GenerationRequest>(result)
                                                             : GenerationRequest{};
}

Image gradient(int width, int height, int channels) {
    Image img;
    img.width = width;
    img.height = height;
    img.channels = channels;
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < channels; ++c)
                img.pixels.push_back(static_cast<uint8_t>((x * 7 + y * 13 + c * 50) % 256));
    return img;
}

std::string png_b64(const Image &img) { return base64_encode(encode_png(img)); }

Image decode_b64(const json &text, bool grey) {
    auto bytes = base64_decode(text.get<std::string>());
    EXPECT_TRUE(bytes.has_value());
    return grey ? decode_png_grey(bytes->data(), bytes->size()) : decode_png(bytes->data(), bytes->size());
}

// What webuiapi 0.9.17's WebUIApi.txt2img() posts with its defaults (prompt and size set).
json webuiapi_txt2img() {
    return json::parse(R"({
        "enable_hr": false, "hr_scale": 2, "hr_upscaler": "Latent", "hr_second_pass_steps": 0,
        "hr_resize_x": 0, "hr_resize_y": 0, "hr_checkpoint_name": null, "hr_sampler_name": null,
        "hr_scheduler": null, "hr_prompt": "", "hr_negative_prompt": "", "denoising_strength": 0.7,
        "firstphase_width": 0, "firstphase_height": 0, "prompt": "a red circle", "styles": [],
        "seed": 42, "subseed": -1, "subseed_strength": 0.0, "seed_resize_from_h": 0,
        "seed_resize_from_w": 0, "batch_size": 1, "n_iter": 1, "steps": 20, "cfg_scale": 7.0,
        "width": 64, "height": 64, "restore_faces": false, "tiling": false,
        "do_not_save_samples": false, "do_not_save_grid": false, "negative_prompt": "", "eta": 1.0,
        "s_churn": 0, "s_tmax": 0, "s_tmin": 0, "s_noise": 1, "override_settings": {},
        "override_settings_restore_afterwards": true, "sampler_name": "Euler a",
        "scheduler": "automatic", "sampler_index": "Euler a", "script_name": null,
        "script_args": [], "send_images": true, "save_images": false, "alwayson_scripts": {}
    })");
}

// --- txt2img ---------------------------------------------------------------------------

TEST(A1111Translate, MinimalTxt2imgTakesA1111Defaults) {
    A1111Job job = txt2img({{"prompt", "a cat"}});
    json body = native(job);
    EXPECT_EQ(body["operation"], "txt2img");
    EXPECT_EQ(body["prompt"], "a cat");
    EXPECT_EQ(body["negative_prompt"], "");
    EXPECT_EQ(body["steps"], 50);
    EXPECT_EQ(body["guidance_scale"], 7.0);
    EXPECT_EQ(body["width"], 512);
    EXPECT_EQ(body["height"], 512);
    EXPECT_EQ(body["seed"], -1);
    EXPECT_EQ(body["scheduler"], "euler");  // sampler_index's default, "Euler"
    EXPECT_EQ(body["num_images"], 1);
    EXPECT_EQ(body["preview"], true);
    GenerationRequest request = parsed(job);
    EXPECT_EQ(request.steps, 50);
    EXPECT_EQ(request.seed, 77u);  // -1: the server's random seed
    EXPECT_EQ(request.preview_every, 1);

    // No prompt at all: A1111's "".
    EXPECT_EQ(native(txt2img(json::object()))["prompt"], "");
}

TEST(A1111Translate, WebuiapiDefaultsAreAcceptedAndMapped) {
    A1111Job job = txt2img(webuiapi_txt2img());
    json body = native(job);
    EXPECT_EQ(body["scheduler"], "euler_a");
    EXPECT_EQ(body["seed"], 42);
    EXPECT_EQ(body["steps"], 20);
    EXPECT_EQ(body["width"], 64);
    GenerationRequest request = parsed(job);
    EXPECT_EQ(request.scheduler, "euler_a");
    EXPECT_EQ(request.seed, 42u);
    EXPECT_FLOAT_EQ(request.guidance_scale, 7.0f);
    EXPECT_EQ(request.width, 64);
    EXPECT_EQ(request.rng, "cpu");
    EXPECT_EQ(request.clip_skip, 1);
}

TEST(A1111Translate, SamplerNamesAndAliasesMapToNativeSchedulers) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"Euler a", "euler_a"},       {"k_euler_a", "euler_a"},   {"k_euler_ancestral", "euler_a"},
        {"euler A", "euler_a"},       {"Euler", "euler"},         {"k_euler", "euler"},
        {"LMS", "lms"},               {"k_lms", "lms"},           {"DDIM", "ddim"},
        {"ddim", "ddim"},             {"PLMS", "pndm"},           {"plms", "pndm"},
        {"DPM++ 2M", "dpmpp_2m"},     {"k_dpmpp_2m", "dpmpp_2m"}, {"DPM++ 2M Karras", "dpmpp_2m_karras"},
        {"k_dpmpp_2m_ka", "dpmpp_2m_karras"}, {"dpm++ 2m karras", "dpmpp_2m_karras"},
        {"LCM", "lcm"},               {"k_lcm", "lcm"},
    };
    for (const auto &[name, expected] : cases) {
        A1111Job job = txt2img({{"prompt", "x"}, {"sampler_name", name}});
        EXPECT_EQ(native(job)["scheduler"], expected) << name;
        EXPECT_EQ(parsed(job).scheduler, expected) << name;
    }
}

TEST(A1111Translate, SchedulerFieldSelectsKarras) {
    EXPECT_EQ(native(txt2img({{"sampler_name", "DPM++ 2M"}, {"scheduler", "Karras"}}))["scheduler"],
              "dpmpp_2m_karras");
    EXPECT_EQ(native(txt2img({{"sampler_name", "DPM++ 2M"}, {"scheduler", "karras"}}))["scheduler"],
              "dpmpp_2m_karras");
    EXPECT_EQ(native(txt2img({{"sampler_name", "DPM++ 2M"}, {"scheduler", "Automatic"}}))["scheduler"],
              "dpmpp_2m");
    EXPECT_EQ(native(txt2img({{"sampler_name", "DPM++ 2M"}, {"scheduler", "automatic"}}))["scheduler"],
              "dpmpp_2m");
    EXPECT_EQ(native(txt2img({{"sampler_name", "DPM++ 2M"}, {"scheduler", ""}}))["scheduler"], "dpmpp_2m");
    // "DPM++ 2M Karras" is Karras whatever the field says.
    EXPECT_EQ(native(txt2img({{"sampler_name", "DPM++ 2M Karras"}, {"scheduler", "Automatic"}}))["scheduler"],
              "dpmpp_2m_karras");

    FieldError e = txt2img_error({{"sampler_name", "Euler"}, {"scheduler", "Karras"}});
    EXPECT_EQ(e.field, "scheduler");
    EXPECT_NE(e.message.find("Karras"), std::string::npos) << e.message;
    EXPECT_EQ(txt2img_error({{"sampler_name", "Euler a Karras"}}).field, "sampler_name");
    EXPECT_EQ(txt2img_error({{"sampler_name", "DPM++ 2M Exponential"}}).field, "sampler_name");
    EXPECT_EQ(txt2img_error({{"sampler_name", "DPM++ 2M"}, {"scheduler", "Uniform"}}).field, "scheduler");
    EXPECT_EQ(txt2img_error({{"sampler_name", "Euler"}, {"scheduler", "bogus"}}).field, "scheduler");
    EXPECT_EQ(txt2img_error({{"scheduler", 3}}).field, "scheduler");
}

TEST(A1111Translate, UnknownSamplersAreRefusedWithTheList) {
    FieldError e = txt2img_error({{"sampler_name", "Heun"}});
    EXPECT_EQ(e.field, "sampler_name");
    EXPECT_NE(e.message.find("must be one of"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("Euler a"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("DPM++ 2M Karras"), std::string::npos) << e.message;
    EXPECT_EQ(txt2img_error({{"sampler_name", 5}}).field, "sampler_name");
}

TEST(A1111Translate, SamplerIndexIsTheFallback) {
    EXPECT_EQ(native(txt2img({{"sampler_index", "DDIM"}}))["scheduler"], "ddim");
    // sampler_name wins; an empty one falls back, as A1111's `sampler_name or sampler_index`.
    EXPECT_EQ(native(txt2img({{"sampler_name", "LMS"}, {"sampler_index", "DDIM"}}))["scheduler"], "lms");
    EXPECT_EQ(native(txt2img({{"sampler_name", ""}, {"sampler_index", "DDIM"}}))["scheduler"], "ddim");
    EXPECT_EQ(txt2img_error({{"sampler_index", "Heun"}}).field, "sampler_index");
    EXPECT_EQ(txt2img_error({{"sampler_index", 0}}).field, "sampler_index");
}

TEST(A1111Translate, OnlyTheModelsSchedulersAreAccepted) {
    ModelDescription model = test_model();
    model.schedulers = {"ddim", "dpmpp_2m"};
    FieldError e = txt2img_error({{"sampler_name", "Euler a"}}, model);
    EXPECT_EQ(e.field, "sampler_name");
    EXPECT_NE(e.message.find("it offers DPM++ 2M, DDIM"), std::string::npos) << e.message;
    e = txt2img_error({{"sampler_name", "DPM++ 2M"}, {"scheduler", "Karras"}}, model);
    EXPECT_EQ(e.field, "scheduler");
    EXPECT_EQ(txt2img_error({{"sampler_name", "DPM++ 2M Karras"}}, model).field, "sampler_name");
    // Without a sampler named: "Euler" is not offered, the first offered one is used.
    EXPECT_EQ(native(txt2img({{"prompt", "x"}}, model))["scheduler"], "dpmpp_2m");
    EXPECT_EQ(parsed(txt2img({{"prompt", "x"}}, model), model).scheduler, "dpmpp_2m");
}

TEST(A1111Translate, BatchSizeTimesNIterIsNumImages) {
    EXPECT_EQ(native(txt2img({{"batch_size", 2}, {"n_iter", 3}}))["num_images"], 6);
    EXPECT_EQ(native(txt2img({{"batch_size", 4}}))["num_images"], 4);
    EXPECT_EQ(native(txt2img({{"n_iter", 2}}))["num_images"], 2);
    EXPECT_EQ(txt2img_error({{"batch_size", 0}}).field, "batch_size");
    EXPECT_EQ(txt2img_error({{"n_iter", -1}}).field, "n_iter");
    EXPECT_EQ(txt2img_error({{"batch_size", "two"}}).field, "batch_size");
}

TEST(A1111Translate, OverrideSettings) {
    A1111Job job = txt2img({{"override_settings", {{"CLIP_stop_at_last_layers", 2}}}});
    EXPECT_EQ(native(job)["clip_skip"], 2);
    EXPECT_EQ(parsed(job).clip_skip, 2);
    EXPECT_EQ(parsed(txt2img({{"override_settings", {{"randn_source", "GPU"}}}})).rng, "cuda");
    EXPECT_EQ(parsed(txt2img({{"override_settings", {{"randn_source", "CPU"}}}})).rng, "cpu");
    EXPECT_EQ(txt2img_error({{"override_settings", {{"randn_source", "NV"}}}}).field,
              "override_settings.randn_source");
    txt2img({{"override_settings", {{"sd_model_checkpoint", "sd-shapes"}, {"sd_vae", "Automatic"}}}});
    EXPECT_EQ(txt2img_error({{"override_settings", {{"sd_model_checkpoint", "other.safetensors"}}}}).field,
              "override_settings.sd_model_checkpoint");
    EXPECT_EQ(txt2img_error({{"override_settings", {{"eta_noise_seed_delta", 31337}}}}).field,
              "override_settings.eta_noise_seed_delta");
    txt2img({{"override_settings", {{"eta_noise_seed_delta", 0}}}});
    EXPECT_EQ(txt2img_error({{"override_settings", "no"}}).field, "override_settings");
}

TEST(A1111Translate, PictureChangingFieldsAreRefused) {
    const std::vector<std::pair<json, std::string>> cases{
        {{{"enable_hr", true}}, "enable_hr"},
        {{{"subseed_strength", 0.5}}, "subseed_strength"},
        {{{"seed_resize_from_w", 256}, {"seed_resize_from_h", 256}}, "seed_resize_from_w"},
        {{{"restore_faces", true}}, "restore_faces"},
        {{{"tiling", true}}, "tiling"},
        {{{"s_churn", 0.5}}, "s_churn"},
        {{{"s_noise", 0.9}}, "s_noise"},
        {{{"s_min_uncond", 1}}, "s_min_uncond"},
        {{{"script_name", "x/y/z plot"}}, "script_name"},
        {{{"refiner_checkpoint", "refiner.safetensors"}}, "refiner_checkpoint"},
        {{{"infotext", "a cat\nSteps: 20"}}, "infotext"},
        {{{"alwayson_scripts", {{"ControlNet", {{"args", {{{"enabled", true}}}}}}}}}, "alwayson_scripts"},
        {{{"firstphase_width", 256}}, "firstphase_width"},
    };
    for (const auto &[body, field] : cases) EXPECT_EQ(txt2img_error(body).field, field) << body.dump();
}

TEST(A1111Translate, HarmlessFieldsAreAcceptedAndIgnored) {
    json body = webuiapi_txt2img();
    body["styles"] = {"my style"};
    body["subseed"] = 1234;
    body["eta"] = 0.3;
    body["s_tmax"] = 5;
    body["seed_resize_from_w"] = 256;  // only both > 0 resize the seed
    body["alwayson_scripts"] = {{"ControlNet", {{"args", json::array()}}}, {"ADetailer", {{"args", {false}}}}};
    body["refiner_checkpoint"] = "None";
    body["some_future_field"] = {1, 2};
    body["hr_upscaler"] = "Lanczos";  // hr_* without enable_hr
    A1111Job job = txt2img(body);
    parsed(job);
}

TEST(A1111Translate, BodiesThatAreNotObjectsAreRefusedAsAWhole) {
    for (const char *text : {"[]", "\"x\"", "12", "null", "{", ""}) {
        auto result = translate_a1111_txt2img(text, test_model());
        ASSERT_TRUE(std::holds_alternative<FieldError>(result)) << text;
        EXPECT_EQ(std::get<FieldError>(result).field, "") << text;
        result = translate_a1111_img2img(text, test_model());
        ASSERT_TRUE(std::holds_alternative<FieldError>(result)) << text;
        EXPECT_EQ(std::get<FieldError>(result).field, "") << text;
    }
}

TEST(A1111Translate, ParametersEchoTheRequestWithDefaults) {
    A1111Job job = txt2img({{"prompt", "a cat"}, {"steps", 12}, {"sampler_name", "DDIM"}, {"unknown", 1}});
    EXPECT_EQ(job.parameters["prompt"], "a cat");
    EXPECT_EQ(job.parameters["steps"], 12);
    EXPECT_EQ(job.parameters["sampler_name"], "DDIM");
    EXPECT_EQ(job.parameters["cfg_scale"], 7.0);
    EXPECT_EQ(job.parameters["width"], 512);
    EXPECT_EQ(job.parameters["batch_size"], 1);
    EXPECT_EQ(job.parameters["enable_hr"], false);
    EXPECT_EQ(job.parameters["sampler_index"], "Euler");
    EXPECT_EQ(job.parameters["send_images"], true);
    EXPECT_FALSE(job.parameters.contains("unknown"));
    EXPECT_FALSE(job.parameters.contains("init_images"));
}

// --- img2img ---------------------------------------------------------------------------

TEST(A1111Translate, Img2imgOfTheSameSizePassesTheImageOn) {
    const std::string init = "data:image/png;base64," + png_b64(gradient(64, 64, 3));
    A1111Job job = img2img({{"init_images", {init}}, {"width", 64}, {"height", 64}, {"prompt", "p"}});
    json body = native(job);
    EXPECT_EQ(body["operation"], "img2img");
    EXPECT_EQ(body["init_image"], init);
    EXPECT_EQ(body["strength"], 0.75);
    EXPECT_FALSE(body.contains("mask"));
    GenerationRequest request = parsed(job);
    EXPECT_EQ(request.operation, Operation::img2img);
    EXPECT_EQ(request.width, 64);
    EXPECT_FLOAT_EQ(request.strength, 0.75f);
    EXPECT_EQ(request.init_image->pixels, gradient(64, 64, 3).pixels);
    // A1111 echoes no images unless include_init_images.
    EXPECT_TRUE(job.parameters["init_images"].is_null());
    EXPECT_EQ(job.parameters["denoising_strength"], 0.75);
    A1111Job echoed = img2img({{"init_images", {init}}, {"width", 64}, {"height", 64},
                               {"include_init_images", true}});
    EXPECT_EQ(echoed.parameters["init_images"], json::array({init}));
}

TEST(A1111Translate, Img2imgResizesToWidthAndHeight) {
    const Image source = gradient(96, 80, 3);
    A1111Job job = img2img({{"init_images", {png_b64(source)}}, {"width", 64}, {"height", 72},
                            {"denoising_strength", 0.5}});
    Image sent = decode_b64(native(job)["init_image"], false);
    EXPECT_EQ(sent.width, 64);
    EXPECT_EQ(sent.height, 72);
    EXPECT_EQ(sent.pixels, resize_lanczos(source, 64, 72).pixels);
    EXPECT_EQ(native(job)["strength"], 0.5);
    GenerationRequest request = parsed(job);
    EXPECT_EQ(request.width, 64);
    EXPECT_EQ(request.height, 72);

    // Without width/height: A1111's 512x512.
    A1111Job defaulted = img2img({{"init_images", {png_b64(gradient(64, 64, 3))}}});
    EXPECT_EQ(parsed(defaulted).width, 512);

    A1111Job cropped = img2img({{"init_images", {png_b64(source)}}, {"width", 64}, {"height", 64},
                                {"resize_mode", 1}});
    EXPECT_EQ(decode_b64(native(cropped)["init_image"], false).pixels,
              resize_crop_lanczos(source, 64, 64).pixels);
}

TEST(A1111Translate, Img2imgRefusals) {
    const std::string init = png_b64(gradient(64, 64, 3));
    EXPECT_EQ(img2img_error({{"prompt", "x"}}).field, "init_images");
    EXPECT_EQ(img2img_error({{"init_images", json::array()}}).field, "init_images");
    EXPECT_EQ(img2img_error({{"init_images", {init, init}}}).field, "init_images");
    EXPECT_EQ(img2img_error({{"init_images", init}}).field, "init_images");
    EXPECT_EQ(img2img_error({{"init_images", {"not base64!"}}}).field, "init_images");
    EXPECT_EQ(img2img_error({{"init_images", {base64_encode(std::vector<uint8_t>{0xff, 0xd8, 0xff, 0xe0})}}}).field,
              "init_images");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"resize_mode", 2}}).field, "resize_mode");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"resize_mode", 3}}).field, "resize_mode");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"width", 60}}).field, "width");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"height", 100000}}).field, "height");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"initial_noise_multiplier", 1.5}}).field,
              "initial_noise_multiplier");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"mask", init}, {"inpainting_fill", 2}}).field,
              "inpainting_fill");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"mask", init}, {"inpainting_fill", 3}}).field,
              "inpainting_fill");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"mask", 7}}).field, "mask");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"mask", "%%"}}).field, "mask");
}

TEST(A1111Translate, OperationsTheModelDoesNotServeNameTheImageFields) {
    ModelDescription txt2img_only = test_model();
    txt2img_only.operations = {Operation::txt2img};
    const std::string init = png_b64(gradient(64, 64, 3));
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"width", 64}, {"height", 64}}, txt2img_only).field,
              "init_images");
    EXPECT_EQ(img2img_error({{"init_images", {init}}, {"mask", init}}, txt2img_only).field, "mask");

    ModelDescription inpainting = test_model();
    inpainting.operations = {Operation::inpaint};
    inpainting.inpainting_unet = true;
    EXPECT_EQ(img2img_error({{"init_images", {init}}}, inpainting).field, "mask");
    EXPECT_EQ(txt2img_error({{"prompt", "x"}}, inpainting).field, "");
}

TEST(A1111Translate, MasksAreThresholdedInvertedAndResized) {
    Image mask = gradient(64, 64, 1);  // values 0..255 across the image
    const std::string init = png_b64(gradient(64, 64, 3));
    A1111Job job = img2img({{"init_images", {init}}, {"mask", "data:image/png;base64," + png_b64(mask)},
                            {"width", 64}, {"height", 64}, {"mask_blur", 4}, {"inpainting_fill", 1},
                            {"inpaint_full_res", true}});
    json body = native(job);
    EXPECT_EQ(body["operation"], "inpaint");
    Image sent = decode_b64(body["mask"], true);
    ASSERT_EQ(sent.pixels.size(), mask.pixels.size());
    for (size_t i = 0; i < mask.pixels.size(); ++i)
        ASSERT_EQ(int(sent.pixels[i]), mask.pixels[i] > 128 ? 255 : 0) << i;
    GenerationRequest request = parsed(job);
    EXPECT_EQ(request.operation, Operation::inpaint);
    ASSERT_TRUE(request.mask.has_value());

    A1111Job inverted = img2img({{"init_images", {init}}, {"mask", png_b64(mask)}, {"width", 64},
                                 {"height", 64}, {"inpainting_mask_invert", 1}});
    sent = decode_b64(native(inverted)["mask"], true);
    for (size_t i = 0; i < mask.pixels.size(); ++i)
        ASSERT_EQ(int(sent.pixels[i]), mask.pixels[i] > 128 ? 0 : 255) << i;

    A1111Job grey = img2img({{"init_images", {init}}, {"mask", png_b64(mask)}, {"width", 64},
                             {"height", 64}, {"mask_round", false}});
    EXPECT_EQ(decode_b64(native(grey)["mask"], true).pixels, mask.pixels);

    // A mask of another size than the init image: both resized to width x height.
    Image small_mask = gradient(32, 32, 1);
    A1111Job resized = img2img({{"init_images", {png_b64(gradient(96, 96, 3))}},
                                {"mask", png_b64(small_mask)}, {"width", 64}, {"height", 64}});
    Image expected = small_mask;
    for (uint8_t &p : expected.pixels) p = p > 128 ? 255 : 0;
    expected = resize_lanczos(expected, 64, 64);
    EXPECT_EQ(decode_b64(native(resized)["mask"], true).pixels, expected.pixels);
    EXPECT_EQ(parsed(resized).mask->width, 64);

    // An empty mask string is no mask (img2img).
    EXPECT_EQ(native(img2img({{"init_images", {init}}, {"mask", ""}, {"width", 64}, {"height", 64}}))["operation"],
              "img2img");
}

// --- Native errors renamed -------------------------------------------------------------

FieldError native_error(const A1111Job &job) {
    auto result = parse_generation_request(job.native_body, test_model(), ApiLimits{}, [] { return uint64_t{1}; });
    if (auto *error = std::get_if<FieldError>(&result)) return a1111_field_error(*error);
    ADD_FAILURE() << "native parser accepted " << job.native_body.substr(0, 200);
    return {};
}

TEST(A1111FieldError, NativeRefusalsNameA1111Fields) {
    FieldError e = native_error(txt2img({{"cfg_scale", 99}}));
    EXPECT_EQ(e.field, "cfg_scale");
    EXPECT_EQ(e.message, "cfg_scale must be in [0, 30.0]");
    e = native_error(txt2img({{"batch_size", 3}, {"n_iter", 3}}));
    EXPECT_EQ(e.field, "batch_size");
    EXPECT_EQ(e.message, "batch_size * n_iter must be in [1, 8]");
    e = native_error(txt2img({{"override_settings", {{"CLIP_stop_at_last_layers", 40}}}}));
    EXPECT_EQ(e.field, "override_settings.CLIP_stop_at_last_layers");
    EXPECT_EQ(native_error(txt2img({{"steps", 0}})).field, "steps");
    EXPECT_EQ(native_error(txt2img({{"width", 65}})).field, "width");
    EXPECT_EQ(native_error(txt2img({{"seed", -5}})).field, "seed");
    EXPECT_EQ(native_error(txt2img({{"prompt", 3}})).field, "prompt");
    e = native_error(img2img({{"init_images", {png_b64(gradient(64, 64, 3))}}, {"width", 64}, {"height", 64},
                              {"denoising_strength", 0}}));
    EXPECT_EQ(e.field, "denoising_strength");
    EXPECT_EQ(e.message, "denoising_strength must be in (0, 1]");

    e = a1111_field_error({"init_image", "init_image is 60x60, its width and height must be multiples of 8"});
    EXPECT_EQ(e.field, "init_images");
    EXPECT_EQ(e.message, "init_images is 60x60, its width and height must be multiples of 8");
    EXPECT_EQ(a1111_field_error({"scheduler", "scheduler must be one of ddim"}).field, "sampler_name");
    EXPECT_EQ(a1111_field_error({"rng", "rng must be cpu or cuda"}).field, "override_settings.randn_source");
    EXPECT_EQ(a1111_field_error({"operation", "this model serves txt2img only (operation inpaint)"}).field, "");
    EXPECT_EQ(a1111_field_error({"mask", "mask is 8x8 but init_image is 64x64"}).message,
              "mask is 8x8 but init_images is 64x64");
    EXPECT_EQ(a1111_field_error({"", "the request body is not valid JSON"}).field, "");
}

// --- Answers ---------------------------------------------------------------------------

JobImage job_image(uint64_t seed, const std::vector<uint8_t> &png) {
    JobImage image;
    image.seed = seed;
    image.width = 64;
    image.height = 64;
    image.png = std::make_shared<const std::vector<uint8_t>>(png);
    return image;
}

TEST(A1111Response, ImagesParametersAndInfo) {
    A1111Job job = txt2img({{"prompt", "a cat"}, {"negative_prompt", "dog"}, {"seed", 42}, {"steps", 20},
                            {"cfg_scale", 6.5}, {"width", 64}, {"height", 64}, {"batch_size", 2},
                            {"sampler_name", "Euler a"}});
    const std::vector<uint8_t> png = encode_png(gradient(64, 64, 3));
    JobSnapshot snapshot;
    snapshot.state = JobState::completed;
    snapshot.images = {job_image(42, png), job_image(42, png)};
    snapshot.created_at = std::chrono::system_clock::time_point{} + std::chrono::seconds(1700000000);

    json body = json::parse(a1111_generation_response(job, snapshot));
    ASSERT_EQ(body["images"].size(), 2u);
    EXPECT_EQ(*base64_decode(body["images"][0].get<std::string>()), png);
    EXPECT_EQ(body["parameters"], job.parameters);
    ASSERT_TRUE(body["info"].is_string());
    json info = json::parse(body["info"].get<std::string>());
    EXPECT_EQ(info["prompt"], "a cat");
    EXPECT_EQ(info["all_prompts"], json::array({"a cat", "a cat"}));
    EXPECT_EQ(info["negative_prompt"], "dog");
    EXPECT_EQ(info["all_negative_prompts"].size(), 2u);
    EXPECT_EQ(info["seed"], 42);
    EXPECT_EQ(info["all_seeds"], json::array({42, 42}));
    EXPECT_EQ(info["subseed"], -1);
    EXPECT_EQ(info["width"], 64);
    EXPECT_EQ(info["height"], 64);
    EXPECT_EQ(info["sampler_name"], "Euler a");
    EXPECT_EQ(info["scheduler"], "Automatic");
    EXPECT_EQ(info["cfg_scale"], 6.5);
    EXPECT_EQ(info["steps"], 20);
    EXPECT_EQ(info["batch_size"], 2);
    EXPECT_TRUE(info["denoising_strength"].is_null());
    EXPECT_EQ(info["sd_model_name"], "sd-shapes");
    EXPECT_EQ(info["clip_skip"], 1);
    EXPECT_EQ(info["job_timestamp"], "20231114221320");
    EXPECT_EQ(info["index_of_first_image"], 0);
    EXPECT_FALSE(info.contains("request_seed"));
    ASSERT_EQ(info["infotexts"].size(), 2u);
    const std::string text = info["infotexts"][0];
    EXPECT_EQ(text.rfind("a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, "
                         "CFG scale: 6.5, Seed: 42, Size: 64x64, Model: sd-shapes",
                         0),
              0u)
        << text;

    A1111Job hidden = txt2img({{"prompt", "a cat"}, {"send_images", false}});
    EXPECT_TRUE(json::parse(a1111_generation_response(hidden, snapshot))["images"].empty());
}

TEST(A1111Response, Img2imgInfoHasTheStrengthAndKarras) {
    A1111Job job = img2img({{"init_images", {png_b64(gradient(64, 64, 3))}}, {"width", 64}, {"height", 64},
                            {"denoising_strength", 0.6}, {"sampler_name", "DPM++ 2M"}, {"scheduler", "Karras"},
                            {"override_settings", {{"CLIP_stop_at_last_layers", 2}}}});
    JobSnapshot snapshot;
    snapshot.state = JobState::completed;
    snapshot.images = {job_image(9, encode_png(gradient(64, 64, 3)))};
    json info = json::parse(json::parse(a1111_generation_response(job, snapshot))["info"].get<std::string>());
    EXPECT_EQ(info["denoising_strength"], 0.6);
    EXPECT_EQ(info["sampler_name"], "DPM++ 2M");
    EXPECT_EQ(info["scheduler"], "Karras");
    EXPECT_EQ(info["clip_skip"], 2);
    const std::string text = info["infotexts"][0];
    EXPECT_NE(text.find("Schedule type: Karras"), std::string::npos) << text;
    EXPECT_NE(text.find("Denoising strength: 0.6"), std::string::npos) << text;
    EXPECT_NE(text.find("Clip skip: 2"), std::string::npos) << text;
}

TEST(A1111Response, AnInterruptedJobHasNoImages) {
    A1111Job job = txt2img({{"prompt", "a cat"}});
    JobSnapshot snapshot;
    snapshot.state = JobState::cancelled;
    snapshot.cancel_reason = "interrupted through /sdapi/v1/interrupt";
    json body = json::parse(a1111_generation_response(job, snapshot));
    EXPECT_TRUE(body["images"].empty());
    json info = json::parse(body["info"].get<std::string>());
    EXPECT_EQ(info["seed"], -1);
    EXPECT_TRUE(info["all_seeds"].empty());
    EXPECT_EQ(info["all_prompts"].size(), 1u);
    EXPECT_EQ(info["interrupted"], "interrupted through /sdapi/v1/interrupt");

    A1111Job fixed = txt2img({{"prompt", "a cat"}, {"seed", 5}});
    info = json::parse(json::parse(a1111_generation_response(fixed, snapshot))["info"].get<std::string>());
    EXPECT_EQ(info["seed"], 5);
}

TEST(A1111Progress, IdleAndRunning) {
    json idle = json::parse(a1111_progress_body(nullptr, 0, "ignored"));
    EXPECT_EQ(idle["progress"], 0.0);
    EXPECT_EQ(idle["eta_relative"], 0.0);
    EXPECT_EQ(idle["state"]["job_count"], 0);
    EXPECT_EQ(idle["state"]["sampling_step"], 0);
    EXPECT_TRUE(idle["current_image"].is_null());
    EXPECT_TRUE(idle.contains("textinfo"));
    EXPECT_EQ(json::parse(a1111_progress_body(nullptr, 2, ""))["state"]["job_count"], 2);

    JobSnapshot running;
    running.state = JobState::running;
    running.step = 5;
    running.total = 20;
    running.started_at = std::chrono::system_clock::now() - std::chrono::seconds(10);
    json body = json::parse(a1111_progress_body(&running, 1, "aGVsbG8="));
    EXPECT_NEAR(body["progress"].get<double>(), 0.26, 1e-9);
    EXPECT_NEAR(body["eta_relative"].get<double>(), 30.0, 1.0);  // 10 s for 5 steps, 15 to go
    EXPECT_EQ(body["state"]["job_count"], 2);
    EXPECT_EQ(body["state"]["job_no"], 0);
    EXPECT_EQ(body["state"]["sampling_step"], 5);
    EXPECT_EQ(body["state"]["sampling_steps"], 20);
    EXPECT_EQ(body["state"]["interrupted"], false);
    EXPECT_EQ(body["current_image"], "aGVsbG8=");

    running.step = 0;
    running.cancel_requested = true;
    body = json::parse(a1111_progress_body(&running, 0, ""));
    EXPECT_NEAR(body["progress"].get<double>(), 0.01, 1e-9);
    EXPECT_EQ(body["eta_relative"], 0.0);
    EXPECT_TRUE(body["current_image"].is_null());
    EXPECT_EQ(body["state"]["interrupted"], true);

    running.step = 20;
    EXPECT_EQ(json::parse(a1111_progress_body(&running, 0, ""))["progress"], 1.0);
}

TEST(A1111Lists, SamplersFollowTheModel) {
    json all = json::parse(a1111_samplers_body(test_model()));
    std::vector<std::string> names;
    for (const json &s : all) {
        names.push_back(s["name"]);
        EXPECT_TRUE(s["aliases"].is_array());
        EXPECT_TRUE(s["options"].is_object());
    }
    EXPECT_EQ(names, (std::vector<std::string>{"DPM++ 2M", "DPM++ 2M Karras", "Euler a", "Euler", "LMS", "DDIM",
                                               "PLMS", "LCM"}));
    EXPECT_EQ(all[2]["aliases"], json::array({"k_euler_a", "k_euler_ancestral"}));
    EXPECT_EQ(all[1]["options"], json({{"scheduler", "karras"}}));

    ModelDescription model = test_model();
    model.schedulers = {"ddim", "euler"};
    json some = json::parse(a1111_samplers_body(model));
    ASSERT_EQ(some.size(), 2u);
    EXPECT_EQ(some[0]["name"], "Euler");
    EXPECT_EQ(some[1]["name"], "DDIM");
    // Every listed name is accepted back.
    for (const json &s : all)
        EXPECT_TRUE(std::holds_alternative<A1111Job>(
            translate_a1111_txt2img(json{{"sampler_name", s["name"]}}.dump(), test_model())))
            << s["name"];
}

TEST(A1111Lists, SchedulersModelsAndOptions) {
    json schedulers = json::parse(a1111_schedulers_body(test_model()));
    ASSERT_EQ(schedulers.size(), 2u);
    EXPECT_EQ(schedulers[0]["name"], "automatic");
    EXPECT_EQ(schedulers[0]["label"], "Automatic");
    EXPECT_EQ(schedulers[1]["label"], "Karras");
    EXPECT_EQ(schedulers[1]["default_rho"], 7.0);
    for (const json &s : schedulers)
        for (const char *key : {"name", "label", "aliases", "default_rho", "need_inner_model"})
            EXPECT_TRUE(s.contains(key)) << key;
    ModelDescription model = test_model();
    model.schedulers = {"ddim", "dpmpp_2m"};
    EXPECT_EQ(json::parse(a1111_schedulers_body(model)).size(), 1u);

    json models = json::parse(a1111_sd_models_body(test_model()));
    ASSERT_EQ(models.size(), 1u);
    EXPECT_EQ(models[0]["title"], "sd-shapes");
    EXPECT_EQ(models[0]["model_name"], "sd-shapes");
    EXPECT_EQ(models[0]["filename"], "/models/sd-shapes");
    for (const char *key : {"hash", "sha256", "config"}) EXPECT_TRUE(models[0].contains(key)) << key;

    json options = json::parse(a1111_options_body(test_model()));
    EXPECT_EQ(options["sd_model_checkpoint"], models[0]["title"]);
    EXPECT_EQ(options["CLIP_stop_at_last_layers"], 1);
    EXPECT_EQ(options["samples_format"], "png");
    // The checkpoint options name is accepted back in override_settings.
    EXPECT_TRUE(std::holds_alternative<A1111Job>(translate_a1111_txt2img(
        json{{"override_settings", {{"sd_model_checkpoint", options["sd_model_checkpoint"]}}}}.dump(),
        test_model())));
}

}  // namespace
}  // namespace sdw
