// Reuse of the big tensor buffers. A UNet call allocates and frees a few thousand
// activations of the same few dozen sizes, each megabytes large; straight from
// malloc every one of them is a fresh mmap whose pages the kernel faults in and
// zeroes again, which showed up as more system time than compute. Freed blocks
// are kept by size (the sizes repeat every step) up to a byte cap, so
// steady-state memory stays at one step's activations. A request with no cached
// block of its size takes the smallest cached block of up to twice its size: a VAE
// decode never repeats a step, but its activations shrink in channels as they grow
// in area, so a freed 256-channel block can hold a 128-channel one (on this KVM
// machine fresh pages cost ~0.4 GB/s to fault in, seconds per decode).
#pragma once

#include <cstddef>
#include <mutex>
#include <map>
#include <unordered_map>
#include <vector>

namespace sdw::cpu {

class BufferCache {
public:
    explicit BufferCache(size_t max_cached_bytes) : max_cached_(max_cached_bytes) {}
    ~BufferCache() { trim(); }
    BufferCache(const BufferCache &) = delete;
    BufferCache &operator=(const BufferCache &) = delete;

    // A 64-byte aligned block of at least `bytes` (never null; throws bad_alloc).
    void *acquire(size_t bytes);
    // Gives back a block from acquire(bytes) with the same `bytes`.
    void release(void *block, size_t bytes);
    // Frees every cached block.
    void trim();

    size_t cached_bytes() const;

private:
    static size_t rounded(size_t bytes);

    mutable std::mutex mutex_;
    std::map<size_t, std::vector<void *>> free_;  // by size, for the best fit
    std::unordered_map<void *, size_t> lent_larger_;  // blocks handed out for a smaller request
    std::vector<std::pair<size_t, void *>> order_;  // cached blocks, oldest first
    size_t cached_ = 0;
    size_t max_cached_;
};

}  // namespace sdw::cpu
