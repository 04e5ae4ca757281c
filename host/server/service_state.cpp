#include "server/service_state.h"

namespace sdw {

ServicePhase ServiceState::phase() const {
    std::lock_guard lock(mutex_);
    return phase_;
}

void ServiceState::set_ready(ModelDescription model) {
    std::lock_guard lock(mutex_);
    model_ = std::move(model);
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
    return model_;
}

std::string ServiceState::failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
}

}  // namespace sdw
