// sdw-make-model: writes a full-size Stable Diffusion model with random weights.
//
//   sdw-make-model --family sd15|sd21|sdxl --dtype f16|f32 --out DIR [--seed N]
//                  [--only unet,vae,...] [--zeros] [--tokenizer DIR] [--list]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "model_families.h"
#include "model_writer.h"

namespace {

using namespace sdw::make_model;

const char kUsage[] =
    "usage: sdw-make-model --family sd15|sd21|sdxl --dtype f16|f32 --out DIR [options]\n"
    "\n"
    "Writes a full-size Stable Diffusion model with random weights in the diffusers layout\n"
    "(real tensor names, shapes and configs), for benchmarks. Weight values are random:\n"
    "images are noise, speed and memory are those of the real model.\n"
    "\n"
    "options:\n"
    "  --seed N         random seed (default 0); the same seed writes the same bytes\n"
    "  --only A,B       write weights only for these components (unet, vae, text_encoder,\n"
    "                   text_encoder_2); configs, tokenizers and scheduler are always written\n"
    "  --zeros          zero weights in sparse files: instant and using no disk space,\n"
    "                   for tests that load a model without computing with it\n"
    "  --tokenizer DIR  where to copy the CLIP tokenizer files from\n"
    "                   (default: models/sd-shapes/tokenizer of the source tree)\n"
    "  --list           print every tensor's name, dtype and shape instead of writing\n";

[[noreturn]] void usage_error(const std::string& message) {
    std::cerr << "sdw-make-model: " << message << "\n\n" << kUsage;
    std::exit(2);
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<Family> family;
    std::optional<sdw::DType> dtype;
    std::filesystem::path out;
    WriteOptions options;
    options.tokenizer_source = default_tokenizer_source();
    bool list = false;

    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (arg == "--family") {
            const std::string text = value();
            family = parse_family(text);
            if (!family) usage_error("unknown family '" + text + "'");
        } else if (arg == "--dtype") {
            const std::string text = value();
            if (text == "f16") dtype = sdw::DType::F16;
            else if (text == "f32") dtype = sdw::DType::F32;
            else usage_error("unknown dtype '" + text + "' (f16 or f32)");
        } else if (arg == "--out") {
            out = value();
        } else if (arg == "--seed") {
            const std::string text = value();
            char* end = nullptr;
            options.seed = std::strtoull(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0') usage_error("--seed needs a non-negative integer");
        } else if (arg == "--only") {
            std::stringstream list_text(value());
            for (std::string name; std::getline(list_text, name, ',');)
                if (!name.empty()) options.only.insert(name);
        } else if (arg == "--zeros") {
            options.zeros = true;
        } else if (arg == "--tokenizer") {
            options.tokenizer_source = value();
        } else if (arg == "--list") {
            list = true;
        } else {
            usage_error("unknown argument '" + arg + "'");
        }
    }
    if (!family) usage_error("--family is required");
    if (!dtype) usage_error("--dtype is required");

    try {
        const ModelPlan plan = plan_model(*family, *dtype);
        if (list) {
            for (const ComponentPlan& component : plan.components)
                for (const sdw::TensorSpec& spec : component.tensors)
                    std::cout << component.folder << '\t' << spec.name << '\t'
                              << sdw::dtype_name(spec.dtype) << '\t' << shape_text(spec.shape)
                              << '\n';
            return 0;
        }
        if (out.empty()) usage_error("--out is required");
        const auto start = std::chrono::steady_clock::now();
        uint64_t total = 0;
        options.on_file_written = [&](const std::filesystem::path& path, uint64_t bytes) {
            total += bytes;
            std::cout << path.string() << ": " << bytes / 1e6 << " MB\n" << std::flush;
        };
        write_model(plan, out, options);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cout << "wrote " << total / 1e9 << " GB of weights to " << out.string() << " in "
                  << seconds << " s\n";
    } catch (const std::exception& error) {
        std::cerr << "sdw-make-model: " << error.what() << '\n';
        return 1;
    }
    return 0;
}
