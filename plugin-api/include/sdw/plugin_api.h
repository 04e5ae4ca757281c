/*
 * sdw/plugin_api.h — the sd-worker backend plugin ABI, version 1.1.
 *
 * This header is the whole contract between the sd-worker host and a compute
 * backend plugin. A plugin is a shared object that the host dlopen()s with
 * RTLD_NOW | RTLD_LOCAL and talks to only through the C types below. Anyone can
 * build a plugin against this header alone (see plugin_api.hpp for a C++ helper
 * and examples/ for a minimal plugin).
 *
 * ---------------------------------------------------------------------------
 * 1. Entry points
 * ---------------------------------------------------------------------------
 * A plugin exports exactly these symbols (build with -fvisibility=hidden and
 * mark them SDW_PLUGIN_EXPORT):
 *
 *   sdw_plugin_init   (required)  exchanges function tables with the host.
 *   sdw_plugin_probe  (optional)  cheap check that the plugin's hardware and
 *                                 runtime are usable here (a Vulkan device, a
 *                                 CUDA driver). The host calls it before
 *                                 sdw_plugin_init and skips the plugin with the
 *                                 plugin's reason when it says "unusable".
 *
 * ---------------------------------------------------------------------------
 * 2. Versions
 * ---------------------------------------------------------------------------
 * SDW_ABI_VERSION_MAJOR changes when anything incompatible changes. The minor
 * grows when something is appended (a field at the end of a struct, a function
 * at the end of a table, a new enum value). Each side checks the other:
 *   - major must be equal;
 *   - the other side's minor must be at least the minor this side needs.
 * Concretely, sdw_host_api.abi_minor is the minor the host implements, and the
 * plugin refuses (SDW_STATUS_VERSION_MISMATCH) a host older than it needs;
 * sdw_plugin_api.abi_minor is the minor the plugin requires of the host (by
 * default the one it was built against), and the host refuses a plugin that
 * requires more than it implements ("built for plugin ABI v1.3, this host loads
 * up to v1.0: <path>").
 * Every table and parameter struct begins with `struct_size` (sizeof as the
 * writer knew it). A reader must not touch a field that lies beyond the
 * struct_size it was given; fields are only ever appended. Enum-typed fields
 * are 32 bits wide (each enum ends with a *_FORCE_32BIT enumerator, checked
 * below), so a struct's layout does not depend on the compiler's enum sizing.
 *
 * What changed in 1.1 (appended only; a 1.0 plugin loads unchanged):
 *   - sdw_plugin_api gained two optional functions after component_run,
 *     context_describe (the device one context runs on) and context_memory
 *     (bytes that context holds on its device), with their structs
 *     sdw_context_info and sdw_memory_report. A host reads them only when the
 *     table's struct_size covers them and they are not NULL. Since the host
 *     reads only what struct_size covers, a plugin that uses nothing else of
 *     1.1 may fill them and still declare abi_minor 0 to run on 1.0 hosts.
 *   - SDW_STATUS_FORCE_32BIT, SDW_DTYPE_FORCE_32BIT, SDW_LOG_FORCE_32BIT pin
 *     the enums to 32 bits (they were already 32 bits with every supported
 *     compiler; now it is part of the contract). They are not values to use.
 *
 * ---------------------------------------------------------------------------
 * 3. Errors
 * ---------------------------------------------------------------------------
 * Every fallible call returns an sdw_status. On anything other than SDW_OK the
 * plugin MUST first describe the failure with host->error_set(err, message);
 * the host copies the message, so the plugin keeps ownership of the string.
 * A failure reported without a message is treated by the host as a plugin bug
 * and reported as such. No C++ exception, longjmp, abort() or exit() may cross
 * this boundary in either direction: the plugin catches everything at its entry
 * points (plugin_api.hpp does this for C++ plugins).
 *
 * ---------------------------------------------------------------------------
 * 4. Ownership
 * ---------------------------------------------------------------------------
 *   - Strings and tables the plugin returns (sdw_plugin_api, sdw_plugin_info
 *     strings) are owned by the plugin and stay valid until the shared object is
 *     unloaded.
 *   - Tensor views passed into load and run calls are owned by the host and are
 *     valid only for the duration of that call. Weights must be copied or
 *     uploaded during component_load; the plugin must not keep the pointers.
 *   - Output views in sdw_run_args point to host-allocated buffers of exactly the
 *     shape and dtype documented for the component; the plugin writes them fully.
 *   - Handles (sdw_context, sdw_component) are created by the plugin and owned
 *     by the host until it passes them to the matching destroy call.
 *   - Strings a context returns (sdw_context_info.device) are owned by that
 *     context and stay valid until the next call on that context, or its
 *     destruction, whichever comes first; the host copies them.
 *
 * ---------------------------------------------------------------------------
 * 5. Threading
 * ---------------------------------------------------------------------------
 *   - sdw_plugin_probe and sdw_plugin_init are called once, from one thread,
 *     before anything else.
 *   - The host serializes all calls on one sdw_context and the components created
 *     from it: at most one call into a given context is in flight at any time, and
 *     a plugin needs no locking for that. Different contexts may be used from
 *     different threads concurrently.
 *   - context_describe and context_memory (1.1) are calls on the context like
 *     component_load: serialized with the rest. A host that shows them from other
 *     threads (status pages, heartbeats) caches the answers instead of calling in.
 *   - The plugin may use any number of threads of its own inside a call; all work
 *     must have finished when the call returns.
 *   - The host callbacks (error_set, log, and the should_cancel / progress
 *     callbacks in sdw_run_args) are thread-safe and may be called from any thread
 *     the plugin owns, but only while the call that received them is in flight.
 *
 * ---------------------------------------------------------------------------
 * 6. Components and their tensors
 * ---------------------------------------------------------------------------
 * A model is made of components, loaded separately. Each is described to
 * component_load by its kind, the text of its diffusers config.json, and its
 * weights as named tensor views (diffusers / transformers names; a CLIP text
 * encoder's names may or may not carry the "text_model." prefix, the host
 * normalizes them to the prefix-less form). All shapes are row-major, outermost
 * first. B = batch, L = token count (77), D = hidden size, C = channels.
 *
 *   "text_encoder"  (CLIPTextModel / CLIPTextModelWithProjection)
 *       in : input_ids              I32 [B, L]
 *       out: last_hidden_state      F32 [B, L, D]   after the final layer norm
 *            hidden_state           F32 [B, L, D]   optional: transformers'
 *                                                   hidden_states[-clip_skip], i.e. the
 *                                                   output of encoder layer
 *                                                   num_layers - clip_skip + 1 (1-based),
 *                                                   WITHOUT the final layer norm
 *                                                   (SDXL uses clip_skip 2 this way)
 *            hidden_state_normed    F32 [B, L, D]   optional: final_layer_norm applied to
 *                                                   hidden_state (SD 1.x/2.x clip skip)
 *            pooled                 F32 [B, D] or [B, projection_dim] (optional;
 *                                                   the final-normed state at the
 *                                                   EOS token, projected when the
 *                                                   component has text_projection)
 *       params: clip_skip (>= 1; 0 means 1) selects hidden_state and
 *               hidden_state_normed: 1 = the last layer, 2 = the penultimate (the
 *               A1111 convention; diffusers' clip_skip=k is our k+1).
 *       Only the outputs the host passes are computed.
 *   "unet"          (UNet2DConditionModel)
 *       in : sample                 F32 [B, in_channels, H/8, W/8]
 *            timestep               F32 [B]
 *            encoder_hidden_states  F32 [B, L, cross_attention_dim]
 *            text_embeds            F32 [B, pooled_dim]   (SDXL only)
 *            time_ids               F32 [B, 6]            (SDXL only)
 *       out: noise_pred             F32 [B, out_channels, H/8, W/8]
 *   "vae_decoder"   (AutoencoderKL decoder incl. post_quant_conv)
 *       in : latents                F32 [B, latent_channels, h, w] (already divided
 *                                                   by scaling_factor)
 *       out: image                  F32 [B, out_channels, 8h, 8w], about [-1, 1]
 *   "vae_encoder"   (AutoencoderKL encoder incl. quant_conv)
 *       in : image                  F32 [B, in_channels, H, W] in [-1, 1]
 *       out: mean                   F32 [B, latent_channels, H/8, W/8]
 *            logvar                 F32 [B, latent_channels, H/8, W/8] (clamped to
 *                                                   [-30, 20] as diffusers does)
 *
 * Unknown input names must be refused with SDW_STATUS_INVALID_ARGUMENT, as must
 * missing required inputs and outputs whose shape does not match.
 *
 * ---------------------------------------------------------------------------
 * 7. Build once, run many
 * ---------------------------------------------------------------------------
 * Weights stay resident on the plugin's device from component_load until
 * component_destroy. component_prepare (optional, may be NULL) announces the
 * input shapes of the runs that follow, so a plugin can plan buffers, record a
 * command buffer or capture a graph once and replay it on every step. A run whose
 * shapes differ from the prepared ones is still valid (the plugin re-plans).
 * What stays resident can be reported per context (since 1.1, optional):
 * context_memory gives the bytes of weights, of plans (prepared buffers, recorded
 * command buffers, captured graphs) and of caches (scratch a plugin keeps between
 * runs and may release) held on the context's device.
 *
 * ---------------------------------------------------------------------------
 * 8. Cancellation and progress
 * ---------------------------------------------------------------------------
 * sdw_run_args carries should_cancel and progress callbacks. A long run polls
 * should_cancel at convenient points (between layers, tiles, ...) and, when it
 * returns non-zero, stops and returns SDW_STATUS_CANCELLED (with a message). The
 * host cancels whole jobs between denoising steps itself; the in-call check
 * makes cancellation prompt on large models.
 */
#ifndef SDW_PLUGIN_API_H
#define SDW_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SDW_ABI_VERSION_MAJOR 1
#define SDW_ABI_VERSION_MINOR 1

#if defined(_WIN32)
#define SDW_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SDW_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Names of the exported symbols, for dlsym. */
#define SDW_PLUGIN_INIT_SYMBOL "sdw_plugin_init"
#define SDW_PLUGIN_PROBE_SYMBOL "sdw_plugin_probe"

typedef enum sdw_status {
    SDW_STATUS_OK = 0,
    SDW_STATUS_INVALID_ARGUMENT = 1, /* bad input name, shape, dtype, config */
    SDW_STATUS_UNSUPPORTED = 2,      /* valid request this plugin cannot do */
    SDW_STATUS_OUT_OF_MEMORY = 3,    /* host or device memory exhausted */
    SDW_STATUS_DEVICE_ERROR = 4,     /* the device or its driver failed */
    SDW_STATUS_INTERNAL = 5,         /* a bug in the plugin */
    SDW_STATUS_CANCELLED = 6,        /* should_cancel said stop; not an error */
    SDW_STATUS_VERSION_MISMATCH = 7, /* sdw_plugin_init refuses the host */
    SDW_STATUS_FORCE_32BIT = 0x7fffffff /* not a status: pins the enum to 32 bits */
} sdw_status;

typedef enum sdw_dtype {
    SDW_DTYPE_F32 = 0,
    SDW_DTYPE_F16 = 1,
    SDW_DTYPE_BF16 = 2,
    SDW_DTYPE_I32 = 3,
    SDW_DTYPE_I64 = 4,
    SDW_DTYPE_U8 = 5,
    SDW_DTYPE_FORCE_32BIT = 0x7fffffff /* not a dtype: pins the enum to 32 bits */
} sdw_dtype;

typedef enum sdw_log_level {
    SDW_LOG_DEBUG = 0,
    SDW_LOG_INFO = 1,
    SDW_LOG_WARN = 2,
    SDW_LOG_ERROR = 3,
    SDW_LOG_FORCE_32BIT = 0x7fffffff /* not a level: pins the enum to 32 bits */
} sdw_log_level;

/* Enum-typed fields are 32 bits wide on every compiler that builds against this
 * header (a compiler with 64-bit or packed enums is refused here). */
#if defined(__cplusplus)
#define SDW_STATIC_ASSERT(condition, message) static_assert(condition, message)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SDW_STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#else /* C99: a negative array size fails the build */
#define SDW_STATIC_ASSERT_JOIN2(a, b) a##b
#define SDW_STATIC_ASSERT_JOIN(a, b) SDW_STATIC_ASSERT_JOIN2(a, b)
#define SDW_STATIC_ASSERT(condition, message)                                             \
    typedef char SDW_STATIC_ASSERT_JOIN(sdw_static_assert_, __LINE__)[(condition) ? 1 : -1]
#endif
SDW_STATIC_ASSERT(sizeof(sdw_status) == 4, "sdw_status must be 32 bits");
SDW_STATIC_ASSERT(sizeof(sdw_dtype) == 4, "sdw_dtype must be 32 bits");
SDW_STATIC_ASSERT(sizeof(sdw_log_level) == 4, "sdw_log_level must be 32 bits");

#define SDW_MAX_DIMS 8

/* A named, dense, row-major tensor in host memory. Views never own `data`. */
typedef struct sdw_tensor_view {
    uint32_t struct_size;
    const char *name;            /* NUL-terminated, owned by whoever made the view */
    sdw_dtype dtype;
    uint32_t ndim;               /* 0..SDW_MAX_DIMS */
    int64_t shape[SDW_MAX_DIMS]; /* shape[0..ndim) */
    void *data;                  /* const for inputs and weights */
    uint64_t byte_size;          /* = element count * dtype size */
} sdw_tensor_view;

/* Host-owned error object; the plugin fills it only through host->error_set. */
typedef struct sdw_error sdw_error;

/* Opaque plugin objects. */
typedef struct sdw_context sdw_context;
typedef struct sdw_component sdw_component;

/* What the host offers the plugin. Valid from sdw_plugin_init until unload. */
typedef struct sdw_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    /* Records `message` (copied) as the reason for the failing call's status. */
    void (*error_set)(sdw_error *err, const char *message);
    /* Logs one line through the host's logger. */
    void (*log)(sdw_log_level level, const char *message);
} sdw_host_api;

/* What a plugin says about itself and the device it found. */
typedef struct sdw_plugin_info {
    uint32_t struct_size;
    const char *name;        /* short id, e.g. "cpu-blas" */
    const char *version;     /* the plugin's own version, e.g. "0.1.0" */
    const char *device;      /* human-readable, e.g. "CPU (2 threads, OpenBLAS 0.3.21)" */
    uint32_t supports_f16;   /* non-zero: computes in half precision when asked */
} sdw_plugin_info;

/* Everything component_load needs. */
typedef struct sdw_component_desc {
    uint32_t struct_size;
    const char *kind;                 /* "text_encoder", "unet", "vae_decoder", "vae_encoder" */
    const char *config_json;          /* the component's config.json text */
    const sdw_tensor_view *weights;   /* weights[0..weight_count) */
    uint64_t weight_count;
} sdw_component_desc;

typedef struct sdw_run_args {
    uint32_t struct_size;
    const sdw_tensor_view *inputs;    /* inputs[0..input_count) */
    uint64_t input_count;
    sdw_tensor_view *outputs;         /* host-allocated, outputs[0..output_count) */
    uint64_t output_count;
    int32_t clip_skip;                /* text_encoder only; see section 6 (0 = 1) */
    /* Non-zero: stop as soon as convenient and return SDW_STATUS_CANCELLED. */
    int32_t (*should_cancel)(void *user);
    /* Optional fine-grained progress within this call, done <= total. */
    void (*progress)(void *user, uint32_t done, uint32_t total);
    void *user;                       /* passed back to the two callbacks */
} sdw_run_args;

/* Since 1.1. What context_describe says about one context. The host sets
 * struct_size (and zeroes the rest) before the call; the plugin fills only the
 * fields that struct_size covers. */
typedef struct sdw_context_info {
    uint32_t struct_size;
    /* Human-readable device this context runs on, e.g. "CUDA:1 (NVIDIA H200)" or
     * "CPU (16 threads)". Owned by the context: valid until the next call on the
     * context or its destruction. NULL or "" means "the plugin-wide
     * sdw_plugin_info.device applies". */
    const char *device;
} sdw_context_info;

/* Since 1.1. Bytes one context holds resident on its device (device memory for a
 * GPU, host memory for a CPU plugin) at the time of the call, summed over the
 * components loaded from it. The host sets struct_size (and zeroes the rest). */
typedef struct sdw_memory_report {
    uint32_t struct_size;
    uint64_t weights_bytes; /* the components' weights as stored on the device */
    uint64_t plans_bytes;   /* prepared plans: fixed buffers, command buffers, graphs */
    uint64_t cache_bytes;   /* scratch kept between runs that could be released */
} sdw_memory_report;

/* The plugin's function table. Every function pointer is required unless marked
 * optional (then it may be NULL). */
typedef struct sdw_plugin_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;

    /* Fills *info; the strings stay valid until unload. */
    sdw_status (*describe)(sdw_plugin_info *info, sdw_error *err);

    /* Creates a context (a device, its queues and allocator) configured by the
     * opaque JSON object `options_json` from the host's config ("{}" if none). */
    sdw_status (*context_create)(const char *options_json, sdw_context **out, sdw_error *err);
    void (*context_destroy)(sdw_context *ctx);

    /* Loads one component; weights are copied or uploaded before returning. A
     * plugin that does not implement a kind returns SDW_STATUS_UNSUPPORTED: for
     * "vae_encoder" the host then serves txt2img only (img2img and inpaint are
     * refused with a clear error); the other kinds are required. */
    sdw_status (*component_load)(sdw_context *ctx, const sdw_component_desc *desc,
                                 sdw_component **out, sdw_error *err);
    void (*component_destroy)(sdw_component *component);

    /* Optional: announces the input shapes (data pointers may be NULL) of the runs
     * that follow so the plugin can plan once and replay. */
    sdw_status (*component_prepare)(sdw_component *component, const sdw_tensor_view *inputs,
                                    uint64_t input_count, sdw_error *err);

    /* Runs the component's forward pass on the named inputs into the outputs. */
    sdw_status (*component_run)(sdw_component *component, const sdw_run_args *args,
                                sdw_error *err);

    /* ---- Since 1.1. A host reads the fields below only when struct_size covers
     * them; a 1.0 table ends above. Both are optional (may be NULL). ---- */

    /* Optional: fills *info (see sdw_context_info) for this context. A call on the
     * context: the host serializes it with every other call on the context and
     * its components. Returns SDW_STATUS_INVALID_ARGUMENT for a NULL argument or
     * an info whose struct_size is too small for the fields the plugin writes;
     * any failure carries a message, like every call. */
    sdw_status (*context_describe)(sdw_context *ctx, sdw_context_info *info, sdw_error *err);

    /* Optional: fills *report (see sdw_memory_report) with what this context holds
     * on its device now. Meant to be cheap (counters, not a device query); the host
     * calls it after component loads and after runs, on the thread that makes the
     * context's other calls, and caches the answer for its status pages. Same
     * threading and errors as context_describe; SDW_STATUS_UNSUPPORTED (with a
     * message) says this context cannot tell, which the host shows as "not
     * reported", as it does a NULL pointer. */
    sdw_status (*context_memory)(sdw_context *ctx, sdw_memory_report *report, sdw_error *err);
} sdw_plugin_api;

/* Required export. Checks host->abi_major/abi_minor (returning
 * SDW_STATUS_VERSION_MISMATCH with a message naming both versions when it cannot
 * work with this host), then stores its table in *out. */
typedef sdw_status (*sdw_plugin_init_fn)(const sdw_host_api *host, const sdw_plugin_api **out,
                                         sdw_error *err);

/* Optional export. Returns SDW_STATUS_OK when the plugin can run here; otherwise
 * SDW_STATUS_UNSUPPORTED with a reason in err. Must be cheap and side-effect free. */
typedef sdw_status (*sdw_plugin_probe_fn)(const sdw_host_api *host, sdw_error *err);

/* Size in bytes of one element of `dtype`, 0 for an unknown value. */
static inline size_t sdw_dtype_size(sdw_dtype dtype) {
    switch (dtype) {
    case SDW_DTYPE_F32: return 4;
    case SDW_DTYPE_F16: return 2;
    case SDW_DTYPE_BF16: return 2;
    case SDW_DTYPE_I32: return 4;
    case SDW_DTYPE_I64: return 8;
    case SDW_DTYPE_U8: return 1;
    case SDW_DTYPE_FORCE_32BIT: break;
    }
    return 0;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SDW_PLUGIN_API_H */
