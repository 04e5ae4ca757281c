#include "vk_memory.h"

#include <sdw/plugin_api.hpp>

#include <algorithm>

namespace sdw::vulkan {

namespace sp = sdw::plugin;

std::string mib(uint64_t bytes) {
    if (bytes != 0 && bytes < (1u << 20)) return std::to_string((bytes + 1023) >> 10) + " KiB";
    return std::to_string((bytes + (1u << 19)) >> 20) + " MiB";
}

namespace {

constexpr uint64_t kAlignment = 256;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// The first memory type with all of `want`, in the type order the driver prefers.
int find_type(const VkPhysicalDeviceMemoryProperties &memory, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < memory.memoryTypeCount; ++i)
        if ((memory.memoryTypes[i].propertyFlags & want) == want) return static_cast<int>(i);
    return -1;
}

}  // namespace

Memory::Memory(Device &device, uint64_t cap_bytes) : device_(device), cap_(cap_bytes) {
    const VkPhysicalDeviceMemoryProperties &m = device.memory_properties();
    const int local = find_type(m, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (local < 0) throw sp::Error(SDW_STATUS_UNSUPPORTED, "vulkan: " + device.name() + " has no device-local memory");
    device_type_ = static_cast<uint32_t>(local);
    // Device memory is mapped where the largest device-local heap is host-visible as a
    // whole (UMA, lavapipe); a discrete GPU's small host-visible BAR window is not used.
    uint64_t largest = 0;
    uint32_t largest_heap = 0;
    for (uint32_t i = 0; i < m.memoryHeapCount; ++i)
        if ((m.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) && m.memoryHeaps[i].size > largest) {
            largest = m.memoryHeaps[i].size;
            largest_heap = i;
        }
    const VkMemoryPropertyFlags mapped_local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                               VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < m.memoryTypeCount; ++i)
        if ((m.memoryTypes[i].propertyFlags & mapped_local) == mapped_local && m.memoryTypes[i].heapIndex == largest_heap) {
            device_type_ = i;
            device_mapped_ = true;
            break;
        }
    int staging = find_type(m, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                   VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (staging < 0) staging = find_type(m, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    if (staging < 0) throw sp::Error(SDW_STATUS_UNSUPPORTED, "vulkan: " + device.name() + " has no host-visible memory");
    staging_type_ = static_cast<uint32_t>(staging);
}

Memory::~Memory() = default;

uint64_t Memory::max_block_bytes() const {
    return std::min<uint64_t>(device_.limits().max_allocation_bytes, uint64_t{1} << 32);
}

std::unique_ptr<Block> Memory::device_block(uint64_t bytes, const std::string &what) {
    if (cap_ != 0 && allocated_ + bytes > cap_)
        throw sp::Error(SDW_STATUS_OUT_OF_MEMORY, "vulkan: out of device memory: " + what + " needs " + mib(bytes) +
                                                      ", the context holds " + mib(allocated_) +
                                                      " of its max_memory_mb " + mib(cap_));
    if (bytes > max_block_bytes())
        throw sp::Error(SDW_STATUS_OUT_OF_MEMORY, "vulkan: " + what + " needs one buffer of " + mib(bytes) +
                                                      ", more than the device allocates at once (" +
                                                      mib(max_block_bytes()) + ")");
    return make_block(bytes, device_type_, device_mapped_, what);
}

std::unique_ptr<Block> Memory::staging_block(uint64_t bytes) {
    return make_block(bytes, staging_type_, true, "the staging buffer");
}

std::unique_ptr<Block> Memory::make_block(uint64_t bytes, uint32_t type, bool map, const std::string &what) {
    const VulkanApi &vk = device_.api();
    const VkDevice dev = device_.handle();
    auto block = std::make_unique<Block>();
    block->size = bytes;
    auto info = vk_struct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
    info.size = bytes;
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vk.vkCreateBuffer(dev, &info, nullptr, &block->buffer), "vkCreateBuffer");
    VkMemoryRequirements req;
    vk.vkGetBufferMemoryRequirements(dev, block->buffer, &req);
    if ((req.memoryTypeBits & (1u << type)) == 0) {
        vk.vkDestroyBuffer(dev, block->buffer, nullptr);
        throw sp::Error(SDW_STATUS_DEVICE_ERROR, "vulkan: buffers cannot live in memory type " + std::to_string(type));
    }
    auto flags = vk_struct<VkMemoryAllocateFlagsInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO);
    flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    auto alloc = vk_struct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
    alloc.pNext = &flags;
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = type;
    const VkResult result = vk.vkAllocateMemory(dev, &alloc, nullptr, &block->memory);
    if (result != VK_SUCCESS) {
        vk.vkDestroyBuffer(dev, block->buffer, nullptr);
        if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY)
            throw sp::Error(SDW_STATUS_OUT_OF_MEMORY, "vulkan: out of device memory: " + what + " needs " +
                                                          mib(bytes) + ", the context holds " + mib(allocated_) +
                                                          " (" + result_name(result) + ")");
        check(result, "vkAllocateMemory");
    }
    auto fail = [&](VkResult r, const char *call) {
        vk.vkFreeMemory(dev, block->memory, nullptr);
        vk.vkDestroyBuffer(dev, block->buffer, nullptr);
        check(r, call);
    };
    if (VkResult r = vk.vkBindBufferMemory(dev, block->buffer, block->memory, 0); r != VK_SUCCESS)
        fail(r, "vkBindBufferMemory");
    if (map)
        if (VkResult r = vk.vkMapMemory(dev, block->memory, 0, VK_WHOLE_SIZE, 0, &block->mapped); r != VK_SUCCESS)
            fail(r, "vkMapMemory");
    auto address = vk_struct<VkBufferDeviceAddressInfo>(VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO);
    address.buffer = block->buffer;
    block->address = vk.vkGetBufferDeviceAddress(dev, &address);
    allocated_ += bytes;
    return block;
}

void Memory::free(std::unique_ptr<Block> block) {
    if (!block) return;
    const VulkanApi &vk = device_.api();
    if (block->mapped) vk.vkUnmapMemory(device_.handle(), block->memory);
    vk.vkDestroyBuffer(device_.handle(), block->buffer, nullptr);
    vk.vkFreeMemory(device_.handle(), block->memory, nullptr);
    allocated_ -= block->size;
}

Pool::Pool(Memory &memory, uint64_t block_bytes, std::string name)
    : memory_(memory), block_bytes_(block_bytes), name_(std::move(name)) {}

Pool::~Pool() {
    for (Slab &slab : slabs_) memory_.free(std::move(slab.block));
}

Range Pool::allocate(uint64_t bytes) {
    const uint64_t size = align_up(std::max<uint64_t>(bytes, 1), kAlignment);
    for (Slab &slab : slabs_)
        for (auto it = slab.free.begin(); it != slab.free.end(); ++it)
            if (it->second >= size) {
                const uint64_t offset = it->first, left = it->second - size;
                slab.free.erase(it);
                if (left != 0) slab.free.emplace(offset + size, left);
                slab.live += size;
                used_ += size;
                return {slab.block.get(), offset, size};
            }
    // Under a memory cap, blocks shrink to a quarter of what the cap leaves, so that
    // one pool's spare space does not starve the others.
    const uint64_t room = memory_.cap_bytes() != 0 ? memory_.room_bytes() / 4 : memory_.max_block_bytes();
    const uint64_t block_size = std::max(size, std::min({block_bytes_, memory_.max_block_bytes(), room}));
    Slab slab;
    slab.block = memory_.device_block(block_size, name_ + " (a tensor of " + mib(bytes) + ")");
    if (block_size > size) slab.free.emplace(size, block_size - size);
    slab.live = size;
    used_ += size;
    slabs_.push_back(std::move(slab));
    return {slabs_.back().block.get(), 0, size};
}

void Pool::free(const Range &range) {
    for (Slab &slab : slabs_) {
        if (slab.block.get() != range.block) continue;
        auto next = slab.free.lower_bound(range.offset);
        uint64_t offset = range.offset, size = range.size;
        if (next != slab.free.begin()) {
            auto prev = std::prev(next);
            if (prev->first + prev->second == offset) {
                offset = prev->first;
                size += prev->second;
                slab.free.erase(prev);
            }
        }
        if (next != slab.free.end() && range.offset + range.size == next->first) {
            size += next->second;
            slab.free.erase(next);
        }
        slab.free.emplace(offset, size);
        slab.live -= range.size;
        used_ -= range.size;
        return;
    }
}

void Pool::release_unused() {
    for (auto it = slabs_.begin(); it != slabs_.end();) {
        if (it->live == 0) {
            memory_.free(std::move(it->block));
            it = slabs_.erase(it);
        } else {
            ++it;
        }
    }
}

uint64_t Pool::idle_bytes() const {
    uint64_t bytes = 0;
    for (const Slab &slab : slabs_)
        if (slab.live == 0) bytes += slab.block->size;
    return bytes;
}

uint64_t Pool::reserved_bytes() const {
    uint64_t bytes = 0;
    for (const Slab &slab : slabs_) bytes += slab.block->size;
    return bytes;
}

}  // namespace sdw::vulkan
