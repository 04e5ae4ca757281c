/*
 * sdw/plugin_api.hpp — a thin C++20 helper for writing sd-worker plugins.
 *
 * The C header sdw/plugin_api.h is the contract; this header only saves a C++
 * plugin author from writing the C glue by hand. It is header-only, depends on
 * the standard library alone, and is optional: a plugin may implement the C
 * tables directly.
 *
 * ---------------------------------------------------------------------------
 * Writing a plugin
 * ---------------------------------------------------------------------------
 *   #include <sdw/plugin_api.hpp>
 *   namespace sp = sdw::plugin;
 *
 *   class MyComponent final : public sp::Component {
 *   public:
 *       void run(const sp::RunArgs &args) override {
 *           args.require_only_inputs({"latents"});
 *           const sdw_tensor_view &latents = args.input("latents");
 *           sp::expect_dtype(latents, SDW_DTYPE_F32);
 *           sp::expect_shape(latents, {sp::any_dim, 4, sp::any_dim, sp::any_dim});
 *           ...
 *           args.check_cancel();          // throws Error{SDW_STATUS_CANCELLED}
 *       }
 *   };
 *
 *   class MyContext final : public sp::Context {
 *   public:
 *       std::unique_ptr<sp::Component> load_component(const sp::ComponentDesc &desc) override;
 *       // Optional (ABI 1.1): this context's device, and what it holds there.
 *       std::string describe() const override { return "CUDA:1 (NVIDIA H200)"; }
 *       sp::MemoryReport memory() const override { return {weights, plans, cache}; }
 *   };
 *
 *   struct MyPlugin {
 *       static sp::Info describe() { return {"my-plugin", "0.1.0", "CPU", false}; }
 *       static std::unique_ptr<sp::Context> create_context(const std::string &options_json);
 *       // Optional: static void probe();   throw sp::Error{SDW_STATUS_UNSUPPORTED, "why"}
 *       // Optional: static constexpr uint32_t min_host_abi_minor = 0;
 *   };
 *
 *   SDW_PLUGIN_DEFINE(MyPlugin);
 *
 * SDW_PLUGIN_DEFINE must appear exactly once, at namespace scope, in one source
 * file of the plugin. It defines the exported C entry points sdw_plugin_init and
 * sdw_plugin_probe and a static sdw_plugin_api table whose functions forward to
 * the classes above.
 *
 * ---------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------
 * Every generated entry point catches every exception, so none crosses into the
 * host, and turns it into a status plus a message given to host->error_set:
 *   sdw::plugin::Error{status, message}  -> that status and message
 *   std::bad_alloc                       -> SDW_STATUS_OUT_OF_MEMORY
 *   any other std::exception             -> SDW_STATUS_INTERNAL, what()
 *   anything else                        -> SDW_STATUS_INTERNAL
 * Throw Error with SDW_STATUS_INVALID_ARGUMENT for a bad request,
 * SDW_STATUS_UNSUPPORTED for a valid request the plugin cannot do, and
 * SDW_STATUS_CANCELLED (RunArgs::check_cancel does this) when asked to stop.
 * Destructors (Context, Component) must not throw; an exception escaping one is
 * swallowed and logged, since context_destroy / component_destroy return void.
 *
 * ---------------------------------------------------------------------------
 * Versions
 * ---------------------------------------------------------------------------
 * The generated sdw_plugin_init refuses, with SDW_STATUS_VERSION_MISMATCH and a
 * message naming both versions, a host whose ABI major differs from the one
 * this plugin was compiled against or whose minor is below what the plugin
 * needs. What it needs is Plugin::min_host_abi_minor when declared, otherwise
 * the minor of the header it was compiled against (the safe default: a plugin
 * that uses nothing newer may declare a lower value to run on older hosts). The
 * plugin's table reports that same requirement in abi_minor, and its
 * struct_size tells the host which fields exist. The table always carries the
 * 1.1 functions (context_describe, context_memory): a 1.0 host reads only the
 * fields it knows, so declaring min_host_abi_minor = 0 keeps such a plugin
 * loadable there, and a 1.1 host finds the new functions through struct_size.
 *
 * ---------------------------------------------------------------------------
 * Ownership and threading
 * ---------------------------------------------------------------------------
 * Exactly as in plugin_api.h: the host owns every tensor view and its data for
 * the duration of one call; a Context and the Components it loaded are never
 * called concurrently; different Contexts may be. Components are destroyed
 * before the Context that loaded them. Info strings are copied once into
 * storage that lives until the plugin is unloaded.
 */
#ifndef SDW_PLUGIN_API_HPP
#define SDW_PLUGIN_API_HPP

#include <sdw/plugin_api.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace sdw::plugin {

// ---------------------------------------------------------------------------
// Names for messages
// ---------------------------------------------------------------------------

inline const char *status_name(sdw_status status) noexcept {
    switch (status) {
    case SDW_STATUS_OK: return "OK";
    case SDW_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case SDW_STATUS_UNSUPPORTED: return "UNSUPPORTED";
    case SDW_STATUS_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case SDW_STATUS_DEVICE_ERROR: return "DEVICE_ERROR";
    case SDW_STATUS_INTERNAL: return "INTERNAL";
    case SDW_STATUS_CANCELLED: return "CANCELLED";
    case SDW_STATUS_VERSION_MISMATCH: return "VERSION_MISMATCH";
    case SDW_STATUS_FORCE_32BIT: break;
    }
    return "UNKNOWN_STATUS";
}

inline const char *dtype_name(sdw_dtype dtype) noexcept {
    switch (dtype) {
    case SDW_DTYPE_F32: return "F32";
    case SDW_DTYPE_F16: return "F16";
    case SDW_DTYPE_BF16: return "BF16";
    case SDW_DTYPE_I32: return "I32";
    case SDW_DTYPE_I64: return "I64";
    case SDW_DTYPE_U8: return "U8";
    case SDW_DTYPE_FORCE_32BIT: break;
    }
    return "UNKNOWN_DTYPE";
}

// "v1.0"
inline std::string version_string(uint32_t major, uint32_t minor) {
    // Appended piece by piece: GCC 12's -Wrestrict misreads the prepend in
    // "v" + std::to_string(...) as an overlapping memcpy in Release builds.
    std::string text = "v";
    text += std::to_string(major);
    text += '.';
    text += std::to_string(minor);
    return text;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

// Thrown by plugin code; the boundary turns it into `status` and `what()`.
class Error : public std::runtime_error {
public:
    Error(sdw_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    sdw_status status() const noexcept { return status_; }

private:
    sdw_status status_;
};

// ---------------------------------------------------------------------------
// Tensor helpers
// ---------------------------------------------------------------------------

// A wildcard in expect_shape.
inline constexpr int64_t any_dim = -1;

inline std::string view_name(const sdw_tensor_view &view) {
    return view.name != nullptr ? view.name : "<unnamed>";
}

// "[2, 4, 8, 8]"; `any_dim` prints as "*".
inline std::string shape_string(std::span<const int64_t> dims) {
    std::string out = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
        if (i != 0) out += ", ";
        out += dims[i] == any_dim ? std::string("*") : std::to_string(dims[i]);
    }
    return out + "]";
}

inline std::string shape_string(const sdw_tensor_view &view) {
    const uint32_t ndim = view.ndim <= SDW_MAX_DIMS ? view.ndim : SDW_MAX_DIMS;
    return shape_string(std::span<const int64_t>(view.shape, ndim));
}

inline int64_t element_count(const sdw_tensor_view &view) noexcept {
    int64_t count = 1;
    for (uint32_t i = 0; i < view.ndim && i < SDW_MAX_DIMS; ++i) count *= view.shape[i];
    return count;
}

// Throws INVALID_ARGUMENT "tensor 'x' has dtype F16, expected F32".
inline void expect_dtype(const sdw_tensor_view &view, sdw_dtype expected) {
    if (view.dtype != expected) {
        throw Error(SDW_STATUS_INVALID_ARGUMENT, "tensor '" + view_name(view) + "' has dtype " +
                                                     dtype_name(view.dtype) + ", expected " +
                                                     dtype_name(expected));
    }
}

// Throws INVALID_ARGUMENT "tensor 'x' has shape [1, 3], expected [*, 4, 8, 8]" unless
// the rank matches and every dimension that is not `any_dim` is equal. Also checks
// that byte_size agrees with the shape and dtype, and that data is present.
inline void expect_shape(const sdw_tensor_view &view, std::initializer_list<int64_t> expected) {
    bool ok = view.ndim == expected.size();
    if (ok) {
        uint32_t i = 0;
        for (int64_t dim : expected) {
            if (dim != any_dim && view.shape[i] != dim) ok = false;
            if (view.shape[i] < 0) ok = false;
            ++i;
        }
    }
    if (!ok) {
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                    "tensor '" + view_name(view) + "' has shape " + shape_string(view) +
                        ", expected " +
                        shape_string(std::span<const int64_t>(expected.begin(), expected.size())));
    }
    const uint64_t want = static_cast<uint64_t>(element_count(view)) * sdw_dtype_size(view.dtype);
    if (view.byte_size != want) {
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                    "tensor '" + view_name(view) + "' has byte_size " +
                        std::to_string(view.byte_size) + " but shape " + shape_string(view) +
                        " of " + dtype_name(view.dtype) + " needs " + std::to_string(want));
    }
    if (view.data == nullptr && want != 0) {
        throw Error(SDW_STATUS_INVALID_ARGUMENT, "tensor '" + view_name(view) + "' has no data");
    }
}

// The view's data as T after checking its dtype. T must match: float for F32,
// int32_t for I32, int64_t for I64, uint8_t for U8, uint16_t for F16/BF16.
template <typename T>
std::span<T> data_as(const sdw_tensor_view &view, sdw_dtype dtype) {
    expect_dtype(view, dtype);
    if (sizeof(T) != sdw_dtype_size(dtype)) {
        throw Error(SDW_STATUS_INTERNAL, std::string("data_as: element type does not fit ") +
                                             dtype_name(dtype));
    }
    return std::span<T>(static_cast<T *>(view.data), static_cast<size_t>(element_count(view)));
}

inline std::span<const float> f32(const sdw_tensor_view &view) {
    return data_as<const float>(view, SDW_DTYPE_F32);
}
inline std::span<float> f32_out(const sdw_tensor_view &view) {
    return data_as<float>(view, SDW_DTYPE_F32);
}

// Finds a tensor by name among `views`; nullptr when absent.
template <typename View>
View *find_tensor(std::span<View> views, std::string_view name) noexcept {
    for (View &view : views) {
        if (view.name != nullptr && name == view.name) return &view;
    }
    return nullptr;
}

// "a, b, c" — the names present, for "missing input" messages.
template <typename View>
std::string tensor_names(std::span<View> views) {
    std::string out;
    for (const View &view : views) {
        if (!out.empty()) out += ", ";
        out += view_name(view);
    }
    return out.empty() ? std::string("none") : out;
}

// ---------------------------------------------------------------------------
// Run arguments
// ---------------------------------------------------------------------------

class RunArgs {
public:
    explicit RunArgs(const sdw_run_args &args) : args_(args) {}

    std::span<const sdw_tensor_view> inputs() const noexcept {
        return {args_.inputs, static_cast<size_t>(args_.input_count)};
    }
    std::span<sdw_tensor_view> outputs() const noexcept {
        return {args_.outputs, static_cast<size_t>(args_.output_count)};
    }
    int32_t clip_skip() const noexcept { return args_.clip_skip; }

    const sdw_tensor_view *find_input(std::string_view name) const noexcept {
        return find_tensor(inputs(), name);
    }
    sdw_tensor_view *find_output(std::string_view name) const noexcept {
        return find_tensor(outputs(), name);
    }
    // Throws INVALID_ARGUMENT "missing input 'x' (given: a, b)".
    const sdw_tensor_view &input(std::string_view name) const {
        if (const sdw_tensor_view *view = find_input(name)) return *view;
        throw Error(SDW_STATUS_INVALID_ARGUMENT, "missing input '" + std::string(name) +
                                                     "' (given: " + tensor_names(inputs()) + ")");
    }
    sdw_tensor_view &output(std::string_view name) const {
        if (sdw_tensor_view *view = find_output(name)) return *view;
        throw Error(SDW_STATUS_INVALID_ARGUMENT, "missing output '" + std::string(name) +
                                                     "' (given: " + tensor_names(outputs()) + ")");
    }
    // Refuses any input (output) whose name is not in `known`, as the contract asks.
    void require_only_inputs(std::initializer_list<std::string_view> known) const {
        refuse_unknown(inputs(), known, "input");
    }
    void require_only_outputs(std::initializer_list<std::string_view> known) const {
        refuse_unknown(outputs(), known, "output");
    }

    bool should_cancel() const {
        return args_.should_cancel != nullptr && args_.should_cancel(args_.user) != 0;
    }
    // Throws Error{SDW_STATUS_CANCELLED} when the host asked to stop.
    void check_cancel() const {
        if (should_cancel()) throw Error(SDW_STATUS_CANCELLED, "cancelled by the host");
    }
    void progress(uint32_t done, uint32_t total) const {
        if (args_.progress != nullptr) args_.progress(args_.user, done, total);
    }

    const sdw_run_args &raw() const noexcept { return args_; }

private:
    template <typename View>
    static void refuse_unknown(std::span<View> views, std::initializer_list<std::string_view> known,
                               const char *what) {
        for (const View &view : views) {
            bool found = false;
            for (std::string_view name : known) {
                if (view.name != nullptr && name == view.name) found = true;
            }
            if (!found) {
                std::string allowed;
                for (std::string_view name : known) {
                    if (!allowed.empty()) allowed += ", ";
                    allowed += name;
                }
                throw Error(SDW_STATUS_INVALID_ARGUMENT, std::string("unknown ") + what + " '" +
                                                             view_name(view) + "' (expected: " +
                                                             allowed + ")");
            }
        }
    }

    const sdw_run_args &args_;
};

// ---------------------------------------------------------------------------
// What a plugin implements
// ---------------------------------------------------------------------------

struct Info {
    std::string name;     // short id, e.g. "cpu-blas"
    std::string version;  // the plugin's own version
    std::string device;   // human-readable description of the device found
    bool supports_f16 = false;
};

struct ComponentDesc {
    std::string_view kind;
    std::string_view config_json;
    std::span<const sdw_tensor_view> weights;

    const sdw_tensor_view *find_weight(std::string_view name) const noexcept {
        return find_tensor(weights, name);
    }
};

class Component {
public:
    virtual ~Component() = default;
    // Optional planning for the input shapes that follow (data may be NULL).
    virtual void prepare(std::span<const sdw_tensor_view> inputs) {}
    virtual void run(const RunArgs &args) = 0;
};

// What a context holds resident on its device, in bytes (sdw_memory_report).
struct MemoryReport {
    uint64_t weights_bytes = 0, plans_bytes = 0, cache_bytes = 0;
};

class Context {
public:
    virtual ~Context() = default;
    // Throw Error{SDW_STATUS_UNSUPPORTED} for a kind the plugin does not implement.
    virtual std::unique_ptr<Component> load_component(const ComponentDesc &desc) = 0;
    // ABI 1.1, context_describe: the device this context runs on ("CUDA:1 (...)",
    // "CPU (16 threads)"). Empty: the plugin-wide Info::device applies.
    virtual std::string describe() const { return {}; }
    // ABI 1.1, context_memory: bytes resident on the device now; keep it cheap
    // (counters), the host asks after every load and job. The default says
    // SDW_STATUS_UNSUPPORTED, which the host shows as "not reported" rather
    // than as zero bytes; override it to report.
    virtual MemoryReport memory() const {
        throw Error(SDW_STATUS_UNSUPPORTED, "this plugin does not report its context's memory");
    }

private:
    template <typename Plugin>
    friend struct Adapter;
    std::string described_;  // context_describe's answer, alive until the next one
};

// ---------------------------------------------------------------------------
// The C boundary
// ---------------------------------------------------------------------------

namespace detail {

// The host table given to sdw_plugin_init (or sdw_plugin_probe before it).
inline const sdw_host_api *&host_slot() noexcept {
    static const sdw_host_api *host = nullptr;
    return host;
}

inline bool host_usable(const sdw_host_api *host) noexcept {
    return host != nullptr &&
           host->struct_size >= offsetof(sdw_host_api, log) + sizeof(host->log) &&
           host->error_set != nullptr;
}

inline void report(sdw_error *err, const char *message) noexcept {
    const sdw_host_api *host = host_slot();
    if (host != nullptr && host->error_set != nullptr && err != nullptr) {
        host->error_set(err, message != nullptr && message[0] != '\0' ? message : "(no message)");
    }
}

}  // namespace detail

// The host table, or nullptr before sdw_plugin_init.
inline const sdw_host_api *host() noexcept { return detail::host_slot(); }

// Logs through the host; silently dropped before init.
inline void log(sdw_log_level level, const std::string &message) noexcept {
    const sdw_host_api *h = host();
    if (h != nullptr && h->log != nullptr) h->log(level, message.c_str());
}

// Runs `body` and converts whatever it throws into a status and a message.
template <typename Body>
sdw_status guard(sdw_error *err, Body &&body) noexcept {
    try {
        std::forward<Body>(body)();
        return SDW_STATUS_OK;
    } catch (const Error &e) {
        detail::report(err, e.what());
        return e.status() == SDW_STATUS_OK ? SDW_STATUS_INTERNAL : e.status();
    } catch (const std::bad_alloc &) {
        detail::report(err, "out of memory");
        return SDW_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        detail::report(err, e.what());
        return SDW_STATUS_INTERNAL;
    } catch (...) {
        detail::report(err, "unknown exception in plugin");
        return SDW_STATUS_INTERNAL;
    }
}

template <typename Plugin>
constexpr uint32_t required_host_minor() noexcept {
    if constexpr (requires { Plugin::min_host_abi_minor; }) {
        return Plugin::min_host_abi_minor;
    } else {
        return SDW_ABI_VERSION_MINOR;
    }
}

// Adapts a Plugin type (see the top of this file) to the C tables.
template <typename Plugin>
struct Adapter {
    static Context *context(sdw_context *ctx) noexcept { return reinterpret_cast<Context *>(ctx); }
    static Component *component(sdw_component *c) noexcept {
        return reinterpret_cast<Component *>(c);
    }

    static sdw_status describe(sdw_plugin_info *info, sdw_error *err) noexcept {
        return guard(err, [&] {
            if (info == nullptr || info->struct_size < offsetof(sdw_plugin_info, supports_f16) +
                                                           sizeof(info->supports_f16)) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "describe: sdw_plugin_info too small");
            }
            // Copied once so the C strings live until unload.
            static const Info stored = Plugin::describe();
            info->name = stored.name.c_str();
            info->version = stored.version.c_str();
            info->device = stored.device.c_str();
            info->supports_f16 = stored.supports_f16 ? 1u : 0u;
        });
    }

    static sdw_status context_create(const char *options_json, sdw_context **out,
                                     sdw_error *err) noexcept {
        return guard(err, [&] {
            if (out == nullptr) throw Error(SDW_STATUS_INVALID_ARGUMENT, "context_create: out is NULL");
            *out = nullptr;
            std::unique_ptr<Context> created =
                Plugin::create_context(options_json != nullptr ? options_json : "{}");
            if (!created) throw Error(SDW_STATUS_INTERNAL, "create_context returned no context");
            *out = reinterpret_cast<sdw_context *>(created.release());
        });
    }

    static void context_destroy(sdw_context *ctx) noexcept {
        try {
            delete context(ctx);
        } catch (...) {
            log(SDW_LOG_ERROR, "exception while destroying a context (swallowed)");
        }
    }

    static sdw_status component_load(sdw_context *ctx, const sdw_component_desc *desc,
                                     sdw_component **out, sdw_error *err) noexcept {
        return guard(err, [&] {
            if (ctx == nullptr || desc == nullptr || out == nullptr) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "component_load: NULL argument");
            }
            *out = nullptr;
            if (desc->struct_size < offsetof(sdw_component_desc, weight_count) +
                                        sizeof(desc->weight_count)) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "component_load: sdw_component_desc too small");
            }
            ComponentDesc view{desc->kind != nullptr ? desc->kind : "",
                               desc->config_json != nullptr ? desc->config_json : "{}",
                               {desc->weights, static_cast<size_t>(desc->weight_count)}};
            std::unique_ptr<Component> loaded = context(ctx)->load_component(view);
            if (!loaded) throw Error(SDW_STATUS_INTERNAL, "load_component returned no component");
            *out = reinterpret_cast<sdw_component *>(loaded.release());
        });
    }

    static void component_destroy(sdw_component *c) noexcept {
        try {
            delete component(c);
        } catch (...) {
            log(SDW_LOG_ERROR, "exception while destroying a component (swallowed)");
        }
    }

    static sdw_status context_describe(sdw_context *ctx, sdw_context_info *info,
                                       sdw_error *err) noexcept {
        return guard(err, [&] {
            if (ctx == nullptr || info == nullptr) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "context_describe: NULL argument");
            }
            if (info->struct_size < offsetof(sdw_context_info, device) + sizeof(info->device)) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "context_describe: sdw_context_info too small");
            }
            Context &described = *context(ctx);
            described.described_ = described.describe();
            info->device = described.described_.empty() ? nullptr : described.described_.c_str();
        });
    }

    static sdw_status context_memory(sdw_context *ctx, sdw_memory_report *report,
                                     sdw_error *err) noexcept {
        return guard(err, [&] {
            if (ctx == nullptr || report == nullptr) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "context_memory: NULL argument");
            }
            if (report->struct_size <
                offsetof(sdw_memory_report, cache_bytes) + sizeof(report->cache_bytes)) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "context_memory: sdw_memory_report too small");
            }
            const MemoryReport memory = context(ctx)->memory();
            report->weights_bytes = memory.weights_bytes;
            report->plans_bytes = memory.plans_bytes;
            report->cache_bytes = memory.cache_bytes;
        });
    }

    static sdw_status component_prepare(sdw_component *c, const sdw_tensor_view *inputs,
                                        uint64_t input_count, sdw_error *err) noexcept {
        return guard(err, [&] {
            if (c == nullptr) throw Error(SDW_STATUS_INVALID_ARGUMENT, "component_prepare: NULL component");
            component(c)->prepare({inputs, static_cast<size_t>(input_count)});
        });
    }

    static sdw_status component_run(sdw_component *c, const sdw_run_args *args,
                                    sdw_error *err) noexcept {
        return guard(err, [&] {
            if (c == nullptr || args == nullptr) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "component_run: NULL argument");
            }
            if (args->struct_size < offsetof(sdw_run_args, user) + sizeof(args->user)) {
                throw Error(SDW_STATUS_INVALID_ARGUMENT, "component_run: sdw_run_args too small");
            }
            component(c)->run(RunArgs(*args));
        });
    }

    static const sdw_plugin_api *table() noexcept {
        static const sdw_plugin_api api = {
            sizeof(sdw_plugin_api), SDW_ABI_VERSION_MAJOR, required_host_minor<Plugin>(),
            &describe, &context_create, &context_destroy, &component_load, &component_destroy,
            &component_prepare, &component_run, &context_describe, &context_memory};
        return &api;
    }

    static sdw_status probe(const sdw_host_api *h, sdw_error *err) noexcept {
        if (!detail::host_usable(h)) return SDW_STATUS_INVALID_ARGUMENT;
        if (host() == nullptr) detail::host_slot() = h;
        if constexpr (requires { Plugin::probe(); }) {
            return guard(err, [] { Plugin::probe(); });
        } else {
            return SDW_STATUS_OK;
        }
    }

    static sdw_status init(const sdw_host_api *h, const sdw_plugin_api **out,
                           sdw_error *err) noexcept {
        // Without a usable error_set there is no way to say why; refuse bare.
        if (!detail::host_usable(h)) return SDW_STATUS_INVALID_ARGUMENT;
        detail::host_slot() = h;
        return guard(err, [&] {
            if (out == nullptr) throw Error(SDW_STATUS_INVALID_ARGUMENT, "sdw_plugin_init: out is NULL");
            constexpr uint32_t need_minor = required_host_minor<Plugin>();
            if (h->abi_major != SDW_ABI_VERSION_MAJOR || h->abi_minor < need_minor) {
                throw Error(SDW_STATUS_VERSION_MISMATCH,
                            "plugin was built for plugin ABI " +
                                version_string(SDW_ABI_VERSION_MAJOR, SDW_ABI_VERSION_MINOR) +
                                " and needs a host with " +
                                version_string(SDW_ABI_VERSION_MAJOR, need_minor) +
                                " or a later minor of the same major; this host offers " +
                                version_string(h->abi_major, h->abi_minor));
            }
            *out = table();
        });
    }
};

}  // namespace sdw::plugin

// Defines the plugin's exported entry points for the Plugin type `PluginType`.
#define SDW_PLUGIN_DEFINE(PluginType)                                                          \
    extern "C" SDW_PLUGIN_EXPORT sdw_status sdw_plugin_init(                                   \
        const sdw_host_api *host, const sdw_plugin_api **out, sdw_error *err) {                \
        return ::sdw::plugin::Adapter<PluginType>::init(host, out, err);                       \
    }                                                                                          \
    extern "C" SDW_PLUGIN_EXPORT sdw_status sdw_plugin_probe(const sdw_host_api *host,         \
                                                             sdw_error *err) {                 \
        return ::sdw::plugin::Adapter<PluginType>::probe(host, err);                           \
    }                                                                                          \
    static_assert(true, "require a semicolon")

#endif /* SDW_PLUGIN_API_HPP */
