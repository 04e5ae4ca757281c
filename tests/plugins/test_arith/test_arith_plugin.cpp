// sdw_test_arith: a plugin that honours the whole component contract (names, shapes,
// config, cancellation, errors) but replaces each network by cheap, deterministic
// arithmetic, so host and server tests can run pipelines in milliseconds and
// predict every number. Weights are accepted and ignored.
//
//   text_encoder  last_hidden_state[b,l,d] = input_ids[b,l]*0.001 + d*0.01
//                 hidden_state[b,l,d]      = last_hidden_state[b,l,d] + 0.1*(num_layers - clip_skip)
//                 pooled[b,j]              = input_ids[b,eos]*0.001 + j*0.01, eos = argmax of the
//                                            row's ids (as CLIP finds its EOS token); j runs over
//                                            projection_dim when text_projection.weight is given
//   unet          noise_pred[b,c,y,x] = 0.1*sample[b,c,y,x] + 0.01*timestep[b]/1000
//                                       + mean(encoder_hidden_states[b])*0.0
//   vae_decoder   image[b,c,Y,X] = tanh(latents[b, c % latent_channels, Y/8, X/8])
//   vae_encoder   mean[b,c,y,x]  = average of image[b, c % in_channels] over the 8x8 block
//                 logvar         = -2
//
// Context options (JSON object): {"delay_ms": N} sleeps N ms in every unet call,
// polling should_cancel every millisecond; {"fail_on_step": K} makes the K-th unet
// call of the context fail with SDW_STATUS_DEVICE_ERROR and a message;
// {"device": "name"} is what context_describe says (default: nothing, so the
// plugin-wide device applies); {"without": ["vae_encoder", ...]} refuses to load
// those component kinds with SDW_STATUS_UNSUPPORTED, as a decode-only backend (or
// one that is missing a network) would; {"max_decode_batch": N} fails a vae_decoder
// call on more than N images with SDW_STATUS_OUT_OF_MEMORY, as a device that holds
// the activations of N full-size images only would.
//
// ABI 1.1 memory report (context_memory), predictable for tests:
//   weights_bytes  the byte_size of every weight given to the loaded components
//   plans_bytes    4096 per loaded component that has been prepared
//   cache_bytes    the context's unet call count (one byte per call), so a test sees
//                  the report refreshed after a job
//
// Built twice: as libsdw_test_arith.so (ABI 1.1) and, with SDW_TEST_ARITH_V1_0, as
// libsdw_test_arith_v1_0.so, which stands for a plugin built against ABI 1.0: its
// table ends at component_run and requires 1.0 of the host.
#include <sdw/plugin_api.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <thread>

namespace sp = sdw::plugin;
using sp::any_dim;

namespace {

struct ArithOptions {
    int64_t delay_ms = 0;
    int64_t fail_on_step = 0;  // 0 = never
    std::string device;        // "" = the plugin-wide device
    std::vector<std::string> without;  // component kinds refused as UNSUPPORTED
    int64_t max_decode_batch = 0;      // 0 = any; else larger vae_decoder batches are OUT_OF_MEMORY
};

nlohmann::json parse_json_object(std::string_view text, const std::string &what) {
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        throw sp::Error(SDW_STATUS_INVALID_ARGUMENT, what + " is not a JSON object");
    }
    return parsed;
}

int64_t config_int(const nlohmann::json &config, const char *key, const std::string &kind) {
    auto it = config.find(key);
    if (it == config.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
        throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                        kind + " config.json lacks a positive integer '" + key + "'");
    }
    return it->get<int64_t>();
}

int64_t config_int_or(const nlohmann::json &config, const char *key, int64_t fallback) {
    auto it = config.find(key);
    return it != config.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// Output checks shared by all components: F32, exactly the expected shape.
void expect_output(const sdw_tensor_view &view, std::initializer_list<int64_t> shape) {
    sp::expect_dtype(view, SDW_DTYPE_F32);
    sp::expect_shape(view, shape);
}

class ArithContext;

class TextEncoder final : public sp::Component {
public:
    TextEncoder(const nlohmann::json &config, bool has_projection)
        : hidden_(config_int(config, "hidden_size", "text_encoder")),
          layers_(config_int(config, "num_hidden_layers", "text_encoder")),
          pooled_dim_(has_projection ? config_int(config, "projection_dim", "text_encoder")
                                     : hidden_) {}

    void run(const sp::RunArgs &args) override {
        args.require_only_inputs({"input_ids"});
        args.require_only_outputs({"last_hidden_state", "hidden_state", "pooled"});
        const sdw_tensor_view &ids_view = args.input("input_ids");
        sp::expect_dtype(ids_view, SDW_DTYPE_I32);
        sp::expect_shape(ids_view, {any_dim, any_dim});
        const int64_t batch = ids_view.shape[0], length = ids_view.shape[1];
        auto ids = sp::data_as<const int32_t>(ids_view, SDW_DTYPE_I32);

        sdw_tensor_view *last = args.find_output("last_hidden_state");
        sdw_tensor_view *hidden = args.find_output("hidden_state");
        sdw_tensor_view *pooled = args.find_output("pooled");
        if (last == nullptr && hidden == nullptr && pooled == nullptr) {
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "text_encoder: no output requested (expected last_hidden_state, "
                            "hidden_state or pooled)");
        }
        int32_t clip_skip = args.clip_skip() == 0 ? 1 : args.clip_skip();
        if (hidden != nullptr && (clip_skip < 1 || clip_skip > layers_)) {
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "clip_skip " + std::to_string(args.clip_skip()) + " is outside [1, " +
                                std::to_string(layers_) + "]");
        }
        if (last) expect_output(*last, {batch, length, hidden_});
        if (hidden) expect_output(*hidden, {batch, length, hidden_});
        if (pooled) expect_output(*pooled, {batch, pooled_dim_});

        for (int64_t b = 0; b < batch; ++b) {
            args.check_cancel();
            for (int64_t l = 0; l < length; ++l) {
                const float id = static_cast<float>(ids[b * length + l]) * 0.001f;
                for (int64_t d = 0; d < hidden_; ++d) {
                    const float value = id + static_cast<float>(d) * 0.01f;
                    const int64_t at = (b * length + l) * hidden_ + d;
                    if (last) sp::f32_out(*last)[at] = value;
                    if (hidden) {
                        sp::f32_out(*hidden)[at] =
                            value + 0.1f * static_cast<float>(layers_ - clip_skip);
                    }
                }
            }
            if (pooled) {
                const int32_t *row = ids.data() + b * length;
                const int32_t eos = length > 0 ? *std::max_element(row, row + length) : 0;
                for (int64_t j = 0; j < pooled_dim_; ++j) {
                    sp::f32_out(*pooled)[b * pooled_dim_ + j] =
                        static_cast<float>(eos) * 0.001f + static_cast<float>(j) * 0.01f;
                }
            }
            args.progress(static_cast<uint32_t>(b + 1), static_cast<uint32_t>(batch));
        }
    }

private:
    int64_t hidden_, layers_, pooled_dim_;
};

class Unet final : public sp::Component {
public:
    Unet(const nlohmann::json &config, ArithContext &context);
    void run(const sp::RunArgs &args) override;

private:
    int64_t in_channels_, out_channels_, cross_dim_;
    bool sdxl_;
    int64_t pooled_dim_;
    ArithContext &context_;
};

class VaeDecoder final : public sp::Component {
public:
    VaeDecoder(const nlohmann::json &config, int64_t max_batch)
        : latent_channels_(config_int(config, "latent_channels", "vae")),
          out_channels_(config_int(config, "out_channels", "vae")),
          max_batch_(max_batch) {}

    void run(const sp::RunArgs &args) override {
        args.require_only_inputs({"latents"});
        args.require_only_outputs({"image"});
        const sdw_tensor_view &latents = args.input("latents");
        sp::expect_dtype(latents, SDW_DTYPE_F32);
        sp::expect_shape(latents, {any_dim, latent_channels_, any_dim, any_dim});
        const int64_t batch = latents.shape[0], h = latents.shape[2], w = latents.shape[3];
        if (max_batch_ > 0 && batch > max_batch_)
            throw sp::Error(SDW_STATUS_OUT_OF_MEMORY, "test-arith: a vae_decoder batch of " + std::to_string(batch) +
                                                          " is over max_decode_batch " + std::to_string(max_batch_));
        sdw_tensor_view &image = args.output("image");
        expect_output(image, {batch, out_channels_, 8 * h, 8 * w});
        auto in = sp::f32(latents);
        auto out = sp::f32_out(image);
        for (int64_t b = 0; b < batch; ++b) {
            args.check_cancel();
            for (int64_t c = 0; c < out_channels_; ++c) {
                const float *plane = in.data() + (b * latent_channels_ + c % latent_channels_) * h * w;
                float *dst = out.data() + (b * out_channels_ + c) * 64 * h * w;
                for (int64_t y = 0; y < 8 * h; ++y) {
                    for (int64_t x = 0; x < 8 * w; ++x) {
                        dst[y * 8 * w + x] = std::tanh(plane[(y / 8) * w + x / 8]);
                    }
                }
            }
            args.progress(static_cast<uint32_t>(b + 1), static_cast<uint32_t>(batch));
        }
    }

private:
    int64_t latent_channels_, out_channels_, max_batch_;
};

class VaeEncoder final : public sp::Component {
public:
    explicit VaeEncoder(const nlohmann::json &config)
        : in_channels_(config_int(config, "in_channels", "vae")),
          latent_channels_(config_int(config, "latent_channels", "vae")) {}

    void run(const sp::RunArgs &args) override {
        args.require_only_inputs({"image"});
        args.require_only_outputs({"mean", "logvar"});
        const sdw_tensor_view &image = args.input("image");
        sp::expect_dtype(image, SDW_DTYPE_F32);
        sp::expect_shape(image, {any_dim, in_channels_, any_dim, any_dim});
        const int64_t batch = image.shape[0], height = image.shape[2], width = image.shape[3];
        if (height % 8 != 0 || width % 8 != 0) {
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "vae_encoder: image size " + std::to_string(height) + "x" +
                                std::to_string(width) + " is not a multiple of 8");
        }
        const int64_t h = height / 8, w = width / 8;
        sdw_tensor_view &mean = args.output("mean");
        sdw_tensor_view &logvar = args.output("logvar");
        expect_output(mean, {batch, latent_channels_, h, w});
        expect_output(logvar, {batch, latent_channels_, h, w});
        auto in = sp::f32(image);
        auto mean_out = sp::f32_out(mean);
        auto logvar_out = sp::f32_out(logvar);
        for (int64_t b = 0; b < batch; ++b) {
            args.check_cancel();
            for (int64_t c = 0; c < latent_channels_; ++c) {
                const float *plane = in.data() + (b * in_channels_ + c % in_channels_) * height * width;
                for (int64_t y = 0; y < h; ++y) {
                    for (int64_t x = 0; x < w; ++x) {
                        float sum = 0.0f;
                        for (int64_t dy = 0; dy < 8; ++dy) {
                            for (int64_t dx = 0; dx < 8; ++dx) {
                                sum += plane[(8 * y + dy) * width + 8 * x + dx];
                            }
                        }
                        const int64_t at = ((b * latent_channels_ + c) * h + y) * w + x;
                        mean_out[at] = sum / 64.0f;
                        logvar_out[at] = -2.0f;
                    }
                }
            }
            args.progress(static_cast<uint32_t>(b + 1), static_cast<uint32_t>(batch));
        }
    }

private:
    int64_t in_channels_, latent_channels_;
};

// What the context's memory report counts, shared with its components.
struct ResidentBytes {
    uint64_t weights = 0;
    uint64_t plans = 0;
};

constexpr uint64_t kPlanBytes = 4096;

// Wraps a component to count it in the context's memory report while it lives.
class Resident final : public sp::Component {
public:
    Resident(std::unique_ptr<sp::Component> inner, ResidentBytes &resident, uint64_t weight_bytes)
        : inner_(std::move(inner)), resident_(resident), weight_bytes_(weight_bytes) {
        resident_.weights += weight_bytes_;
    }
    ~Resident() override {
        resident_.weights -= weight_bytes_;
        if (prepared_) resident_.plans -= kPlanBytes;
    }
    void prepare(std::span<const sdw_tensor_view> inputs) override {
        inner_->prepare(inputs);
        if (!prepared_) resident_.plans += kPlanBytes;
        prepared_ = true;
    }
    void run(const sp::RunArgs &args) override { inner_->run(args); }

private:
    std::unique_ptr<sp::Component> inner_;
    ResidentBytes &resident_;
    uint64_t weight_bytes_;
    bool prepared_ = false;
};

class ArithContext final : public sp::Context {
public:
    explicit ArithContext(ArithOptions options) : options_(std::move(options)) {}

    std::unique_ptr<sp::Component> load_component(const sp::ComponentDesc &desc) override {
        uint64_t weight_bytes = 0;
        for (const sdw_tensor_view &weight : desc.weights) weight_bytes += weight.byte_size;
        return std::make_unique<Resident>(make_component(desc), resident_, weight_bytes);
    }

    std::string describe() const override { return options_.device; }
    sp::MemoryReport memory() const override {
        return {resident_.weights, resident_.plans, static_cast<uint64_t>(unet_calls_)};
    }

    const ArithOptions &options() const { return options_; }
    int64_t next_unet_call() { return ++unet_calls_; }

private:
    std::unique_ptr<sp::Component> make_component(const sp::ComponentDesc &desc) {
        const std::string kind(desc.kind);
        const nlohmann::json config = parse_json_object(desc.config_json, kind + " config.json");
        if (std::find(options_.without.begin(), options_.without.end(), kind) != options_.without.end())
            throw sp::Error(SDW_STATUS_UNSUPPORTED, "this test-arith context has no " + kind);
        if (kind == "text_encoder") {
            return std::make_unique<TextEncoder>(
                config, desc.find_weight("text_projection.weight") != nullptr);
        }
        if (kind == "unet") return std::make_unique<Unet>(config, *this);
        if (kind == "vae_decoder") return std::make_unique<VaeDecoder>(config, options_.max_decode_batch);
        if (kind == "vae_encoder") return std::make_unique<VaeEncoder>(config);
        throw sp::Error(SDW_STATUS_UNSUPPORTED, "unknown component kind '" + kind + "'");
    }

    ArithOptions options_;
    int64_t unet_calls_ = 0;
    ResidentBytes resident_;
};

Unet::Unet(const nlohmann::json &config, ArithContext &context)
    : in_channels_(config_int(config, "in_channels", "unet")),
      out_channels_(config_int(config, "out_channels", "unet")),
      cross_dim_(config_int(config, "cross_attention_dim", "unet")),
      sdxl_(config.value("addition_embed_type", nlohmann::json()).is_string() &&
            config["addition_embed_type"] == "text_time"),
      pooled_dim_(sdxl_ ? config_int_or(config, "projection_class_embeddings_input_dim", 0) -
                              6 * config_int_or(config, "addition_time_embed_dim", 0)
                        : 0),
      context_(context) {
    if (out_channels_ > in_channels_) {
        throw sp::Error(SDW_STATUS_UNSUPPORTED, "unet: out_channels > in_channels");
    }
}

void Unet::run(const sp::RunArgs &args) {
    if (sdxl_) {
        args.require_only_inputs({"sample", "timestep", "encoder_hidden_states", "text_embeds",
                                  "time_ids"});
    } else {
        args.require_only_inputs({"sample", "timestep", "encoder_hidden_states"});
    }
    args.require_only_outputs({"noise_pred"});
    const sdw_tensor_view &sample = args.input("sample");
    sp::expect_dtype(sample, SDW_DTYPE_F32);
    sp::expect_shape(sample, {any_dim, in_channels_, any_dim, any_dim});
    const int64_t batch = sample.shape[0], h = sample.shape[2], w = sample.shape[3];
    const sdw_tensor_view &timestep = args.input("timestep");
    sp::expect_dtype(timestep, SDW_DTYPE_F32);
    sp::expect_shape(timestep, {batch});
    const sdw_tensor_view &context = args.input("encoder_hidden_states");
    sp::expect_dtype(context, SDW_DTYPE_F32);
    sp::expect_shape(context, {batch, any_dim, cross_dim_});
    if (sdxl_) {
        const sdw_tensor_view &text_embeds = args.input("text_embeds");
        sp::expect_dtype(text_embeds, SDW_DTYPE_F32);
        sp::expect_shape(text_embeds, {batch, pooled_dim_ > 0 ? pooled_dim_ : any_dim});
        const sdw_tensor_view &time_ids = args.input("time_ids");
        sp::expect_dtype(time_ids, SDW_DTYPE_F32);
        sp::expect_shape(time_ids, {batch, 6});
    }
    sdw_tensor_view &noise_pred = args.output("noise_pred");
    expect_output(noise_pred, {batch, out_channels_, h, w});

    const int64_t call = context_.next_unet_call();
    const ArithOptions &options = context_.options();
    if (options.fail_on_step > 0 && call == options.fail_on_step) {
        throw sp::Error(SDW_STATUS_DEVICE_ERROR,
                        "test-arith: unet call " + std::to_string(call) +
                            " fails as configured by fail_on_step");
    }
    for (int64_t ms = 0; ms < options.delay_ms; ++ms) {
        args.check_cancel();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    auto in = sp::f32(sample);
    auto t = sp::f32(timestep);
    auto ctx = sp::f32(context);
    auto out = sp::f32_out(noise_pred);
    const int64_t context_per_batch = context.shape[1] * cross_dim_;
    for (int64_t b = 0; b < batch; ++b) {
        args.check_cancel();
        double context_sum = 0.0;
        for (int64_t i = 0; i < context_per_batch; ++i) context_sum += ctx[b * context_per_batch + i];
        const float context_mean =
            context_per_batch > 0 ? static_cast<float>(context_sum / context_per_batch) : 0.0f;
        const float offset = 0.01f * t[b] / 1000.0f + context_mean * 0.0f;
        for (int64_t c = 0; c < out_channels_; ++c) {
            const float *src = in.data() + (b * in_channels_ + c) * h * w;
            float *dst = out.data() + (b * out_channels_ + c) * h * w;
            for (int64_t i = 0; i < h * w; ++i) dst[i] = 0.1f * src[i] + offset;
        }
        args.progress(static_cast<uint32_t>(b + 1), static_cast<uint32_t>(batch));
    }
}

ArithOptions parse_options(const std::string &options_json) {
    const nlohmann::json options = parse_json_object(options_json, "test-arith options");
    ArithOptions parsed;
    for (const auto &[key, value] : options.items()) {
        if (key == "device") {
            if (!value.is_string()) {
                throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                                "test-arith: option 'device' must be a string");
            }
            parsed.device = value.get<std::string>();
            continue;
        }
        if (key == "without") {
            if (!value.is_array()) {
                throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                                "test-arith: option 'without' must be an array of component kinds");
            }
            for (const auto &kind : value) {
                if (!kind.is_string()) {
                    throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                                    "test-arith: option 'without' must be an array of component kinds");
                }
                parsed.without.push_back(kind.get<std::string>());
            }
            continue;
        }
        int64_t *target = key == "delay_ms" ? &parsed.delay_ms
                          : key == "fail_on_step" ? &parsed.fail_on_step
                          : key == "max_decode_batch" ? &parsed.max_decode_batch
                                                  : nullptr;
        if (target == nullptr) {
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "test-arith: unknown option '" + key +
                                "' (known: delay_ms, fail_on_step, max_decode_batch, device, without)");
        }
        if (!value.is_number_integer() || value.get<int64_t>() < 0) {
            throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                            "test-arith: option '" + key + "' must be a non-negative integer");
        }
        *target = value.get<int64_t>();
    }
    return parsed;
}

struct ArithPlugin {
    static sp::Info describe() {
        return {"test-arith", "1.0.0", "CPU (deterministic arithmetic for tests)", false};
    }
    static std::unique_ptr<sp::Context> create_context(const std::string &options_json) {
        return std::make_unique<ArithContext>(parse_options(options_json));
    }
#if defined(SDW_TEST_ARITH_V1_0)
    static constexpr uint32_t min_host_abi_minor = 0;
#endif
};

}  // namespace

#if defined(SDW_TEST_ARITH_V1_0)
// A v1.0 table: the same functions up to component_run, struct_size ending there,
// requiring minor 0. The 1.1 slots, beyond struct_size, hold functions that fail
// loudly, so a host that reads past struct_size is caught rather than lucky.
namespace {

sdw_status read_past_table_describe(sdw_context *, sdw_context_info *, sdw_error *err) {
    return sp::guard(err, [] {
        throw sp::Error(SDW_STATUS_INTERNAL, "test-arith v1.0: host read context_describe "
                                             "beyond the table's struct_size");
    });
}

sdw_status read_past_table_memory(sdw_context *, sdw_memory_report *, sdw_error *err) {
    return sp::guard(err, [] {
        throw sp::Error(SDW_STATUS_INTERNAL, "test-arith v1.0: host read context_memory "
                                             "beyond the table's struct_size");
    });
}

}  // namespace

extern "C" SDW_PLUGIN_EXPORT sdw_status sdw_plugin_init(const sdw_host_api *host,
                                                        const sdw_plugin_api **out,
                                                        sdw_error *err) {
    const sdw_status status = sp::Adapter<ArithPlugin>::init(host, out, err);
    if (status != SDW_STATUS_OK) return status;
    static sdw_plugin_api v1_0 = [table = **out] {
        sdw_plugin_api copy = table;
        copy.struct_size = static_cast<uint32_t>(offsetof(sdw_plugin_api, context_describe));
        copy.abi_minor = 0;
        copy.context_describe = &read_past_table_describe;
        copy.context_memory = &read_past_table_memory;
        return copy;
    }();
    *out = &v1_0;
    return SDW_STATUS_OK;
}

extern "C" SDW_PLUGIN_EXPORT sdw_status sdw_plugin_probe(const sdw_host_api *host, sdw_error *err) {
    return sp::Adapter<ArithPlugin>::probe(host, err);
}
#else
SDW_PLUGIN_DEFINE(ArithPlugin);
#endif
