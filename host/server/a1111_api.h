// AUTOMATIC1111 (stable-diffusion-webui) API compatibility: its request bodies turned
// into native POST /v1/jobs bodies (generation_request_parser.h), and the bodies of its
// answers built from sd-worker's jobs and model. Pure translation: no I/O, no queue,
// every function is thread-safe (no shared state).
//
// Requests (POST /sdapi/v1/txt2img and /sdapi/v1/img2img, A1111's
// StableDiffusionProcessing fields; a missing or null field takes A1111's default):
//
//   prompt, negative_prompt   -> prompt, negative_prompt ("")
//   steps (50)                -> steps
//   cfg_scale (7.0)           -> guidance_scale
//   width, height (512)       -> width, height. txt2img: as given. img2img: the init
//                                image and mask are resized to this size (resize_mode)
//   seed (-1 = random)        -> seed; the images' seeds are reported in info
//   batch_size, n_iter (1, 1) -> num_images = batch_size * n_iter
//   sampler_name (or the older sampler_index; "Euler" when both are missing) and
//   scheduler ("Automatic")   -> scheduler:
//        "Euler a" euler_a, "Euler" euler, "LMS" lms, "DDIM" ddim, "PLMS" pndm,
//        "DPM++ 2M" dpmpp_2m, "DPM++ 2M Karras" dpmpp_2m_karras, "LCM" lcm.
//      Aliases (k_euler_a, k_dpmpp_2m_ka, ...) and any case are accepted. A1111 >= 1.9
//      spells schedules separately: scheduler "Karras" (or "karras", or a " Karras"
//      suffix on the sampler name) selects dpmpp_2m_karras for "DPM++ 2M"; with any
//      other sampler it is refused naming scheduler (or sampler_name for the suffix).
//      "Automatic" is the sampler's plain schedule: note that A1111 >= 1.9 runs
//      "DPM++ 2M" under "Automatic" with Karras sigmas, sd-worker runs dpmpp_2m (the
//      older meaning). Other schedules (Uniform, Exponential, ...) and unknown names are
//      refused naming scheduler. A sampler outside the table is refused naming
//      sampler_name (sampler_index when that is where the name came from), listing the
//      ones the model offers; one whose scheduler the model does not list, too.
//   override_settings.CLIP_stop_at_last_layers -> clip_skip (same convention, 1 = last)
//   override_settings.randn_source "CPU" | "GPU" -> rng "cpu" | "cuda" ("NV" refused).
//      Without it rng is sd-worker's default "cpu" (A1111's own default is "GPU"), so
//      the same parameters give the native API's picture.
//   override_settings.sd_model_checkpoint: must name the loaded model (its name, the
//      title a1111_sd_models_body reports) or be null; other override_settings keys
//      are accepted and ignored, but eta_noise_seed_delta != 0 is refused.
//   img2img only:
//   init_images [base64 PNG]  -> init_image: exactly one image (a data: URL prefix is
//                                accepted); PNG only (A1111 also reads JPEG and WebP);
//                                an alpha channel is dropped, as natively (A1111
//                                flattens it onto white)
//   denoising_strength (0.75) -> strength
//   resize_mode (0)           -> 0 "Just resize": stretched to width x height with
//                                Pillow's Lanczos (image_resize.h); 1 "Crop and resize":
//                                scaled to cover, centre cropped. 2 (fill) and 3 (latent
//                                upscale) are refused naming resize_mode. An image that
//                                already has the size is passed on untouched.
//   mask (base64 PNG)         -> operation inpaint, mask. White = repaint, as natively.
//                                Read as grey (luma; an alpha channel is dropped, where
//                                A1111 would use an RGBA mask's alpha), then, like A1111,
//                                thresholded at > 128 (unless mask_round is false),
//                                inverted if inpainting_mask_invert is 1, resized like
//                                the init image (so its size need not match it).
//   mask_blur, mask_blur_x, mask_blur_y: accepted, not applied. The pipeline (like
//      diffusers) binarizes the mask at 0.5, so a blur would only round its corners;
//      A1111 uses the blur mostly to composite the result over the original, which
//      sd-worker does not do (the whole decoded image is returned).
//   inpainting_fill: 0 "fill" (A1111's default) and 1 "original" are accepted and both
//      behave like "original" (sd-worker's inpaint starts from the original image under
//      the mask); 2 "latent noise" and 3 "latent nothing" are refused naming it.
//   inpaint_full_res ("only masked"), inpaint_full_res_padding: accepted, ignored: the
//      whole image is always inpainted.
//
// Accepted and ignored (no effect on the picture at these values, or none here):
//   styles (A1111 applies named styles of its own; unknown names are ignored there too),
//   subseed, seed_enable_extras, eta (sd-worker's schedulers use their own: 0 for DDIM,
//   1 for the ancestral ones), s_tmin, s_tmax, do_not_save_samples, do_not_save_grid,
//   save_images, override_settings_restore_afterwards, sampler_index (when sampler_name
//   is set), script_args, force_task_id, comments, disable_extra_networks,
//   refiner_switch_at, image_cfg_scale, denoising_strength and every hr_* field in
//   txt2img while enable_hr is false, and any field A1111 itself does not know.
//   send_images false leaves "images" empty; include_init_images echoes the init
//   images and mask in "parameters" (A1111 nulls them otherwise).
// Refused naming the field, because they would change the picture and cannot be
// honoured: enable_hr true, subseed_strength > 0, seed_resize_from_w and _h both > 0,
// restore_faces true, tiling true, s_churn > 0, s_noise != 1, s_min_uncond > 0,
// firstphase_width/height != 0, initial_noise_multiplier != 1, script_name set,
// refiner_checkpoint set, infotext set, latent_mask set, and alwayson_scripts with an
// entry that is not switched off (an entry whose "args" is empty or starts with false,
// as webuiapi sends for extensions it found, counts as off).
// Errors use the native FieldError with the A1111 field name; a body that is not a
// JSON object: FieldError{"", ...}.
#pragma once

#include "jobs/job.h"
#include "pipeline/generation.h"
#include "server/generation_request_parser.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace sdw {

struct A1111Job {
    // JSON for parse_generation_request, with "preview": true so that
    // GET /sdapi/v1/progress has a current image to show.
    std::string native_body;
    // The request as A1111 echoes it in "parameters": its fields, with A1111's defaults
    // for those the request left out.
    nlohmann::json parameters;
    // The fields of the answer's "info" that are known before the job runs (prompt,
    // sampler_name, scheduler, cfg_scale, steps, width, height, ...); the seeds, the
    // per-image lists and infotexts are added from the finished job.
    nlohmann::json info;
};

// `limits` bounds width and height before img2img's resize (an oversized target would
// otherwise be allocated here first); pass the ApiOptions::limits the native parser
// gets. The init image itself may be up to 4 * max_size on a side (and 4 * max_size^2
// pixels) before it is resized.
std::variant<A1111Job, FieldError> translate_a1111_txt2img(std::string_view body,
                                                           const ModelDescription &model,
                                                           const ApiLimits &limits = {});
std::variant<A1111Job, FieldError> translate_a1111_img2img(std::string_view body,
                                                           const ModelDescription &model,
                                                           const ApiLimits &limits = {});

// A FieldError that parse_generation_request gave for a native_body, renamed to the
// A1111 field it came from, in the field and in the message: guidance_scale ->
// cfg_scale, num_images -> batch_size ("batch_size * n_iter" in the message),
// init_image -> init_images, strength -> denoising_strength, scheduler -> sampler_name,
// clip_skip -> override_settings.CLIP_stop_at_last_layers, rng ->
// override_settings.randn_source, operation -> "" (the request as a whole); prompt,
// negative_prompt, steps, width, height, seed and mask keep their names.
FieldError a1111_field_error(const FieldError &native);

// The 200 body of txt2img / img2img: {"images": [base64 PNG, no data: prefix],
// "parameters": job.parameters, "info": "<JSON text>"}. info has A1111's Processed.js()
// keys: prompt, all_prompts, negative_prompt, all_negative_prompts, seed, all_seeds,
// subseed, all_subseeds, subseed_strength, width, height, sampler_name, scheduler,
// cfg_scale, steps, batch_size, restore_faces, face_restoration_model, sd_model_name,
// sd_model_hash, sd_vae_name, sd_vae_hash, seed_resize_from_w, seed_resize_from_h,
// denoising_strength (img2img; null for txt2img), extra_generation_params,
// index_of_first_image, infotexts (A1111's "parameters" text per image), styles,
// job_timestamp, clip_skip, is_using_inpainting_conditioning, version. The seeds are
// those of snapshot.images (JobImage::seed; one generator per job, so a batch shares
// it); a snapshot without images (an interrupted job) gives empty lists and seed -1
// unless the request fixed one.
std::string a1111_generation_response(const A1111Job &job, const JobSnapshot &snapshot);

// GET /sdapi/v1/progress. `running`: the job being sampled, nullptr when none (then
// progress and eta_relative are 0 and state.job_count counts the queued jobs, so that
// "progress == 0 and job_count == 0" still means idle). While one runs: progress =
// min(1, 0.01 + step / total) (A1111's formula for one batch), eta_relative = the
// seconds since it started * (total - step) / step (0 before the first step),
// state.job_count = 1 + queued_jobs, state.sampling_step / sampling_steps = step /
// total, state.interrupted = cancel_requested. current_image_b64: its latest preview
// (base64 PNG); empty gives null.
std::string a1111_progress_body(const JobSnapshot *running, std::size_t queued_jobs,
                                const std::string &current_image_b64);

// GET /sdapi/v1/samplers: [{"name", "aliases", "options"}], the table above as far as
// the model lists the scheduler (ModelDescription::schedulers, or
// default_scheduler_names() when empty).
std::string a1111_samplers_body(const ModelDescription &model);
// GET /sdapi/v1/schedulers: [{"name", "label", "aliases", "default_rho",
// "need_inner_model"}]: Automatic, and Karras when the model offers dpmpp_2m_karras.
std::string a1111_schedulers_body(const ModelDescription &model);
// GET /sdapi/v1/sd-models: the loaded model, [{"title", "model_name", "hash", "sha256",
// "filename", "config"}]; title and model_name are ModelDescription::name, the hashes
// and config null.
std::string a1111_sd_models_body(const ModelDescription &model);
// GET /sdapi/v1/options: the few settings clients read: sd_model_checkpoint (the title
// above), sd_checkpoint_hash (null), sd_vae, CLIP_stop_at_last_layers, samples_format,
// show_progress_every_n_steps, live_previews_enable, eta_noise_seed_delta,
// randn_source, img2img_fix_steps.
std::string a1111_options_body(const ModelDescription &model);

}  // namespace sdw
