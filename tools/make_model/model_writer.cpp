#include "model_writer.h"

#include <fstream>
#include <stdexcept>

#include "model/config_reader.h"
#include "random_weights.h"

namespace sdw::make_model {
namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

void write_json(const fs::path& path, const nlohmann::ordered_json& json) {
    write_text(path, json.dump(2) + "\n");
}

void make_directory(const fs::path& path) {
    std::error_code error;
    fs::create_directories(path, error);
    if (error) throw std::runtime_error(path.string() + ": cannot create: " + error.message());
}

void copy_tokenizer(const fs::path& source, const fs::path& target, const TokenizerPlan& plan) {
    make_directory(target);
    for (const char* name : {"vocab.json", "merges.txt"}) {
        std::error_code error;
        fs::copy_file(source / name, target / name, fs::copy_options::overwrite_existing, error);
        if (error)
            throw std::runtime_error((source / name).string() + ": cannot copy: " + error.message());
    }
    for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
        nlohmann::ordered_json json = nlohmann::ordered_json::parse(
            read_json_object(source / name).dump());
        if (plan.pad_token) json["pad_token"] = *plan.pad_token;
        write_json(target / name, json);
    }
}

}  // namespace

fs::path default_tokenizer_source() { return SDW_MAKE_MODEL_TOKENIZER_DIR; }

void write_model(const ModelPlan& plan, const fs::path& out, const WriteOptions& options) {
    for (const std::string& name : options.only) {
        bool known = false;
        for (const ComponentPlan& component : plan.components) known |= component.folder == name;
        if (!known) throw std::runtime_error("no component named '" + name + "' in this model");
    }
    make_directory(out);
    write_json(out / "model_index.json", plan.model_index);
    make_directory(out / "scheduler");
    write_json(out / "scheduler" / "scheduler_config.json", plan.scheduler_config);
    for (const TokenizerPlan& tokenizer : plan.tokenizers)
        copy_tokenizer(options.tokenizer_source, out / tokenizer.folder, tokenizer);

    for (const ComponentPlan& component : plan.components) {
        const fs::path dir = out / component.folder;
        make_directory(dir);
        write_json(dir / "config.json", component.config);
        if (!options.only.empty() && !options.only.count(component.folder)) continue;

        SafetensorsWriter writer;
        writer.set_metadata({{"format", "pt"}});
        uint64_t bytes = 0;
        for (const TensorSpec& spec : component.tensors) {
            writer.add(spec);
            bytes += spec.byte_size();
        }
        const fs::path path = dir / component.weights_file;
        if (options.zeros) {
            writer.write(path, nullptr);
        } else {
            // One filler per component, so a component's weights do not depend on which
            // other components were written.
            RandomWeightFiller filler(options.seed);
            writer.write(path, std::ref(filler));
        }
        if (options.on_file_written) options.on_file_written(path, bytes);
    }
}

}  // namespace sdw::make_model
