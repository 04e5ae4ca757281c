#include "server/service_state.h"

namespace sdw {

ServicePhase ServiceState::phase() const {
    std::lock_guard lock(mutex_);
    return phase_;
}

void ServiceState::set_ready(ModelDescription model,
                             std::vector<std::shared_ptr<const Generator>> instances) {
    std::vector<std::string> devices;
    for (const auto &instance : instances) devices.push_back(instance->describe().backend.device);
    std::lock_guard lock(mutex_);
    model_ = std::move(model);
    instances_ = std::move(instances);
    instance_devices_ = std::move(devices);
    if (phase_ == ServicePhase::loading) phase_ = ServicePhase::ready;
}

void ServiceState::set_draining() {
    std::lock_guard lock(mutex_);
    if (phase_ != ServicePhase::failed) phase_ = ServicePhase::draining;
}

void ServiceState::set_failed(std::string reason) {
    std::lock_guard lock(mutex_);
    phase_ = ServicePhase::failed;
    failure_ = std::move(reason);
}

std::optional<ModelDescription> ServiceState::model() const {
    std::lock_guard lock(mutex_);
    std::optional<ModelDescription> model = model_;
    if (!model || instances_.empty()) return model;
    BackendMemory total;
    for (const auto &instance : instances_) {
        const std::optional<BackendMemory> memory = instance->memory();
        if (!memory) {
            model->backend.memory.reset();
            return model;
        }
        total.weights_bytes += memory->weights_bytes;
        total.plans_bytes += memory->plans_bytes;
        total.cache_bytes += memory->cache_bytes;
    }
    model->backend.memory = total;
    return model;
}

std::vector<BackendContextStatus> ServiceState::contexts() const {
    std::lock_guard lock(mutex_);
    std::vector<BackendContextStatus> contexts;
    if (!model_) return contexts;
    if (instances_.empty()) {
        contexts.push_back({model_->backend.device, model_->backend.memory});
        return contexts;
    }
    for (size_t i = 0; i < instances_.size(); ++i)
        contexts.push_back({instance_devices_[i], instances_[i]->memory()});
    return contexts;
}

std::string ServiceState::failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
}

}  // namespace sdw
