// A plugin's own test, without the sd-worker host: it plays the host's part (a host
// table, an error object), calls the plugin's entry point, loads its vae_decoder and
// runs it on tensors built with sdw/tensor_views.hpp, which the plugin API package
// installs next to plugin_api.h. Built from the same source as the plugin, so no
// dlopen is needed; `ctest --test-dir build` runs it. Exits non-zero on a failure.
#include <sdw/plugin_api.h>
#include <sdw/tensor_views.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

extern "C" sdw_status sdw_plugin_init(const sdw_host_api *host, const sdw_plugin_api **out,
                                      sdw_error *err);

// The host defines the error object; the plugin only hands it to error_set.
struct sdw_error {
    std::string message;
};

namespace sp = sdw::plugin;

namespace {

void set_error(sdw_error *err, const char *message) { err->message = message; }
void log_line(sdw_log_level, const char *message) { std::fprintf(stderr, "plugin: %s\n", message); }

int failed(const std::string &what, const sdw_error &err) {
    std::fprintf(stderr, "FAIL %s: %s\n", what.c_str(), err.message.c_str());
    return 1;
}

sdw_run_args run_args(const sdw_tensor_view &in, sdw_tensor_view &out) {
    sdw_run_args args{};
    args.struct_size = sizeof(args);
    args.inputs = &in;
    args.input_count = 1;
    args.outputs = &out;
    args.output_count = 1;
    return args;
}

}  // namespace

int main() {
    sdw_host_api host{};
    host.struct_size = sizeof(host);
    host.abi_major = SDW_ABI_VERSION_MAJOR;
    host.abi_minor = SDW_ABI_VERSION_MINOR;
    host.error_set = &set_error;
    host.log = &log_line;

    sdw_error err;
    const sdw_plugin_api *api = nullptr;
    if (sdw_plugin_init(&host, &api, &err) != SDW_STATUS_OK) return failed("init", err);
    sdw_context *ctx = nullptr;
    if (api->context_create("{}", &ctx, &err) != SDW_STATUS_OK) return failed("context", err);

    // This decoder has no weights; a real plugin's test adds them with add_weight.
    const sp::ComponentDescription vae("vae_decoder", "{}");
    sdw_component *decoder = nullptr;
    if (api->component_load(ctx, &vae.desc(), &decoder, &err) != SDW_STATUS_OK) {
        return failed("load", err);
    }

    std::vector<float> values(1 * 4 * 2 * 2);
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.25f - 1.5f;
    const sp::OwnedTensor latents("latents", {1, 4, 2, 2}, values);
    sp::OwnedTensor image("image", SDW_DTYPE_F32, {1, 3, 16, 16});
    const sdw_tensor_view in = latents.view();
    sdw_tensor_view out = image.view();
    sdw_run_args args = run_args(in, out);
    if (api->component_run(decoder, &args, &err) != SDW_STATUS_OK) return failed("run", err);
    for (int64_t c = 0; c < 3; ++c) {
        for (int64_t y = 0; y < 16; ++y) {
            for (int64_t x = 0; x < 16; ++x) {
                const float want = std::clamp(values[c * 4 + (y / 8) * 2 + x / 8], -1.0f, 1.0f);
                if (image.f32()[c * 256 + y * 16 + x] != want) {
                    err.message = "image[" + std::to_string(c) + ", " + std::to_string(y) + ", " +
                                  std::to_string(x) + "] is not the clamped latent";
                    return failed("run", err);
                }
            }
        }
    }

    // The contract says a wrongly shaped output is refused, with a message.
    sp::OwnedTensor narrow("image", SDW_DTYPE_F32, {1, 3, 16, 15});
    sdw_tensor_view narrow_out = narrow.view();
    args = run_args(in, narrow_out);
    err.message.clear();
    if (api->component_run(decoder, &args, &err) != SDW_STATUS_INVALID_ARGUMENT ||
        err.message.empty()) {
        return failed("refusing a misshapen output", err);
    }

    api->component_destroy(decoder);
    api->context_destroy(ctx);
    std::printf("minimal_plugin_test: ok\n");
    return 0;
}
