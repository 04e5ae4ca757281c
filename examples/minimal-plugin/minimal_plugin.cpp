// The smallest useful sd-worker plugin: it implements one component,
// "vae_decoder", as a nearest-neighbour 8x upsampling of the latents clamped to
// [-1, 1] (latent channel c becomes image channel c). Every other kind is refused
// as UNSUPPORTED, which the host reports when a model needs it.
//
// It shows the parts every plugin has: a Plugin type with describe and
// create_context, a Context that loads components, a Component that validates
// its inputs and outputs against the contract in sdw/plugin_api.h, and
// SDW_PLUGIN_DEFINE, which generates the C entry points and turns exceptions
// into statuses with messages.
#include <sdw/plugin_api.hpp>

#include <algorithm>
#include <string>

namespace sp = sdw::plugin;

namespace {

class UpsamplingDecoder final : public sp::Component {
public:
    void run(const sp::RunArgs &args) override {
        args.require_only_inputs({"latents"});
        args.require_only_outputs({"image"});
        const sdw_tensor_view &latents = args.input("latents");
        sp::expect_dtype(latents, SDW_DTYPE_F32);
        sp::expect_shape(latents, {sp::any_dim, sp::any_dim, sp::any_dim, sp::any_dim});
        const int64_t batch = latents.shape[0], channels = latents.shape[1];
        const int64_t h = latents.shape[2], w = latents.shape[3];

        sdw_tensor_view &image = args.output("image");
        sp::expect_dtype(image, SDW_DTYPE_F32);
        sp::expect_shape(image, {batch, sp::any_dim, 8 * h, 8 * w});
        const int64_t image_channels = image.shape[1];
        if (image_channels > channels) {
            throw sp::Error(SDW_STATUS_UNSUPPORTED, "minimal plugin: more image than latent channels");
        }

        auto in = sp::f32(latents);
        auto out = sp::f32_out(image);
        for (int64_t b = 0; b < batch; ++b) {
            args.check_cancel();  // returns SDW_STATUS_CANCELLED when the host asks
            for (int64_t c = 0; c < image_channels; ++c) {
                const float *src = in.data() + (b * channels + c) * h * w;
                float *dst = out.data() + (b * image_channels + c) * 64 * h * w;
                for (int64_t y = 0; y < 8 * h; ++y) {
                    for (int64_t x = 0; x < 8 * w; ++x) {
                        dst[y * 8 * w + x] = std::clamp(src[(y / 8) * w + x / 8], -1.0f, 1.0f);
                    }
                }
            }
            args.progress(static_cast<uint32_t>(b + 1), static_cast<uint32_t>(batch));
        }
    }
};

class MinimalContext final : public sp::Context {
public:
    std::unique_ptr<sp::Component> load_component(const sp::ComponentDesc &desc) override {
        // A real plugin copies or uploads desc.weights here; the views die on return.
        if (desc.kind == "vae_decoder") return std::make_unique<UpsamplingDecoder>();
        throw sp::Error(SDW_STATUS_UNSUPPORTED,
                        "minimal plugin implements only vae_decoder, not " + std::string(desc.kind));
    }
};

struct MinimalPlugin {
    // Uses nothing newer than ABI v1.0, so it runs on every v1.x host.
    static constexpr uint32_t min_host_abi_minor = 0;

    static sp::Info describe() { return {"minimal", "1.0.0", "CPU (example)", false}; }

    static std::unique_ptr<sp::Context> create_context(const std::string &options_json) {
        // This plugin has no options; anything but an empty object is a mistake.
        std::string compact;
        for (char c : options_json) {
            if (c != ' ' && c != '\n' && c != '\t' && c != '\r') compact += c;
        }
        if (compact != "{}") {
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "minimal plugin takes no options, got: " + options_json);
        }
        return std::make_unique<MinimalContext>();
    }
};

}  // namespace

SDW_PLUGIN_DEFINE(MinimalPlugin);
