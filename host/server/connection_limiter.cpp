#include "server/connection_limiter.h"

namespace sdw {

std::pair<ConnectionLimiter::Admission, ConnectionLimiter::SlotPtr> ConnectionLimiter::admit(
    const std::string &address) {
    std::lock_guard lock(mutex_);
    size_t &from_address = per_address_[address];
    if (total_ < limits_.max_total && from_address < limits_.max_per_address) {
        ++total_;
        ++from_address;
        return {Admission::normal, std::make_shared<Slot>(shared_from_this(), address, false)};
    }
    if (from_address == 0) per_address_.erase(address);
    if (reserve_used_ < limits_.reserve) {
        ++reserve_used_;
        return {Admission::reserve, std::make_shared<Slot>(shared_from_this(), address, true)};
    }
    return {Admission::refused, nullptr};
}

void ConnectionLimiter::release(const std::string &address, bool reserve) {
    std::lock_guard lock(mutex_);
    if (reserve) {
        --reserve_used_;
        return;
    }
    --total_;
    auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

size_t ConnectionLimiter::open() const {
    std::lock_guard lock(mutex_);
    return total_ + reserve_used_;
}

}  // namespace sdw
