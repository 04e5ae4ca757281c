// POST /v1/jobs bodies -> GenerationRequest, with the API's documented defaults and
// limits. Every refusal names the field at fault (empty for a body that is not a
// JSON object), for a 400 {"error": {"code": "invalid_field", "field": ...}}.
//
// Fields (all optional except prompt; a JSON null counts as omitted):
//   operation        "txt2img" (default) | "img2img" | "inpaint"
//   prompt           string (required, may be empty), negative_prompt string ("")
//   width, height    integers, multiples of 8 in [64, 2048]; default: the init_image's
//                    size, else the model's default size
//   steps            integer 1..150 (20)
//   guidance_scale   number 0..30 (7.5; <= 1 disables classifier-free guidance)
//   seed             integer 0..2^64-1; omitted, null or -1: drawn at random in
//                    [0, 2^53) so JavaScript holds it exactly, and reported back
//   scheduler        one of the model's schedulers ("ddim" when the model offers it,
//                    else its first)
//   num_images       integer 1..8 (1); width x height x num_images x steps at most
//                    ApiLimits::max_pixel_steps (refused naming steps)
//   strength         number in (0, 1] (0.8), img2img and inpaint
//   init_image       base64 PNG (a data: URL prefix is accepted), img2img and inpaint
//   mask             base64 PNG, white = repaint, inpaint only, same size as init_image
//   clip_skip        integer 1..12 (1 = last layer)
//   rng              "cpu" (default) | "cuda"
//   preview          false (default) | true (every step) | integer N >= 1 (every N
//                    steps): SSE "preview" events, at most one per 250 ms
#pragma once

#include "config/config.h"
#include "pipeline/generation.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace sdw {

struct ApiLimits {
    int min_size = 64;
    int max_size = 2048;
    int max_steps = 150;
    double max_guidance_scale = 30.0;
    int max_images = 8;
    int max_clip_skip = 12;
    size_t max_prompt_bytes = 16384;
    // width x height x num_images x steps at most (config limits.max_pixel_steps, whose
    // default this is); 2048x2048 x 8 x 150 would hold a CPU for days.
    int64_t max_pixel_steps = Config::Limits{}.max_pixel_steps;
};

struct FieldError {
    std::string field;  // empty: the body as a whole
    std::string message;
};

using ParsedGeneration = std::variant<GenerationRequest, FieldError>;

// `random_seed` supplies the seed for requests that leave it to the server.
ParsedGeneration parse_generation_request(std::string_view body, const ModelDescription &model,
                                          const ApiLimits &limits,
                                          const std::function<uint64_t()> &random_seed);

// The schedulers a request may name when the model does not list its own.
const std::vector<std::string> &default_scheduler_names();

}  // namespace sdw
