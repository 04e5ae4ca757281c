#include "pipeline/stable_diffusion_pipeline.h"

#include "pipeline/denoising_support.h"
#include "pipeline/image_tensors.h"
#include "pipeline/denoising_loop.h"
#include "pipeline/operation_latents.h"

namespace sdw {

StableDiffusionPipeline::StableDiffusionPipeline(PipelineModel model, ClipTokenizer tokenizer,
                                                 std::unique_ptr<DiffusionComponents> components)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), components_(std::move(components)) {}

ModelDescription StableDiffusionPipeline::describe() const {
    ModelDescription d;
    d.name = model_.name;
    d.path = model_.path;
    d.default_width = static_cast<int>(model_.sample_size * model_.vae_scale_factor);
    d.default_height = d.default_width;
    d.max_clip_skip = static_cast<int>(model_.text_encoder_layers);
    d.inpainting_unet = model_.unet_in_channels == model_.latent_channels * 2 + 1;
    if (!components_->can_encode()) d.operations = {Operation::txt2img};
    else if (d.inpainting_unet) d.operations = {Operation::inpaint};
    d.latent_format = LatentFormat::sd;
    d.schedulers = scheduler_names();
    return d;
}

GenerationResult StableDiffusionPipeline::generate(const GenerationRequest &req,
                                                   const GenerationCallbacks &callbacks) {
    const auto start = Clock::now();
    check_operation(req, model_.latent_channels, model_.unet_in_channels, components_->can_encode());
    const Geometry geo = resolve_geometry(req, model_.sample_size, model_.vae_scale_factor);
    const CancelCheck cancel = cancel_check(callbacks);
    auto throw_if_cancelled = [&] {
        if (cancel()) throw GenerationCancelled();
    };
    std::unique_ptr<Scheduler> scheduler = make_request_scheduler(req, model_.scheduler_config);
    std::unique_ptr<TorchGenerator> rng = make_request_generator(req);
    const NoiseFn noise_fn = [&rng](float *out, size_t n) { rng->randn(out, n); };

    GenerationResult result;
    const int64_t n = req.num_images;
    const bool guided = req.guidance_scale > 1.0f;

    // 1. Conditioning: [uncond x n, cond x n] when guided, as diffusers concatenates it.
    auto t0 = Clock::now();
    FloatTensor context;
    {
        const int clip_skip = req.clip_skip < 1 ? 1 : req.clip_skip;
        std::vector<int32_t> ids = tokenizer_.encode_padded(req.prompt);
        const int64_t length = static_cast<int64_t>(ids.size());
        FloatTensor cond = components_->encode_text(ids, 1, length, clip_skip, cancel);
        cond = repeat_batch(cond, n);
        if (guided) {
            std::vector<int32_t> neg = tokenizer_.encode_padded(req.negative_prompt);
            FloatTensor uncond = components_->encode_text(neg, 1, length, clip_skip, cancel);
            context = concat_batch(repeat_batch(uncond, n), cond);
        } else {
            context = std::move(cond);
        }
    }
    result.timings_ms["text_encoder"] = ms_since(t0);
    throw_if_cancelled();

    // 2. Timesteps and initial latents, drawing noise in diffusers' order; image
    // latents are the posterior sample times the VAE's scaling factor.
    t0 = Clock::now();
    const LatentEncoder encode = [&](const FloatTensor &image) {
        FloatTensor latents = sample_posterior(*components_, image, *rng, cancel);
        for (float &v : latents.data) v *= model_.scaling_factor;
        return latents;
    };
    OperationLatents op(req, geo, model_.latent_channels, model_.unet_in_channels, *scheduler, *rng, encode);
    FloatTensor &latents = op.latents();
    result.timings_ms["prepare_latents"] = ms_since(t0);

    // 3. Denoising loop.
    t0 = Clock::now();
    const NoisePredictor predict = [&](const FloatTensor &input, const std::vector<float> &ts) {
        return components_->predict_noise(input, ts, context, cancel);
    };
    run_denoising_loop(op, *scheduler, guided, req.guidance_scale, predict, noise_fn, cancel, callbacks);
    result.timings_ms["denoise"] = ms_since(t0);
    throw_if_cancelled();

    // 4. Decode.
    t0 = Clock::now();
    for (float &v : latents.data) v /= model_.scaling_factor;
    FloatTensor decoded = components_->decode(latents, cancel);
    result.timings_ms["vae_decode"] = ms_since(t0);
    for (Image &img : tensor_to_images(decoded)) result.images.push_back({std::move(img), req.seed});
    result.timings_ms["total"] = ms_since(start);
    return result;
}

}  // namespace sdw
