#include "pipeline/generator_factory.h"

#include "model/model_folder.h"
#include "pipeline/plugin_components.h"
#include "pipeline/stable_diffusion_pipeline.h"
#include "pipeline/stable_diffusion_xl_pipeline.h"
#include "plugin/plugin_library.h"
#include "plugin/plugin_search.h"

#include <sdw/plugin_api.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace sdw {
namespace {

// Keeps the plugin context alive as long as the pipeline that uses its components.
// Constructed on the thread that loaded the components and then used by one worker
// thread, the only two that call into the context; they refresh the copies of the
// context's device and memory that describe() and memory() give to other threads.
class PluginGenerator final : public Generator {
public:
    PluginGenerator(std::shared_ptr<PluginLibrary> library, PluginContext context,
                    std::unique_ptr<Generator> pipeline)
        : library_(std::move(library)), context_(std::move(context)),
          pipeline_(std::move(pipeline)), device_(context_.device()) {
        refresh_memory();  // after the component loads
    }

    ModelDescription describe() const override {
        ModelDescription d = pipeline_->describe();
        const PluginInfo &info = library_->info();
        d.backend.plugin_name = info.name;
        d.backend.plugin_version = info.version;
        d.backend.plugin_path = library_->path().string();
        d.backend.abi_version = info.abi_version();
        d.backend.device = device_;
        d.backend.memory = memory();
        return d;
    }
    GenerationResult generate(const GenerationRequest &request,
                              const GenerationCallbacks &callbacks) override {
        // After every job, finished or not: plans and caches change with the shapes run.
        struct RefreshAfter {
            PluginGenerator &generator;
            ~RefreshAfter() { generator.refresh_memory(); }
        } refresh{*this};
        return pipeline_->generate(request, callbacks);
    }
    std::optional<BackendMemory> memory() const override {
        std::lock_guard lock(memory_mutex_);
        return memory_;
    }

private:
    // A call into the plugin: only on the loading or the worker thread. A failed
    // report must not fail a job, so it reads as "not reported".
    void refresh_memory() noexcept {
        std::optional<BackendMemory> now;
        try {
            if (auto report = context_.memory())
                now = BackendMemory{report->weights_bytes, report->plans_bytes, report->cache_bytes};
        } catch (...) {
        }
        std::lock_guard lock(memory_mutex_);
        memory_ = now;
    }

    std::shared_ptr<PluginLibrary> library_;
    PluginContext context_;
    std::unique_ptr<Generator> pipeline_;
    const std::string device_;  // context_describe's answer, asked once after the loads
    mutable std::mutex memory_mutex_;
    std::optional<BackendMemory> memory_;
};

bool index_flag(const ModelFolder &model, const char *key, bool fallback) {
    const nlohmann::json &index = model.model_index();
    const auto it = index.find(key);
    return it != index.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// SDXL: text_encoder_2 and a UNet with text_time conditioning, either the base (both
// encoders, 6 time ids: sizes and crop) or a refiner (the second encoder alone, 5 time
// ids: sizes, crop and an aesthetic score, with requires_aesthetics_score in
// model_index.json, which diffusers needs to build them). Anything else of the kind is
// refused before the plugin loads.
bool is_sdxl(const ModelFolder &model) {
    const bool second_encoder = model.text_encoder_2() != nullptr && model.tokenizer_2() != nullptr;
    if (model.text_encoder_2() == nullptr && !model.has_text_time_conditioning()) return false;
    const std::string where = model.path().string() + ": ";
    if (!second_encoder || !model.has_text_time_conditioning())
        throw std::runtime_error(where + "an SDXL-style model needs text_encoder_2, tokenizer_2 and a UNet "
                                         "with addition_embed_type text_time");
    const bool aesthetic = index_flag(model, "requires_aesthetics_score", false);
    const int64_t ids = *model.time_id_count();
    if (ids != (aesthetic ? 5 : 6))
        throw std::runtime_error(
            where + "the UNet takes " + std::to_string(ids) + " time ids, but model_index.json " +
            (aesthetic ? "sets requires_aesthetics_score (5 ids: sizes, crop, aesthetic score)"
                       : "does not set requires_aesthetics_score (6 ids: sizes, crop, target size)"));
    return true;
}

SdxlPipelineOptions sdxl_options(const ModelFolder &model) {
    SdxlPipelineOptions options;
    options.force_zeros_for_empty_prompt = index_flag(model, "force_zeros_for_empty_prompt", true);
    options.requires_aesthetics_score = index_flag(model, "requires_aesthetics_score", false);
    const VaeSummary &vae = model.vae_summary();
    if (vae.latents_mean && vae.latents_std) {
        options.latents_mean.assign(vae.latents_mean->begin(), vae.latents_mean->end());
        options.latents_std.assign(vae.latents_std->begin(), vae.latents_std->end());
    }
    return options;
}

}  // namespace

std::unique_ptr<Generator> make_generator(const GeneratorConfig &config) {
    SingleFileOptions single_file;
    single_file.tokenizers_dir = config.tokenizers_dir;
    if (!config.prediction_type.empty()) single_file.prediction_type = config.prediction_type;
    const ModelFolder model = ModelFolder::open(config.model_path, single_file);
    const bool sdxl = is_sdxl(model);

    std::shared_ptr<PluginLibrary> library = PluginLibrary::load(
        config.plugin, config.plugin_search_dirs.empty() ? default_plugin_search_dirs()
                                                         : config.plugin_search_dirs);
    PluginContext context = PluginContext::create(library, config.plugin_options_json);
    auto components = std::make_unique<PluginComponents>(context, model);

    PipelineModel pm;
    pm.path = model.path().string();
    // A folder's name, or a single file's without its .safetensors.
    pm.name = (model.single_file_family() ? model.path().stem() : model.path().filename()).string();
    if (pm.name.empty()) pm.name = model.path().parent_path().filename().string();
    pm.unet_in_channels = model.unet_summary().in_channels;
    pm.latent_channels = model.vae_summary().latent_channels;
    pm.vae_scale_factor = model.vae_summary().downscale_factor;
    pm.scaling_factor = static_cast<float>(model.vae_summary().scaling_factor);
    pm.sample_size = model.unet_summary().sample_height;
    pm.text_encoder_layers = std::numeric_limits<int64_t>::max();
    if (model.has_text_encoder()) pm.text_encoder_layers = model.text_encoder_summary().num_hidden_layers;
    if (const TextEncoderSummary *second = model.text_encoder_2_summary())
        pm.text_encoder_layers = std::min(pm.text_encoder_layers, second->num_hidden_layers);
    pm.scheduler_config = model.scheduler_config();

    std::unique_ptr<Generator> pipeline;
    if (sdxl)
        pipeline = std::make_unique<StableDiffusionXLPipeline>(
            std::move(pm), sdxl_options(model),
            model.has_text_encoder() ? std::optional(ClipTokenizer::load(model.tokenizer().dir.string()))
                                     : std::nullopt,
            ClipTokenizer::load(model.tokenizer_2()->dir.string()), std::move(components));
    else
        pipeline = std::make_unique<StableDiffusionPipeline>(
            std::move(pm), ClipTokenizer::load(model.tokenizer().dir.string()), std::move(components));
    return std::make_unique<PluginGenerator>(std::move(library), std::move(context),
                                             std::move(pipeline));
}

}  // namespace sdw
