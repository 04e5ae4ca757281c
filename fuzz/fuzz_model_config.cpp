// A model folder's config.json files (unet, vae, text_encoder, scheduler) as the loader reads
// them: component_summaries.h over ConfigReader, then every scheduler built from the scheduler
// config and asked for a short schedule, as a generation would. A model folder is not
// trusted more than a request: it may be downloaded from anywhere. Refusals are
// std::runtime_error (component summaries) or std::invalid_argument (schedulers).
#include "model/component_summaries.h"
#include "schedulers/scheduler.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const nlohmann::json config =
        nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded()) return 0;
    const std::filesystem::path path = "fuzz/config.json";
    try {
        sdw::summarize_unet(config, path);
    } catch (const std::runtime_error &) {
    }
    try {
        sdw::summarize_vae(config, path);
    } catch (const std::runtime_error &) {
    }
    for (const bool projection : {false, true}) {
        try {
            sdw::summarize_text_encoder(config, path, projection);
        } catch (const std::runtime_error &) {
        }
    }
    try {
        sdw::check_scheduler_config(config, path);
    } catch (const std::runtime_error &) {
        // The worker refuses such a model at load: no scheduler is ever built from it
        // (betas outside (0, 1) would give NaN timesteps, found by this target before).
        return 0;
    }
    if (!config.is_object()) return 0;
    // Short schedules only: the number of steps is the request's (at most 150), not the file's.
    for (const auto &name : sdw::scheduler_names()) {
        try {
            auto scheduler = sdw::make_scheduler(name, config, sdw::SchedulerOptions{});
            scheduler->set_timesteps(static_cast<int>(size % 8) + 1);
            scheduler->timesteps();
            scheduler->init_noise_sigma();
        } catch (const std::invalid_argument &) {
        }
    }
    return 0;
}
