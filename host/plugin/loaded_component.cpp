#include "plugin/loaded_component.h"

#include "plugin/host_error.h"
#include "plugin/plugin_context.h"
#include "plugin/plugin_errors.h"

#include <utility>

namespace sdw {
namespace {

struct RunCallbacks {
    const std::function<bool()> *should_cancel;
    const std::function<void(uint32_t, uint32_t)> *progress;
};

// C trampolines: nothing may throw back into the plugin.
int32_t should_cancel_trampoline(void *user) noexcept {
    const auto *callbacks = static_cast<const RunCallbacks *>(user);
    try {
        return (*callbacks->should_cancel)() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

void progress_trampoline(void *user, uint32_t done, uint32_t total) noexcept {
    const auto *callbacks = static_cast<const RunCallbacks *>(user);
    try {
        (*callbacks->progress)(done, total);
    } catch (...) {
    }
}

}  // namespace

LoadedComponent::LoadedComponent(std::shared_ptr<detail::ContextHandle> context,
                                 sdw_component *component, std::string kind)
    : context_(std::move(context)), component_(component), kind_(std::move(kind)) {}

LoadedComponent::LoadedComponent(LoadedComponent &&other) noexcept
    : context_(std::move(other.context_)), component_(std::exchange(other.component_, nullptr)),
      kind_(std::move(other.kind_)) {}

LoadedComponent &LoadedComponent::operator=(LoadedComponent &&other) noexcept {
    if (this != &other) {
        destroy();
        context_ = std::move(other.context_);
        component_ = std::exchange(other.component_, nullptr);
        kind_ = std::move(other.kind_);
    }
    return *this;
}

LoadedComponent::~LoadedComponent() { destroy(); }

void LoadedComponent::destroy() noexcept {
    if (component_ != nullptr) {
        context_->library->api().component_destroy(component_);
        component_ = nullptr;
    }
    context_.reset();
}

void LoadedComponent::prepare(std::span<const sdw_tensor_view> inputs) {
    const sdw_plugin_api &api = context_->library->api();
    if (api.component_prepare == nullptr) return;
    sdw_error err;
    const sdw_status status = api.component_prepare(component_, inputs.data(), inputs.size(), &err);
    if (status != SDW_STATUS_OK) {
        throw make_call_error(status, "component_prepare(" + kind_ + ")", err.take(),
                              context_->library->path().string());
    }
}

void LoadedComponent::run(std::span<const sdw_tensor_view> inputs,
                          std::span<sdw_tensor_view> outputs, int32_t clip_skip,
                          const std::function<bool()> &should_cancel,
                          const std::function<void(uint32_t, uint32_t)> &progress) {
    RunCallbacks callbacks{&should_cancel, &progress};
    sdw_run_args args{};
    args.struct_size = sizeof(args);
    args.inputs = inputs.data();
    args.input_count = inputs.size();
    args.outputs = outputs.data();
    args.output_count = outputs.size();
    args.clip_skip = clip_skip;
    args.should_cancel = should_cancel ? &should_cancel_trampoline : nullptr;
    args.progress = progress ? &progress_trampoline : nullptr;
    args.user = &callbacks;
    sdw_error err;
    const sdw_status status = context_->library->api().component_run(component_, &args, &err);
    if (status != SDW_STATUS_OK) {
        throw make_call_error(status, "component_run(" + kind_ + ")", err.take(),
                              context_->library->path().string());
    }
}

}  // namespace sdw
