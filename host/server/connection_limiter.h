// How many connections the server holds, in all and per client address. Each
// connection holds a slot for its whole life (the HTTP session, then the event stream
// that may take the connection over); the slot counts it out when the last holder goes.
//
//   within both limits                 -> normal: any request
//   over a limit, within the reserve   -> reserve: only GET /health and /ready are
//                                         answered (then the connection closes), so an
//                                         orchestrator's probes still get through
//   over a limit and the reserve       -> refused: closed at once
// Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sdw {

struct ConnectionLimits {
    size_t max_total = 512;
    size_t max_per_address = 128;
    size_t reserve = 16;  // connections beyond the limits that may ask for /health or /ready
};

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
public:
    enum class Admission { normal, reserve, refused };
    class Slot;
    using SlotPtr = std::shared_ptr<Slot>;

    explicit ConnectionLimiter(ConnectionLimits limits) : limits_(limits) {}

    // The slot is null when refused.
    std::pair<Admission, SlotPtr> admit(const std::string &address);
    size_t open() const;

private:
    void release(const std::string &address, bool reserve);

    const ConnectionLimits limits_;
    mutable std::mutex mutex_;
    size_t total_ = 0;          // normal connections
    size_t reserve_used_ = 0;   // reserve connections
    std::map<std::string, size_t> per_address_;  // normal connections by address
};

class ConnectionLimiter::Slot {
public:
    Slot(std::shared_ptr<ConnectionLimiter> limiter, std::string address, bool reserve)
        : limiter_(std::move(limiter)), address_(std::move(address)), reserve_(reserve) {}
    ~Slot() { limiter_->release(address_, reserve_); }
    Slot(const Slot &) = delete;
    Slot &operator=(const Slot &) = delete;

private:
    std::shared_ptr<ConnectionLimiter> limiter_;
    std::string address_;
    bool reserve_;
};

}  // namespace sdw
