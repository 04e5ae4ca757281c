#include "plugin/plugin_context.h"

#include "plugin/host_error.h"
#include "plugin/plugin_errors.h"

namespace sdw {

detail::ContextHandle::~ContextHandle() {
    if (context != nullptr) library->api().context_destroy(context);
}

PluginContext PluginContext::create(std::shared_ptr<PluginLibrary> library,
                                    const std::string &options_json) {
    auto handle = std::make_shared<detail::ContextHandle>();
    handle->library = std::move(library);
    const sdw_plugin_api &api = handle->library->api();
    sdw_error err;
    sdw_context *context = nullptr;
    const sdw_status status = api.context_create(options_json.c_str(), &context, &err);
    if (status != SDW_STATUS_OK) {
        throw make_call_error(status, "context_create", err.take(),
                              handle->library->path().string());
    }
    if (context == nullptr) {
        throw make_call_error(SDW_STATUS_INTERNAL, "context_create (returned OK with no context)",
                              "", handle->library->path().string());
    }
    handle->context = context;
    return PluginContext(std::move(handle));
}

std::string PluginContext::device() {
    const PluginLibrary &library = *handle_->library;
    const PluginLibrary::ContextDescribeFn describe = library.context_describe_fn();
    if (describe == nullptr) return library.info().device;
    sdw_context_info info{};
    info.struct_size = sizeof(info);
    sdw_error err;
    const sdw_status status = describe(handle_->context, &info, &err);
    if (status != SDW_STATUS_OK) {
        throw make_call_error(status, "context_describe", err.take(), library.path().string());
    }
    // Copied at once: the string lives only until the next call on the context.
    if (info.device == nullptr || info.device[0] == '\0') return library.info().device;
    return info.device;
}

std::optional<PluginMemoryReport> PluginContext::memory() {
    const PluginLibrary &library = *handle_->library;
    const PluginLibrary::ContextMemoryFn memory_fn = library.context_memory_fn();
    if (memory_fn == nullptr) return std::nullopt;
    sdw_memory_report report{};
    report.struct_size = sizeof(report);
    sdw_error err;
    const sdw_status status = memory_fn(handle_->context, &report, &err);
    if (status == SDW_STATUS_UNSUPPORTED) return std::nullopt;  // "cannot tell", not a failure
    if (status != SDW_STATUS_OK) {
        throw make_call_error(status, "context_memory", err.take(), library.path().string());
    }
    return PluginMemoryReport{report.weights_bytes, report.plans_bytes, report.cache_bytes};
}

LoadedComponent PluginContext::load_component(std::string_view kind, std::string_view config_json,
                                              std::span<const sdw_tensor_view> weights) {
    const std::string kind_text(kind), config_text(config_json);
    sdw_component_desc desc{};
    desc.struct_size = sizeof(desc);
    desc.kind = kind_text.c_str();
    desc.config_json = config_text.c_str();
    desc.weights = weights.data();
    desc.weight_count = weights.size();
    sdw_error err;
    sdw_component *component = nullptr;
    const PluginLibrary &library = *handle_->library;
    const sdw_status status = library.api().component_load(handle_->context, &desc, &component, &err);
    if (status != SDW_STATUS_OK) {
        throw make_call_error(status, "component_load(" + kind_text + ")", err.take(),
                              library.path().string());
    }
    if (component == nullptr) {
        throw make_call_error(SDW_STATUS_INTERNAL,
                              "component_load(" + kind_text + ") (returned OK with no component)",
                              "", library.path().string());
    }
    return LoadedComponent(handle_, component, kind_text);
}

}  // namespace sdw
