#include "pipeline/generator_factory.h"

#include "model/model_folder.h"
#include "pipeline/plugin_components.h"
#include "pipeline/stable_diffusion_pipeline.h"
#include "plugin/plugin_library.h"
#include "plugin/plugin_search.h"

#include <sdw/plugin_api.h>

#include <stdexcept>

namespace sdw {
namespace {

// Keeps the plugin context alive as long as the pipeline that uses its components.
class PluginGenerator final : public Generator {
public:
    PluginGenerator(std::shared_ptr<PluginLibrary> library, PluginContext context,
                    std::unique_ptr<StableDiffusionPipeline> pipeline)
        : library_(std::move(library)), context_(std::move(context)),
          pipeline_(std::move(pipeline)) {}

    ModelDescription describe() const override {
        ModelDescription d = pipeline_->describe();
        const PluginInfo &info = library_->info();
        d.backend.plugin_name = info.name;
        d.backend.plugin_version = info.version;
        d.backend.plugin_path = library_->path().string();
        d.backend.abi_version = std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor);
        d.backend.device = info.device;
        return d;
    }
    GenerationResult generate(const GenerationRequest &request,
                              const GenerationCallbacks &callbacks) override {
        return pipeline_->generate(request, callbacks);
    }

private:
    std::shared_ptr<PluginLibrary> library_;
    PluginContext context_;
    std::unique_ptr<StableDiffusionPipeline> pipeline_;
};

}  // namespace

std::unique_ptr<Generator> make_generator(const GeneratorConfig &config) {
    const ModelFolder model = ModelFolder::open(config.model_path);
    if (model.text_encoder_2() != nullptr || model.has_text_time_conditioning())
        throw std::runtime_error(config.model_path.string() +
                                 ": SDXL models (two text encoders, text_time conditioning) are "
                                 "not supported by this version of sd-worker");

    std::shared_ptr<PluginLibrary> library = PluginLibrary::load(
        config.plugin, config.plugin_search_dirs.empty() ? default_plugin_search_dirs()
                                                         : config.plugin_search_dirs);
    PluginContext context = PluginContext::create(library, config.plugin_options_json);
    auto components = std::make_unique<PluginComponents>(context, model);

    PipelineModel pm;
    pm.path = model.path().string();
    pm.name = model.path().filename().string();
    if (pm.name.empty()) pm.name = model.path().parent_path().filename().string();
    pm.unet_in_channels = model.unet_summary().in_channels;
    pm.latent_channels = model.vae_summary().latent_channels;
    pm.vae_scale_factor = model.vae_summary().downscale_factor;
    pm.scaling_factor = static_cast<float>(model.vae_summary().scaling_factor);
    pm.sample_size = model.unet_summary().sample_height;
    pm.scheduler_config = model.scheduler_config();

    auto pipeline = std::make_unique<StableDiffusionPipeline>(
        std::move(pm), ClipTokenizer::load(model.tokenizer().dir.string()), std::move(components));
    return std::make_unique<PluginGenerator>(std::move(library), std::move(context),
                                             std::move(pipeline));
}

}  // namespace sdw
