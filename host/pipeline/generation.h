// What the job queue asks of a pipeline, and what it gets back. The HTTP layer
// validates a request into a GenerationRequest; a worker thread hands it to a
// Generator and reports progress while it runs.
#pragma once

#include "image/image.h"
#include "image/latent_preview.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sdw {

enum class Operation { txt2img, img2img, inpaint };

constexpr std::string_view to_string(Operation op) {
    switch (op) {
    case Operation::txt2img: return "txt2img";
    case Operation::img2img: return "img2img";
    case Operation::inpaint: return "inpaint";
    }
    return "txt2img";
}

struct GenerationRequest {
    Operation operation = Operation::txt2img;
    std::string prompt;
    std::string negative_prompt;
    int width = 0;                  // pixels, multiple of 8
    int height = 0;
    int steps = 20;
    float guidance_scale = 7.5f;    // <= 1 disables classifier-free guidance
    uint64_t seed = 0;
    std::string scheduler = "ddim"; // ddim pndm euler euler_a dpmpp_2m dpmpp_2m_karras lms lcm
    int num_images = 1;
    float strength = 0.8f;          // img2img / inpaint
    std::optional<Image> init_image;  // RGB, img2img and inpaint
    std::optional<Image> mask;        // grey, 255 = repaint, same size as init_image
    int clip_skip = 1;              // 1 = last layer
    std::string rng = "cpu";        // "cpu" (torch CPU MT19937) or "cuda" (torch Philox)
    // Not a generation parameter: the job queue publishes a live preview every this
    // many steps (0: none); pipelines ignore it.
    int preview_every = 0;
};

struct GeneratedImage {
    Image image;
    uint64_t seed = 0;
};

struct GenerationResult {
    std::vector<GeneratedImage> images;
    std::map<std::string, double> timings_ms;  // "text_encoder", "denoise", "vae_decode", "total"
};

struct GenerationCallbacks {
    // Called after each denoising step; step counts from 1.
    std::function<void(int step, int total)> on_step;
    // Polled between steps and inside plugin calls; true stops the job.
    std::function<bool()> should_cancel;
    // Optional: the latents after each step ([num_images, C, h, w], row-major), for
    // previews and for checking a pipeline against reference trajectories; called
    // right after on_step for the same step.
    std::function<void(int step, const std::vector<int64_t> &shape, const float *latents)>
        on_latents;
};

// Thrown by Generator::generate when should_cancel asked it to stop.
struct GenerationCancelled : std::runtime_error {
    GenerationCancelled() : std::runtime_error("cancelled") {}
};

// Thrown for a request the model cannot serve (e.g. a mask without an init image);
// `field` names the request field at fault, for a 400 answer.
struct GenerationInvalid : std::runtime_error {
    GenerationInvalid(std::string field_name, const std::string &message)
        : std::runtime_error(message), field(std::move(field_name)) {}
    std::string field;
};

// Bytes a backend context holds resident on its device (plugin ABI v1.1).
struct BackendMemory {
    uint64_t weights_bytes = 0;
    uint64_t plans_bytes = 0;       // planned buffers, recorded command buffers, graphs
    uint64_t cache_bytes = 0;       // scratch kept between runs
};

// The plugin a Generator runs on, for /v1/info and the heartbeat.
struct BackendDescription {
    std::string plugin_name;        // e.g. "cpu-blas"
    std::string plugin_version;
    std::string plugin_path;
    std::string abi_version;        // the plugin's, "major.minor", e.g. "1.1"
    std::string device;             // this context's, e.g. "CPU (2 threads, OpenBLAS 0.3.21)"
    std::optional<BackendMemory> memory;  // nullopt: the plugin does not report it (ABI 1.0)
};

struct ModelDescription {
    std::string name;               // folder name, e.g. "sd-shapes"
    std::string path;
    int default_width = 512;        // from unet sample_size * vae scale
    int default_height = 512;
    bool inpainting_unet = false;   // 9-channel UNet
    // What requests the model serves: txt2img needs no VAE encoder, img2img and
    // inpaint do (and an inpainting UNet serves inpaint only).
    std::vector<Operation> operations{Operation::txt2img, Operation::img2img, Operation::inpaint};
    LatentFormat latent_format = LatentFormat::sd;  // for live previews
    std::vector<std::string> schedulers;
    // The largest clip_skip the text encoder(s) can serve: clip_skip N reads the output
    // of the N-th layer from the last, so it is bounded by the encoder's depth.
    int max_clip_skip = 12;
    BackendDescription backend;
};

// A loaded model on a backend. Generate is called from one worker thread at a time.
class Generator {
public:
    virtual ~Generator() = default;
    virtual ModelDescription describe() const = 0;
    // Throws GenerationCancelled, GenerationInvalid, or std::runtime_error (the
    // message is reported as the job's error).
    virtual GenerationResult generate(const GenerationRequest &request,
                                      const GenerationCallbacks &callbacks) = 0;
    // The backend's memory as last reported: a copy refreshed by the threads that
    // load and generate, so any thread (an HTTP handler, the heartbeat) may ask
    // without calling into the plugin. nullopt when the backend does not report it.
    virtual std::optional<BackendMemory> memory() const { return std::nullopt; }
};

}  // namespace sdw
