#include "server/openai_images.h"

#include "../image/raw_png_writer.h"
#include "image/base64.h"
#include "image/png.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <png.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sdw {
namespace {

using json = nlohmann::json;
using namespace std::string_literals;

ModelDescription test_model() {
    ModelDescription model;
    model.name = "sd-shapes";
    model.default_width = 64;
    model.default_height = 64;
    return model;
}

OpenAiImageJob job_of(const std::variant<OpenAiImageJob, OpenAiError> &result) {
    if (const auto *error = std::get_if<OpenAiError>(&result)) {
        ADD_FAILURE() << "refused: " << error->message << " (param " << error->param << ")";
        return {};
    }
    return std::get<OpenAiImageJob>(result);
}

OpenAiError error_of(const std::variant<OpenAiImageJob, OpenAiError> &result) {
    if (const auto *error = std::get_if<OpenAiError>(&result)) return *error;
    ADD_FAILURE() << "accepted, native body " << std::get<OpenAiImageJob>(result).native_body;
    return {};
}

OpenAiImageJob generation(const json &body) { return job_of(translate_openai_generation(body.dump(), test_model())); }
OpenAiError generation_error(const std::string &body) {
    return error_of(translate_openai_generation(body, test_model()));
}
OpenAiError generation_error(const json &body) { return generation_error(body.dump()); }

// The translated body through the native parser, as the route does.
ParsedGeneration native(const OpenAiImageJob &job, const ModelDescription &model = test_model()) {
    return parse_generation_request(job.native_body, model, ApiLimits{}, [] { return uint64_t{42}; });
}

GenerationRequest native_ok(const OpenAiImageJob &job, const ModelDescription &model = test_model()) {
    auto parsed = native(job, model);
    if (auto *error = std::get_if<FieldError>(&parsed)) {
        ADD_FAILURE() << "native parser refused " << job.native_body << ": " << error->field << ": " << error->message;
        return {};
    }
    return std::get<GenerationRequest>(std::move(parsed));
}

// ---- PNGs and forms ---------------------------------------------------------------

Image rgb_image(int width, int height) {
    Image img;
    img.width = width;
    img.height = height;
    img.pixels.resize(size_t(width) * height * 3);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 7);
    return img;
}

std::string png_string(const std::vector<uint8_t> &bytes) { return {bytes.begin(), bytes.end()}; }
std::string rgb_png(int width, int height) { return png_string(encode_png(rgb_image(width, height))); }

// An RGBA PNG whose alpha at (x, y) is alpha(x, y).
template <typename Alpha>
std::string rgba_png(int width, int height, Alpha alpha) {
    test::RawPng spec;
    spec.width = width;
    spec.height = height;
    spec.bit_depth = 8;
    spec.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            spec.rows.insert(spec.rows.end(), {uint8_t(x), uint8_t(y), 9});
            spec.rows.push_back(static_cast<uint8_t>(alpha(x, y)));
        }
    return png_string(test::write_raw_png(spec));
}

struct Part {
    std::string name;
    std::string body;
    bool file = false;
};

const char *const kFormType = "multipart/form-data; boundary=sdw-test-boundary";

std::string form_body(const std::vector<Part> &parts) {
    std::string body;
    for (const auto &part : parts) {
        body += "--sdw-test-boundary\r\nContent-Disposition: form-data; name=\"" + part.name + "\"";
        if (part.file) body += "; filename=\"" + part.name + ".png\"\r\nContent-Type: image/png";
        body += "\r\n\r\n" + part.body + "\r\n";
    }
    return body + "--sdw-test-boundary--\r\n";
}

OpenAiImageJob edit(const std::vector<Part> &parts, const ModelDescription &model = test_model(),
                    const ApiLimits &limits = {}) {
    return job_of(translate_openai_edit(kFormType, form_body(parts), model, limits));
}

OpenAiError edit_error(const std::vector<Part> &parts, const ModelDescription &model = test_model(),
                       const ApiLimits &limits = {}) {
    return error_of(translate_openai_edit(kFormType, form_body(parts), model, limits));
}

Part image_part(const std::string &png) { return {"image", png, true}; }
Part mask_part(const std::string &png) { return {"mask", png, true}; }
Part prompt_part(const std::string &text = "a red square") { return {"prompt", text, false}; }

Image decode_base64_png_grey(const json &text) {
    auto bytes = base64_decode(text.get<std::string>());
    EXPECT_TRUE(bytes);
    return decode_png_grey(bytes->data(), bytes->size());
}

// ---- the error envelope -----------------------------------------------------------

TEST(OpenAiError, EnvelopeNullsEmptyParamAndCode) {
    OpenAiError error;
    error.message = "bad";
    EXPECT_EQ(json::parse(openai_error_body(error)),
              json::parse(R"({"error": {"message": "bad", "type": "invalid_request_error", "param": null, "code": null}})"));
    error.param = "size";
    error.code = "invalid_value";
    error.type = "server_error";
    EXPECT_EQ(json::parse(openai_error_body(error)),
              json::parse(R"({"error": {"message": "bad", "type": "server_error", "param": "size", "code": "invalid_value"}})"));
    error.message = "not UTF-8: \xff\xfe";
    json parsed;
    EXPECT_NO_THROW(parsed = json::parse(openai_error_body(error)));
    EXPECT_TRUE(parsed["error"]["message"].is_string());
}

TEST(OpenAiError, NativeFieldsAreRenamedToOpenAiParams) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"width", "size"}, {"height", "size"}, {"num_images", "n"}, {"init_image", "image"},
        {"prompt", "prompt"}, {"mask", "mask"}, {"operation", ""}, {"scheduler", ""}, {"", ""}};
    for (const auto &[field, param] : cases) {
        const OpenAiError error = openai_error_from_field(FieldError{field, "m"});
        EXPECT_EQ(error.param, param) << field;
        EXPECT_EQ(error.status, 400);
        EXPECT_EQ(error.type, "invalid_request_error");
        EXPECT_EQ(error.code, "invalid_value");
    }
    EXPECT_EQ(openai_error_from_field(FieldError{"init_image", "init_image is 60x60, its width and height must be "
                                                               "multiples of 8"})
                  .message,
              "image is 60x60, its width and height must be multiples of 8");
    EXPECT_EQ(openai_error_from_field(FieldError{"num_images", "num_images must be in [1, 8]"}).message,
              "n must be in [1, 8]");
    // Only whole words are renamed.
    EXPECT_EQ(openai_error_from_field(FieldError{"", "my_init_image and init_images"}).message,
              "my_init_image and init_images");
}

TEST(OpenAiError, JobOutcomes) {
    JobSnapshot failed;
    failed.state = JobState::failed;
    failed.error = JobError{"invalid_request", "mask is only used by inpaint", "mask"};
    OpenAiError error = openai_error_from_job(failed);
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.param, "mask");

    failed.error = JobError{"generation_failed", "plugin crashed", ""};
    error = openai_error_from_job(failed);
    EXPECT_EQ(error.status, 500);
    EXPECT_EQ(error.type, "server_error");
    EXPECT_EQ(error.code, "generation_failed");
    EXPECT_EQ(error.message, "plugin crashed");
    EXPECT_EQ(error.param, "");

    JobSnapshot cancelled;
    cancelled.state = JobState::cancelled;
    cancelled.cancel_reason = "server shutting down";
    error = openai_error_from_job(cancelled);
    EXPECT_EQ(error.status, 503);
    EXPECT_EQ(error.type, "server_error");
    EXPECT_EQ(error.code, "job_cancelled");
    EXPECT_NE(error.message.find("server shutting down"), std::string::npos);
}

TEST(OpenAiError, Authentication) {
    EXPECT_EQ(openai_authentication_error(true).status, 401);
    EXPECT_EQ(openai_authentication_error(true).code, "invalid_api_key");
    EXPECT_EQ(openai_authentication_error(false).status, 401);
    EXPECT_EQ(openai_authentication_error(false).code, "");
}

// ---- generations ------------------------------------------------------------------

TEST(OpenAiGeneration, MinimalRequestUsesTheDefaults) {
    const OpenAiImageJob job = generation({{"prompt", "a cat"}});
    EXPECT_EQ(json::parse(job.native_body), json::parse(R"({"operation": "txt2img", "prompt": "a cat"})"));
    EXPECT_EQ(job.response_format, "b64_json");
    EXPECT_EQ(job.prompt, "a cat");
    const GenerationRequest request = native_ok(job);
    EXPECT_EQ(request.width, 64);
    EXPECT_EQ(request.height, 64);
    EXPECT_EQ(request.num_images, 1);
}

TEST(OpenAiGeneration, SizeNAndFormat) {
    const OpenAiImageJob job = generation({{"prompt", "p"}, {"n", 2}, {"size", "128x64"}, {"response_format", "url"}});
    EXPECT_EQ(json::parse(job.native_body),
              json::parse(R"({"operation": "txt2img", "prompt": "p", "num_images": 2, "width": 128, "height": 64})"));
    EXPECT_EQ(job.response_format, "url");
    const GenerationRequest request = native_ok(job);
    EXPECT_EQ(request.width, 128);
    EXPECT_EQ(request.height, 64);
    EXPECT_EQ(request.num_images, 2);

    for (const json &unsized : {json("auto"), json(nullptr)}) {
        const json native_body = json::parse(generation({{"prompt", "p"}, {"size", unsized}}).native_body);
        EXPECT_FALSE(native_body.contains("width")) << unsized;
        EXPECT_FALSE(native_body.contains("height")) << unsized;
    }
    EXPECT_EQ(generation({{"prompt", "p"}, {"response_format", nullptr}, {"n", nullptr}}).response_format, "b64_json");
    EXPECT_EQ(generation({{"prompt", "p"}, {"response_format", "b64_json"}}).response_format, "b64_json");
}

TEST(OpenAiGeneration, MalformedSizesNameSize) {
    for (const char *size : {"512", "512x", "x512", "512X512", "512x512x", "-512x512", "512x-512", "123456x64",
                             "", " 512x512", "512 x 512", "axb", "0x1f", "+512x512", "512x512 "}) {
        const OpenAiError error = generation_error(json{{"prompt", "p"}, {"size", size}});
        EXPECT_EQ(error.status, 400) << size;
        EXPECT_EQ(error.param, "size") << size;
        EXPECT_EQ(error.code, "invalid_value") << size;
    }
    const OpenAiError error = generation_error(json{{"prompt", "p"}, {"size", 512}});
    EXPECT_EQ(error.param, "size");
    EXPECT_EQ(error.code, "invalid_type");
}

TEST(OpenAiGeneration, SizesTheNativeApiRefusesNameSize) {
    for (const char *size : {"500x512", "512x500", "32x32", "4096x512", "0x0"}) {
        auto parsed = native(generation({{"prompt", "p"}, {"size", size}}));
        ASSERT_TRUE(std::holds_alternative<FieldError>(parsed)) << size;
        const OpenAiError error = openai_error_from_field(std::get<FieldError>(parsed));
        EXPECT_EQ(error.param, "size") << size;
        EXPECT_EQ(error.status, 400);
    }
}

TEST(OpenAiGeneration, NOutsideTheLimitsNamesN) {
    for (int n : {0, -1, 9, 1000}) {
        auto parsed = native(generation({{"prompt", "p"}, {"n", n}}));
        ASSERT_TRUE(std::holds_alternative<FieldError>(parsed)) << n;
        const OpenAiError error = openai_error_from_field(std::get<FieldError>(parsed));
        EXPECT_EQ(error.param, "n");
        EXPECT_EQ(error.message, "n must be in [1, 8]");
    }
    auto parsed = native(generation({{"prompt", "p"}, {"n", uint64_t{1} << 63}}));
    ASSERT_TRUE(std::holds_alternative<FieldError>(parsed));
    EXPECT_EQ(openai_error_from_field(std::get<FieldError>(parsed)).param, "n");
    for (const json &n : {json(1.5), json("2"), json(true), json::array({1})}) {
        const OpenAiError error = generation_error(json{{"prompt", "p"}, {"n", n}});
        EXPECT_EQ(error.param, "n") << n;
        EXPECT_EQ(error.code, "invalid_type") << n;
    }
}

TEST(OpenAiGeneration, PromptIsRequired) {
    OpenAiError error = generation_error(json::object());
    EXPECT_EQ(error.param, "prompt");
    EXPECT_EQ(error.code, "missing_required_parameter");
    error = generation_error(json{{"prompt", nullptr}});
    EXPECT_EQ(error.code, "missing_required_parameter");
    error = generation_error(json{{"prompt", 5}});
    EXPECT_EQ(error.param, "prompt");
    EXPECT_EQ(error.code, "invalid_type");
    // Longer than the native limit: the native parser names it.
    auto parsed = native(generation({{"prompt", std::string(20000, 'a')}}));
    ASSERT_TRUE(std::holds_alternative<FieldError>(parsed));
    EXPECT_EQ(openai_error_from_field(std::get<FieldError>(parsed)).param, "prompt");
}

TEST(OpenAiGeneration, IgnoredAndUnknownFieldsAreAccepted) {
    const json body = {{"prompt", "p"},          {"model", "dall-e-3"},          {"quality", "hd"},
                       {"style", "vivid"},       {"user", "u-1"},                 {"safety_identifier", "s"},
                       {"moderation", "low"},    {"output_compression", 50},      {"partial_images", 0},
                       {"output_format", "png"}, {"background", "opaque"},        {"stream", false},
                       {"svg", {{"model", "x"}}}, {"a_field_from_2030", {1, 2, 3}}};
    const OpenAiImageJob job = generation(body);
    EXPECT_EQ(json::parse(job.native_body), json::parse(R"({"operation": "txt2img", "prompt": "p"})"));
    native_ok(job);
    EXPECT_EQ(json::parse(generation({{"prompt", "p"}, {"background", "auto"}, {"output_format", nullptr}}).native_body)
                  .size(),
              2u);
}

TEST(OpenAiGeneration, UnsupportedValuesAreRefusedByName) {
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"prompt", "p"}, {"response_format", "png"}}, "response_format"},
        {{{"prompt", "p"}, {"response_format", 1}}, "response_format"},
        {{{"prompt", "p"}, {"output_format", "webp"}}, "output_format"},
        {{{"prompt", "p"}, {"output_format", "jpeg"}}, "output_format"},
        {{{"prompt", "p"}, {"background", "transparent"}}, "background"},
        {{{"prompt", "p"}, {"background", "sky"}}, "background"},
        {{{"prompt", "p"}, {"stream", true}}, "stream"},
        {{{"prompt", "p"}, {"stream", "yes"}}, "stream"},
    };
    for (const auto &[body, param] : cases) {
        const OpenAiError error = generation_error(body);
        EXPECT_EQ(error.status, 400) << body;
        EXPECT_EQ(error.param, param) << body;
        EXPECT_FALSE(error.code.empty()) << body;
    }
    EXPECT_EQ(generation_error(json{{"prompt", "p"}, {"output_format", "webp"}}).code, "unsupported_value");
    EXPECT_EQ(generation_error(json{{"prompt", "p"}, {"response_format", "png"}}).code, "invalid_value");
}

TEST(OpenAiGeneration, BodiesThatAreNotJsonObjects) {
    for (const char *body : {"", "not json", "[1, 2]", "\"prompt\"", "null", "{\"prompt\": "}) {
        const OpenAiError error = generation_error(std::string(body));
        EXPECT_EQ(error.status, 400) << body;
        EXPECT_EQ(error.param, "") << body;
        EXPECT_EQ(error.code, "invalid_json") << body;
    }
    // A number beyond a double is blamed on its field; nesting past the bound on the body.
    const OpenAiError overflow = generation_error(std::string("{\"n\": 1e999}"));
    EXPECT_EQ(overflow.param, "n");
    EXPECT_EQ(overflow.code, "invalid_json");
    const OpenAiError deep = generation_error(std::string(1000, '['));
    EXPECT_EQ(deep.param, "");
    EXPECT_NE(deep.message.find("deeper than 32"), std::string::npos) << deep.message;
}

TEST(OpenAiGeneration, AModelWithoutTxt2imgIsRefusedByTheNativeParser) {
    ModelDescription inpainting = test_model();
    inpainting.operations = {Operation::inpaint};
    auto parsed = native(generation({{"prompt", "p"}}), inpainting);
    ASSERT_TRUE(std::holds_alternative<FieldError>(parsed));
    const OpenAiError error = openai_error_from_field(std::get<FieldError>(parsed));
    EXPECT_EQ(error.param, "");
    EXPECT_NE(error.message.find("inpaint only"), std::string::npos) << error.message;
}

// ---- edits ------------------------------------------------------------------------

TEST(OpenAiEdit, OpaqueImageWithoutMaskIsImg2img) {
    const std::string image = rgb_png(64, 72);
    const OpenAiImageJob job = edit({prompt_part(), image_part(image), {"n", "2", false}, {"model", "gpt-image-2", false}});
    const json native_body = json::parse(job.native_body);
    EXPECT_EQ(native_body["operation"], "img2img");
    EXPECT_EQ(native_body["prompt"], "a red square");
    EXPECT_EQ(native_body["num_images"], 2);
    EXPECT_EQ(native_body["init_image"], base64_encode(reinterpret_cast<const uint8_t *>(image.data()), image.size()));
    EXPECT_FALSE(native_body.contains("mask"));
    EXPECT_FALSE(native_body.contains("strength"));  // the native default
    EXPECT_FALSE(native_body.contains("width"));
    EXPECT_EQ(job.response_format, "b64_json");

    const GenerationRequest request = native_ok(job);
    EXPECT_EQ(request.operation, Operation::img2img);
    EXPECT_EQ(request.width, 64);
    EXPECT_EQ(request.height, 72);
    EXPECT_FLOAT_EQ(request.strength, 0.8f);
    ASSERT_TRUE(request.init_image);
    EXPECT_EQ(request.init_image->pixels, rgb_image(64, 72).pixels);

    // An RGBA image that is opaque everywhere (partial transparency is not "fully").
    const OpenAiImageJob translucent = edit({prompt_part(), image_part(rgba_png(64, 64, [](int x, int) { return 1 + x; }))});
    EXPECT_EQ(json::parse(translucent.native_body)["operation"], "img2img");
}

TEST(OpenAiEdit, MaskTransparencyBecomesTheNativeMaskPixelExactly) {
    // alpha: 0 in a 16x8 block at (8, 16), 128 in the next 8 columns, 255 elsewhere.
    auto alpha = [](int x, int y) {
        if (y >= 16 && y < 24 && x >= 8 && x < 24) return 0;
        if (y >= 16 && y < 24 && x >= 24 && x < 32) return 128;
        return 255;
    };
    const std::string image = rgb_png(64, 64);
    const OpenAiImageJob job = edit({image_part(image), mask_part(rgba_png(64, 64, alpha)), prompt_part("fill"),
                                     {"response_format", "url", false}, {"size", "64x64", false}});
    EXPECT_EQ(job.response_format, "url");
    const json native_body = json::parse(job.native_body);
    EXPECT_EQ(native_body["operation"], "inpaint");
    EXPECT_EQ(native_body["strength"], 1.0);
    const Image mask = decode_base64_png_grey(native_body["mask"]);
    ASSERT_EQ(mask.width, 64);
    ASSERT_EQ(mask.height, 64);
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x)
            ASSERT_EQ(mask.pixels[size_t(y) * 64 + x], alpha(x, y) == 0 ? 255 : 0) << x << "," << y;

    const GenerationRequest request = native_ok(job);
    EXPECT_EQ(request.operation, Operation::inpaint);
    EXPECT_FLOAT_EQ(request.strength, 1.0f);
    ASSERT_TRUE(request.mask);
    EXPECT_EQ(request.mask->pixels, mask.pixels);
    EXPECT_EQ(request.init_image->pixels, rgb_image(64, 64).pixels);
}

TEST(OpenAiEdit, GreyAlphaAndPaletteMasksWork) {
    test::RawPng grey_alpha;
    grey_alpha.width = 64;
    grey_alpha.height = 64;
    grey_alpha.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
    for (int i = 0; i < 64 * 64; ++i) grey_alpha.rows.insert(grey_alpha.rows.end(), {uint8_t(255), uint8_t(i < 64 ? 0 : 255)});
    Image mask = decode_base64_png_grey(json::parse(edit({image_part(rgb_png(64, 64)), prompt_part(),
                                                          mask_part(png_string(test::write_raw_png(grey_alpha)))})
                                                        .native_body)["mask"]);
    for (int i = 0; i < 64 * 64; ++i) ASSERT_EQ(mask.pixels[size_t(i)], i < 64 ? 255 : 0) << i;

    test::RawPng palette;
    palette.width = 64;
    palette.height = 64;
    palette.color_type = PNG_COLOR_TYPE_PALETTE;
    palette.palette = {0, 0, 0, 255, 255, 255};
    palette.palette_alpha = {0};  // entry 0 transparent, entry 1 opaque
    for (int i = 0; i < 64 * 64; ++i) palette.rows.push_back(uint8_t(i % 64 < 8 ? 0 : 1));
    mask = decode_base64_png_grey(json::parse(edit({image_part(rgb_png(64, 64)), prompt_part(),
                                                    mask_part(png_string(test::write_raw_png(palette)))})
                                                  .native_body)["mask"]);
    for (int i = 0; i < 64 * 64; ++i) ASSERT_EQ(mask.pixels[size_t(i)], i % 64 < 8 ? 255 : 0) << i;
}

TEST(OpenAiEdit, ImageTransparencyIsTheMaskWhenNoneIsSent) {
    auto alpha = [](int x, int) { return x < 8 ? 0 : 255; };
    const std::string image = rgba_png(64, 64, alpha);
    const OpenAiImageJob job = edit({image_part(image), prompt_part()});
    const json native_body = json::parse(job.native_body);
    EXPECT_EQ(native_body["operation"], "inpaint");
    EXPECT_EQ(native_body["init_image"], base64_encode(reinterpret_cast<const uint8_t *>(image.data()), image.size()));
    const Image mask = decode_base64_png_grey(native_body["mask"]);
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) ASSERT_EQ(mask.pixels[size_t(y) * 64 + x], x < 8 ? 255 : 0);
    const GenerationRequest request = native_ok(job);
    EXPECT_EQ(request.operation, Operation::inpaint);
    // The native parser drops the image's alpha: the colours under it are kept.
    EXPECT_EQ(request.init_image->pixels[0], 0);
    EXPECT_EQ(request.init_image->pixels[3 * 9], 9);
}

TEST(OpenAiEdit, ImageArrayNameAndFirstImage) {
    const std::string first = rgb_png(64, 64);
    const std::string second = rgb_png(72, 72);
    const OpenAiImageJob job = edit({prompt_part(), {"image[]", first, true}, {"image[]", second, true}});
    EXPECT_EQ(json::parse(job.native_body)["init_image"],
              base64_encode(reinterpret_cast<const uint8_t *>(first.data()), first.size()));
}

TEST(OpenAiEdit, SizeMustBeTheImagesOrOmitted) {
    const std::string image = rgb_png(64, 72);
    EXPECT_EQ(json::parse(edit({prompt_part(), image_part(image), {"size", "auto", false}}).native_body)["operation"],
              "img2img");
    EXPECT_EQ(json::parse(edit({prompt_part(), image_part(image), {"size", "64x72", false}}).native_body)["operation"],
              "img2img");
    OpenAiError error = edit_error({prompt_part(), image_part(image), {"size", "72x64", false}});
    EXPECT_EQ(error.param, "size");
    EXPECT_EQ(error.code, "invalid_value");
    EXPECT_NE(error.message.find("64x72"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("omitted"), std::string::npos) << error.message;
    error = edit_error({prompt_part(), image_part(image), {"size", "big", false}});
    EXPECT_EQ(error.param, "size");
}

TEST(OpenAiEdit, MaskRefusals) {
    const std::string image = rgb_png(64, 64);
    // The wrong size.
    OpenAiError error = edit_error({prompt_part(), image_part(image), mask_part(rgba_png(72, 64, [](int, int) { return 0; }))});
    EXPECT_EQ(error.param, "mask");
    EXPECT_NE(error.message.find("72x64"), std::string::npos) << error.message;
    // No transparent pixel: a black-and-white mask without alpha marks nothing.
    error = edit_error({prompt_part(), image_part(image), mask_part(rgb_png(64, 64))});
    EXPECT_EQ(error.param, "mask");
    EXPECT_NE(error.message.find("alpha"), std::string::npos) << error.message;
    error = edit_error({prompt_part(), image_part(image), mask_part(rgba_png(64, 64, [](int, int) { return 1; }))});
    EXPECT_EQ(error.param, "mask");
    // Not a PNG, empty, corrupt.
    for (const std::string &bytes : {"GIF89a..."s, ""s, rgb_png(64, 64).substr(0, 40)}) {
        error = edit_error({prompt_part(), image_part(image), mask_part(bytes)});
        EXPECT_EQ(error.param, "mask");
        EXPECT_EQ(error.code, "invalid_mask");
    }
}

TEST(OpenAiEdit, ImageRefusals) {
    OpenAiError error = edit_error({prompt_part()});
    EXPECT_EQ(error.param, "image");
    EXPECT_EQ(error.code, "missing_required_parameter");
    error = edit_error({prompt_part(), {"images", rgb_png(64, 64), true}});
    EXPECT_EQ(error.param, "image");
    for (const std::string &bytes : {"\xff\xd8\xff\xe0 a JPEG"s, ""s, rgb_png(64, 64).substr(0, 60)}) {
        error = edit_error({prompt_part(), image_part(bytes)});
        EXPECT_EQ(error.param, "image");
        EXPECT_EQ(error.code, "invalid_image");
        EXPECT_EQ(error.status, 400);
    }
    // Over the configured size limits: refused before any pixel memory is allocated.
    ApiLimits small;
    small.max_size = 64;
    error = edit_error({prompt_part(), image_part(rgb_png(72, 64))}, test_model(), small);
    EXPECT_EQ(error.param, "image");
    EXPECT_EQ(error.code, "invalid_image");
    EXPECT_NO_THROW((void)edit({prompt_part(), image_part(rgb_png(64, 64))}, test_model(), small));
    // A size the native parser refuses is named "image" there.
    auto parsed = native(edit({prompt_part(), image_part(rgb_png(60, 60))}));
    ASSERT_TRUE(std::holds_alternative<FieldError>(parsed));
    error = openai_error_from_field(std::get<FieldError>(parsed));
    EXPECT_EQ(error.param, "image");
    EXPECT_EQ(error.message.rfind("image is 60x60", 0), 0u) << error.message;
}

TEST(OpenAiEdit, TextFieldRefusals) {
    const std::string image = rgb_png(64, 64);
    OpenAiError error = edit_error({image_part(image)});
    EXPECT_EQ(error.param, "prompt");
    EXPECT_EQ(error.code, "missing_required_parameter");
    error = edit_error({image_part(image), prompt_part("bad \xff\xfe utf-8")});
    EXPECT_EQ(error.param, "prompt");
    for (const char *n : {"two", "", "1.5", "2 ", "99999999999999999999"}) {
        error = edit_error({image_part(image), prompt_part(), {"n", n, false}});
        EXPECT_EQ(error.param, "n") << n;
    }
    auto parsed = native(edit({image_part(image), prompt_part(), {"n", "9", false}}));
    ASSERT_TRUE(std::holds_alternative<FieldError>(parsed));
    EXPECT_EQ(openai_error_from_field(std::get<FieldError>(parsed)).param, "n");
    EXPECT_EQ(edit_error({image_part(image), prompt_part(), {"response_format", "jpeg", false}}).param, "response_format");
    EXPECT_EQ(edit_error({image_part(image), prompt_part(), {"output_format", "webp", false}}).param, "output_format");
    EXPECT_EQ(edit_error({image_part(image), prompt_part(), {"background", "transparent", false}}).param, "background");
    EXPECT_EQ(edit_error({image_part(image), prompt_part(), {"stream", "true", false}}).param, "stream");
    EXPECT_EQ(edit_error({image_part(image), prompt_part(), {"stream", "maybe", false}}).param, "stream");
    EXPECT_EQ(edit_error({image_part(image), prompt_part(), {"markup", rgb_png(64, 64), true}}).param, "markup");
    // Ignored ones.
    native_ok(edit({image_part(image), prompt_part(), {"stream", "false", false}, {"quality", "high", false},
                    {"input_fidelity", "low", false}, {"svg[model]", "x", false}, {"user", "u", false}}));
}

TEST(OpenAiEdit, BodiesThatAreNotMultipart) {
    for (const char *type : {"application/json", "multipart/form-data", ""}) {
        const OpenAiError error = error_of(translate_openai_edit(type, "{\"prompt\": \"p\"}", test_model()));
        EXPECT_EQ(error.status, 400) << type;
        EXPECT_EQ(error.param, "") << type;
        EXPECT_EQ(error.code, "invalid_multipart") << type;
    }
    const std::string truncated = form_body({prompt_part(), image_part(rgb_png(64, 64))});
    const OpenAiError error =
        error_of(translate_openai_edit(kFormType, truncated.substr(0, truncated.size() / 2), test_model()));
    EXPECT_EQ(error.code, "invalid_multipart");
    EXPECT_NE(error.message.find("truncated"), std::string::npos) << error.message;
}

TEST(OpenAiEdit, AnInpaintingOnlyModelNeedsAMask) {
    ModelDescription inpainting = test_model();
    inpainting.inpainting_unet = true;
    inpainting.operations = {Operation::inpaint};
    const std::string image = rgb_png(64, 64);
    const OpenAiError error = edit_error({prompt_part(), image_part(image)}, inpainting);
    EXPECT_EQ(error.param, "mask");
    EXPECT_NE(error.message.find("only inpaints"), std::string::npos) << error.message;
    native_ok(edit({prompt_part(), image_part(image), mask_part(rgba_png(64, 64, [](int x, int) { return x < 4 ? 0 : 255; }))},
                   inpainting),
              inpainting);
}

// ---- responses --------------------------------------------------------------------

JobSnapshot completed_job() {
    JobSnapshot snapshot;
    snapshot.state = JobState::completed;
    snapshot.created_at = std::chrono::system_clock::from_time_t(1700000000);
    snapshot.finished_at = std::chrono::system_clock::from_time_t(1700000042);
    for (uint64_t seed : {7u, 8u}) {
        JobImage image;
        image.seed = seed;
        image.width = 64;
        image.height = 48;
        Image pixels = rgb_image(64, 48);
        pixels.pixels[0] = static_cast<uint8_t>(seed);
        image.png = std::make_shared<const std::vector<uint8_t>>(encode_png(pixels));
        snapshot.images.push_back(image);
    }
    return snapshot;
}

TEST(OpenAiResponse, Base64Images) {
    const JobSnapshot snapshot = completed_job();
    OpenAiImageJob request;
    request.response_format = "b64_json";
    const json body = json::parse(openai_images_response(snapshot, "job-1", request, "http://127.0.0.1:8080"));
    EXPECT_EQ(body["created"], 1700000042);
    EXPECT_EQ(body["output_format"], "png");
    EXPECT_EQ(body["size"], "64x48");
    ASSERT_EQ(body["data"].size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(body["data"][i].size(), 1u);  // no url, no revised_prompt
        EXPECT_EQ(body["data"][i]["b64_json"], base64_encode(*snapshot.images[i].png));
    }
}

TEST(OpenAiResponse, UrlsPointAtTheNativeImageRoute) {
    JobSnapshot snapshot = completed_job();
    snapshot.finished_at.reset();
    OpenAiImageJob request;
    request.response_format = "url";
    const json body = json::parse(openai_images_response(snapshot, "abc123", request, "http://10.0.0.5:9000"));
    EXPECT_EQ(body["created"], 1700000000);
    ASSERT_EQ(body["data"].size(), 2u);
    EXPECT_EQ(body["data"][0], json({{"url", "http://10.0.0.5:9000/v1/jobs/abc123/images/0.png"}}));
    EXPECT_EQ(body["data"][1], json({{"url", "http://10.0.0.5:9000" + job_image_url("abc123", 1)}}));
}

TEST(OpenAiResponse, NoImages) {
    JobSnapshot snapshot = completed_job();
    snapshot.images.clear();
    const json body = json::parse(openai_images_response(snapshot, "x", OpenAiImageJob{}, ""));
    EXPECT_EQ(body["data"], json::array());
    EXPECT_FALSE(body.contains("size"));
}

}  // namespace
}  // namespace sdw
