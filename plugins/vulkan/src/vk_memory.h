// Device memory for one context: a few large allocations (blocks), each one VkBuffer
// reached by its device address, sub-allocated into tensors by pools. Never one
// allocation per tensor: drivers cap the number of allocations (4096 is common) and
// each costs a kernel call.
#pragma once

#include "vk_device.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sdw::vulkan {

struct Block {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceAddress address = 0;
    uint64_t size = 0;
    void *mapped = nullptr;  // set where device memory is host-visible (UMA, lavapipe)
};

// Allocates and frees blocks, under the context's cap.
class Memory {
public:
    // cap_bytes: 0 = no cap.
    Memory(Device &device, uint64_t cap_bytes);
    ~Memory();
    Memory(const Memory &) = delete;
    Memory &operator=(const Memory &) = delete;

    // A device block of `bytes`; throws OUT_OF_MEMORY naming `what`, the size asked,
    // what the context holds and the cap or the driver's refusal.
    std::unique_ptr<Block> device_block(uint64_t bytes, const std::string &what);
    // A host-visible, mapped block for transfers.
    std::unique_ptr<Block> staging_block(uint64_t bytes);
    void free(std::unique_ptr<Block> block);

    bool device_memory_mapped() const { return device_mapped_; }
    uint64_t allocated_bytes() const { return allocated_; }
    uint64_t cap_bytes() const { return cap_; }
    uint64_t max_block_bytes() const;
    // What the cap leaves (or max_block_bytes without a cap).
    uint64_t room_bytes() const { return cap_ == 0 ? max_block_bytes() : cap_ > allocated_ ? cap_ - allocated_ : 0; }

private:
    std::unique_ptr<Block> make_block(uint64_t bytes, uint32_t type, bool map, const std::string &what);

    Device &device_;
    uint64_t cap_;
    uint32_t device_type_ = 0, staging_type_ = 0;
    bool device_mapped_ = false;
    uint64_t allocated_ = 0;
};

// A sub-allocated range of a block.
struct Range {
    Block *block = nullptr;
    uint64_t offset = 0;
    uint64_t size = 0;
    VkDeviceAddress address() const { return block->address + offset; }
    void *mapped() const { return block->mapped ? static_cast<char *>(block->mapped) + offset : nullptr; }
};

// First-fit sub-allocation over blocks of at least `block_bytes`, with coalescing
// frees. Freed ranges are reusable at once: every recorded command is followed by a
// full barrier, so a later command that reuses a range is ordered after the earlier
// ones that read it (this is what makes a plan's arena follow the tensors' lifetimes).
class Pool {
public:
    Pool(Memory &memory, uint64_t block_bytes, std::string name);
    ~Pool();
    Pool(const Pool &) = delete;
    Pool &operator=(const Pool &) = delete;

    Range allocate(uint64_t bytes);
    void free(const Range &range);
    // Frees the blocks no range lives in. The caller makes sure no pending command uses them.
    void release_unused();

    uint64_t reserved_bytes() const;  // in blocks
    uint64_t idle_bytes() const;      // in blocks without a live range: what release_unused frees
    uint64_t used_bytes() const { return used_; }

private:
    struct Slab {
        std::unique_ptr<Block> block;
        std::map<uint64_t, uint64_t> free;  // offset -> size
        uint64_t live = 0;
    };
    Memory &memory_;
    uint64_t block_bytes_;
    std::string name_;
    std::vector<Slab> slabs_;
    uint64_t used_ = 0;
};

std::string mib(uint64_t bytes);

}  // namespace sdw::vulkan
