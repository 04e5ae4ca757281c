// sdw-bench: times the networks of a Stable Diffusion model folder on a backend
// plugin, loaded the way the server loads them (ModelFolder + PluginContext +
// PluginComponents), and prints one table: load, text encoder, UNet call on the
// cond+uncond batch per resolution, VAE decode, achieved GFLOP/s against the
// machine's FMA peak, and resident memory. See bench/README.md.
#include "flop_count.h"
#include "machine_peak.h"
#include "process_memory.h"

#include "model/model_folder.h"
#include "pipeline/plugin_components.h"
#include "plugin/plugin_context.h"
#include "plugin/plugin_library.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

namespace {

const char kUsage[] =
    "usage: sdw-bench --model DIR [options]\n"
    "\n"
    "  --model DIR       diffusers model folder (e.g. from sdw-make-model --family sd15)\n"
    "  --plugin NAME     backend plugin name or path (default cpu-blas)\n"
    "  --threads N       plugin threads, 0 = all cores (default 0)\n"
    "  --options JSON    the plugin's options object instead of {\"threads\": N}, e.g.\n"
    "                    '{\"device\": \"cuda\", \"dtype\": \"float16\", \"cuda_graphs\": false}'\n"
    "  --sizes A,B       image sizes of the UNet calls (default 512,256)\n"
    "  --batch N         UNet batch (default 2: cond + uncond in one call)\n"
    "  --warmup N        untimed UNet calls per size (default 1)\n"
    "  --calls N         timed UNet calls per size (default 2)\n"
    "  --vae-size N      image size of the timed VAE decode, 0 = skip (default 512)\n"
    "  --fma-ports N     FMA units per core assumed for the nominal peak (default 2)\n";

[[noreturn]] void usage_error(const std::string &message) {
    std::fprintf(stderr, "sdw-bench: %s\n\n%s", message.c_str(), kUsage);
    std::exit(2);
}

struct Options {
    std::string model, plugin = "cpu-blas", plugin_options;
    int threads = 0, batch = 2, warmup = 1, calls = 2, vae_size = 512, fma_ports = 2;
    std::vector<int> sizes{512, 256};
};

int to_int(const std::string &flag, const std::string &text, int min) {
    try {
        size_t used = 0;
        const int v = std::stoi(text, &used);
        if (used == text.size() && v >= min) return v;
    } catch (const std::exception &) {
    }
    usage_error(flag + " expects an integer >= " + std::to_string(min) + ", got '" + text + "'");
}

Options parse(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) usage_error(arg + " needs a value");
        const std::string v = argv[++i];
        if (arg == "--model") o.model = v;
        else if (arg == "--plugin") o.plugin = v;
        else if (arg == "--threads") o.threads = to_int(arg, v, 0);
        else if (arg == "--options") o.plugin_options = v;
        else if (arg == "--batch") o.batch = to_int(arg, v, 1);
        else if (arg == "--warmup") o.warmup = to_int(arg, v, 0);
        else if (arg == "--calls") o.calls = to_int(arg, v, 1);
        else if (arg == "--vae-size") o.vae_size = to_int(arg, v, 0);
        else if (arg == "--fma-ports") o.fma_ports = to_int(arg, v, 1);
        else if (arg == "--sizes") {
            o.sizes.clear();
            std::stringstream list(v);
            for (std::string item; std::getline(list, item, ',');) o.sizes.push_back(to_int(arg, item, 8));
        } else usage_error("unknown option " + arg);
    }
    if (o.model.empty()) usage_error("--model is required");
    return o;
}

// Wall and CPU time of one phase; CPU time split so that system time (page faults,
// futex and yield storms) shows up.
struct Phase {
    double wall = 0, user = 0, sys = 0;
};

double seconds(const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; }

Phase measure(const std::function<void()> &body) {
    rusage r0{}, r1{};
    getrusage(RUSAGE_SELF, &r0);
    const auto t0 = std::chrono::steady_clock::now();
    body();
    const auto t1 = std::chrono::steady_clock::now();
    getrusage(RUSAGE_SELF, &r1);
    return {std::chrono::duration<double>(t1 - t0).count(), seconds(r1.ru_utime) - seconds(r0.ru_utime),
            seconds(r1.ru_stime) - seconds(r0.ru_stime)};
}

sdw::FloatTensor random_tensor(std::vector<int64_t> shape, std::mt19937 &rng) {
    sdw::FloatTensor t(std::move(shape));
    std::normal_distribution<float> normal;
    for (float &v : t.data) v = normal(rng);
    return t;
}

std::string gib(int64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f GiB", double(bytes) / (1024.0 * 1024.0 * 1024.0));
    return text;
}

struct Row {
    std::string what, value, notes;
};

std::string fmt(const char *format, double a, double b = 0, double c = 0, double d = 0) {
    char text[256];
    std::snprintf(text, sizeof text, format, a, b, c, d);
    return text;
}

std::string cpu_note(const Phase &p) { return fmt("cpu user %.1f s, sys %.1f s", p.user, p.sys); }

void print_table(const std::vector<Row> &rows) {
    size_t w0 = 4, w1 = 5;
    for (const Row &r : rows) {
        w0 = std::max(w0, r.what.size());
        w1 = std::max(w1, r.value.size());
    }
    std::printf("| %-*s | %*s | %s\n", int(w0), "what", int(w1), "value", "notes");
    std::printf("|%s|%s|------\n", std::string(w0 + 2, '-').c_str(), std::string(w1 + 2, '-').c_str());
    for (const Row &r : rows)
        std::printf("| %-*s | %*s | %s\n", int(w0), r.what.c_str(), int(w1), r.value.c_str(), r.notes.c_str());
}

int run(const Options &o) {
    std::vector<Row> rows;
    const bool peaks_resettable = sdw::bench::reset_peak_resident();

    // --- load ---------------------------------------------------------------------
    std::optional<sdw::ModelFolder> model;
    std::shared_ptr<sdw::PluginLibrary> library;
    std::optional<sdw::PluginContext> context;
    std::unique_ptr<sdw::PluginComponents> components;
    const Phase load = measure([&] {
        model.emplace(sdw::ModelFolder::open(o.model));
        library = sdw::PluginLibrary::load(o.plugin);
        context.emplace(sdw::PluginContext::create(
            library, o.plugin_options.empty() ? "{\"threads\": " + std::to_string(o.threads) + "}" : o.plugin_options));
        components = std::make_unique<sdw::PluginComponents>(*context, *model);
    });
    const nlohmann::json unet_config = model->unet().config();
    const nlohmann::json vae_config = model->vae().config();
    const nlohmann::json text_config = model->text_encoder().config();
    const int64_t latent_channels = model->vae_summary().latent_channels;
    const int64_t unet_in = model->unet_summary().in_channels;
    const int64_t factor = model->vae_summary().downscale_factor;
    const int64_t load_peak = sdw::bench::peak_resident_bytes();
    model.reset();  // the plugin holds its own copy of the weights; unmap the files
    const int64_t loaded_rss = sdw::bench::resident_bytes();
    std::printf("sdw-bench: %s on %s: %s\n", o.model.c_str(), library->info().name.c_str(),
                library->info().device.c_str());
    rows.push_back({"load (open folder, plugin load of all 4 components)", fmt("%.1f s", load.wall),
                    cpu_note(load) + "; peak " + gib(load_peak) + ", resident after closing the files " +
                        gib(loaded_rss)});

    std::mt19937 rng(1234);
    const sdw::CancelCheck never;
    // --- text encoder: the cond and uncond prompts, 77 tokens each ----------------------
    const int64_t tokens = 77;
    std::vector<int32_t> ids(static_cast<size_t>(o.batch * tokens), 49407);
    for (int64_t b = 0; b < o.batch; ++b) {
        ids[b * tokens] = 49406;
        for (int64_t t = 1; t < 12; ++t) ids[b * tokens + t] = 320 + int32_t(rng() % 40000);
    }
    sdw::FloatTensor text;
    components->encode_text(ids, o.batch, tokens, 0, never);  // warm-up
    const Phase te = measure([&] { text = components->encode_text(ids, o.batch, tokens, 0, never); });
    const double te_flops = sdw::bench::text_encoder_flops(text_config, o.batch, tokens);
    rows.push_back({fmt("text encoder (batch %.0f x %.0f tokens)", o.batch, tokens), fmt("%.3f s", te.wall),
                    fmt("%.1f GFLOP, %.1f GFLOP/s; ", te_flops / 1e9, te_flops / 1e9 / te.wall) + cpu_note(te)});

    // --- UNet calls -------------------------------------------------------------------
    int64_t unet_peak = 0;
    for (int size : o.sizes) {
        const int64_t lh = size / factor, lw = size / factor;
        const sdw::FloatTensor sample = random_tensor({o.batch, unet_in, lh, lw}, rng);
        const std::vector<float> timesteps(static_cast<size_t>(o.batch), 981.0f);
        if (peaks_resettable) sdw::bench::reset_peak_resident();
        for (int i = 0; i < o.warmup; ++i) components->predict_noise(sample, timesteps, text, never);
        std::vector<Phase> calls;
        for (int i = 0; i < o.calls; ++i)
            calls.push_back(measure([&] { components->predict_noise(sample, timesteps, text, never); }));
        const int64_t peak = sdw::bench::peak_resident_bytes();
        unet_peak = std::max(unet_peak, peak);
        Phase mean;
        double best = calls.front().wall;
        for (const Phase &p : calls) {
            mean.wall += p.wall / calls.size();
            mean.user += p.user / calls.size();
            mean.sys += p.sys / calls.size();
            best = std::min(best, p.wall);
        }
        const double flops = sdw::bench::unet_flops(unet_config, o.batch, lh, lw, tokens);
        rows.push_back({fmt("UNet call %.0fx%.0f, batch %.0f", size, size, o.batch), fmt("%.2f s", mean.wall),
                        fmt("mean of %.0f after %.0f warm-up (best %.2f s); ", o.calls, o.warmup, best) +
                            fmt("%.0f GFLOP -> %.1f GFLOP/s; ", flops / 1e9, flops / 1e9 / mean.wall) +
                            cpu_note(mean) + "; peak " + gib(peak)});
    }

    // --- VAE decode -----------------------------------------------------------------------
    if (o.vae_size > 0) {
        const int64_t lh = o.vae_size / factor;
        const sdw::FloatTensor latents = random_tensor({1, latent_channels, lh, lh}, rng);
        if (peaks_resettable) sdw::bench::reset_peak_resident();
        const Phase vae = measure([&] { components->decode(latents, never); });
        const double flops = sdw::bench::vae_decoder_flops(vae_config, 1, lh, lh);
        rows.push_back({fmt("VAE decode %.0fx%.0f, batch 1", o.vae_size, o.vae_size), fmt("%.2f s", vae.wall),
                        fmt("%.0f GFLOP -> %.1f GFLOP/s; ", flops / 1e9, flops / 1e9 / vae.wall) + cpu_note(vae) +
                            "; peak " + gib(sdw::bench::peak_resident_bytes())});
    }

    // --- machine --------------------------------------------------------------------------
    rows.push_back({"peak resident memory (whole run)",
                    gib(std::max({load_peak, unet_peak, sdw::bench::peak_resident_bytes()})),
                    peaks_resettable ? "max of the per-phase VmHWM" : "VmHWM (could not reset per phase)"});
    const int peak_threads = o.threads > 0 ? o.threads : 0;
    const sdw::bench::FmaPeak peak =
        sdw::bench::fma_peak(peak_threads > 0 ? peak_threads : int(std::max(1u, std::thread::hardware_concurrency())),
                             o.fma_ports);
    rows.push_back({"FMA peak, fp32 (nominal)", fmt("%.0f GFLOP/s", peak.nominal_gflops), peak.derivation});
    rows.push_back({"FMA peak, fp32 (measured FMA loop)", fmt("%.0f GFLOP/s", peak.measured_gflops),
                    "independent FMA chains on every plugin thread"});
    print_table(rows);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    const Options options = parse(argc, argv);
    try {
        return run(options);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "sdw-bench: %s\n", e.what());
        return 1;
    }
}
