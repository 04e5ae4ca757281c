// Job bodies: POST /v1/jobs JSON through parse_generation_request, and the compatible
// APIs' translators onto it (A1111 txt2img/img2img JSON, OpenAI generations JSON and
// edits multipart), whose native bodies then go through the native parser as the routes
// do. The first input byte picks the format, the rest is the body (for OpenAI edits: the
// Content-Type line, a newline, then the body). Every refusal is a returned FieldError or
// OpenAiError; an exception escaping a parser would be a 500 for a client's mistake, so
// here it is a crash.
#include "fuzz_model.h"
#include "server/a1111_api.h"
#include "server/generation_request_parser.h"
#include "server/openai_images.h"

#include <cstdint>
#include <string_view>
#include <variant>

namespace {

// Small limits keep the decoded init images (and A1111's resizes) cheap per input.
sdw::ApiLimits fuzz_limits() {
    sdw::ApiLimits limits;
    limits.max_size = 256;
    limits.max_pixel_steps = int64_t{256} * 256 * 2 * 10;
    return limits;
}

void parse_native(std::string_view body, const sdw::ModelDescription &model, const sdw::ApiLimits &limits) {
    sdw::parse_generation_request(body, model, limits, [] { return uint64_t{42}; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    static const sdw::ModelDescription model = sdw::fuzz::fuzz_model();
    static const sdw::ApiLimits limits = fuzz_limits();
    const std::string_view body(reinterpret_cast<const char *>(data) + 1, size - 1);
    switch (data[0] % 5) {
        case 0:
            parse_native(body, model, limits);
            break;
        case 1:
        case 2: {
            const auto job = data[0] % 5 == 1 ? sdw::translate_a1111_txt2img(body, model, limits)
                                              : sdw::translate_a1111_img2img(body, model, limits);
            if (const auto *a1111 = std::get_if<sdw::A1111Job>(&job)) parse_native(a1111->native_body, model, limits);
            break;
        }
        case 3: {
            const auto job = sdw::translate_openai_generation(body, model);
            if (const auto *openai = std::get_if<sdw::OpenAiImageJob>(&job))
                parse_native(openai->native_body, model, limits);
            break;
        }
        case 4: {
            const size_t newline = body.find('\n');
            if (newline == std::string_view::npos) return 0;
            const auto job = sdw::translate_openai_edit(body.substr(0, newline), body.substr(newline + 1),
                                                        model, limits);
            if (const auto *openai = std::get_if<sdw::OpenAiImageJob>(&job))
                parse_native(openai->native_body, model, limits);
            break;
        }
    }
    return 0;
}
