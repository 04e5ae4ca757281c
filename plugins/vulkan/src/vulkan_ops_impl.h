// What vulkan_ops.cpp and vulkan_plan.cpp share: the Ops of one context, its memory
// pools and the command buffer its work is recorded into.
//
// Where work goes. Outside a plan, ops are recorded into the eager command buffer,
// which flush() submits (before any host access: download, a mapped upload, trim). While
// plan() runs a forward, ops are recorded into the plan's segment command buffers
// instead and their tensors come from the arena: a pool whose ranges are reused as the
// forward frees tensors, so a plan's memory is its largest live set, not the sum of
// its activations. Every plan records into the same arena (a context runs one plan at a
// time) and copies its outputs out of it into buffers of its own.
#pragma once

#include <sdw/vulkan/vulkan_ops.h>

#include "vk_device.h"
#include "vk_kernels.h"
#include "vk_memory.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sdw::vulkan {

using sdw::nn::DType;
using sdw::nn::Shape;
using sdw::nn::Tensor;

struct VkTensorStorage final : sdw::nn::Storage {
    VkTensorStorage(Pool &p, Range r) : pool(&p), range(r) {}
    ~VkTensorStorage() override { pool->free(range); }
    Pool *pool;
    Range range;
};

// The command buffers of one plan, one per segment.
struct Recording {
    std::vector<VkCommandBuffer> segments;
};

class VulkanOps final : public sdw::nn::Ops {
public:
    explicit VulkanOps(const VulkanOptions &options);
    ~VulkanOps() override;

    DType compute_dtype() const override { return dtype_; }
    sdw::nn::MemoryUse memory() const override;
    void trim() override;

    Tensor input(const Shape &shape, DType dtype) override;
    void upload(const Tensor &dst, const void *data, uint64_t bytes) override;
    void download(const Tensor &src, void *data, uint64_t bytes) override;
    Tensor weight(const sdw_tensor_view &view, DType compute) override;
    std::unique_ptr<sdw::nn::Plan> plan(sdw::nn::Forward forward) override;

    Tensor reshape(const Tensor &x, const Shape &shape) override;
    Tensor cast(const Tensor &x, DType dtype) override;
    Tensor narrow(const Tensor &x, int dim, int64_t start, int64_t count) override;
    Tensor concat(const Tensor &a, const Tensor &b, int dim) override;
    Tensor nchw_to_nlc(const Tensor &x) override;
    Tensor nlc_to_nchw(const Tensor &x, int64_t h, int64_t w) override;
    Tensor upsample_nearest2x(const Tensor &x) override;
    Tensor pad2d(const Tensor &x, int top, int bottom, int left, int right) override;
    Tensor gather_rows(const Tensor &table, const Tensor &ids) override;

    Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias, int stride, int padding) override;
    Tensor linear(const Tensor &x, const Tensor &w, const Tensor &bias) override;
    Tensor group_norm(const Tensor &x, int groups, const Tensor &gamma, const Tensor &beta, float eps,
                      bool silu) override;
    Tensor layer_norm(const Tensor &x, const Tensor &gamma, const Tensor &beta, float eps) override;
    Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v, int heads, bool causal) override;
    Tensor timestep_embedding(const Tensor &t, int dim, bool flip_sin_to_cos, float downscale_freq_shift) override;

    Tensor add(const Tensor &a, const Tensor &b) override;
    Tensor mul(const Tensor &a, const Tensor &b) override;
    Tensor scale(const Tensor &x, float s) override;
    Tensor add_channel_bias(const Tensor &x, const Tensor &bias) override;
    Tensor clamp(const Tensor &x, float lo, float hi) override;
    Tensor silu(const Tensor &x) override;
    Tensor gelu(const Tensor &x) override;
    Tensor quick_gelu(const Tensor &x) override;
    Tensor geglu(const Tensor &x) override;

    // --- for plans and the plugin ------------------------------------------------
    // Submits the eager command buffer, if anything is in it, and waits.
    void flush();
    // Runs `recording`'s segment i and waits.
    void submit_segment(VkCommandBuffer segment);
    void free_recording(Recording &recording);
    void plan_destroyed() { --live_plans_; }
    Device &device() { return *device_; }
    const Device &device() const { return *device_; }
    std::string description() const;
    bool uses_strip_kernels() const { return strip_kernels_; }

private:
    friend class SegmentRecorder;

    VkCommandBuffer new_command_buffer();
    VkCommandBuffer commands();  // where the next op is recorded
    void end_segment();          // plan recording: starts the next segment

    // A new tensor of the pool the current mode allocates from.
    Tensor make(const Shape &shape, DType dtype);
    Tensor make_in(Pool &pool, const Shape &shape, DType dtype);
    static const Range &range_of(const Tensor &t);

    // Host bytes into / out of a device range (staged where device memory is not mapped).
    void write(const Range &range, const void *data, uint64_t bytes);
    void read(const Range &range, void *data, uint64_t bytes);

    // Kernel launchers.
    struct CopyLayout;
    void copy(const Tensor &src, uint64_t src_offset, const Tensor &dst, uint64_t dst_offset, const CopyLayout &layout,
              const char *variant);
    Tensor eltwise(uint32_t op, const Tensor &a, const Tensor *b, const Shape &out_shape, uint32_t inner, float p0,
                   float p1);
    Tensor as_dtype(const Tensor &t, DType dtype) { return t.defined() ? cast(t, dtype) : t; }
    const char *suffix(DType dtype) const;  // "f32" / "f16"

    std::unique_ptr<Device> device_;
    std::unique_ptr<Memory> memory_;
    std::unique_ptr<Kernels> kernels_;
    std::unique_ptr<Pool> weights_, general_, arena_;
    DType dtype_;
    bool strip_kernels_ = false;  // KernelForm resolved for the device
    VkCommandPool command_pool_ = VK_NULL_HANDLE;
    VkCommandBuffer eager_ = VK_NULL_HANDLE;
    bool eager_open_ = false;
    Recording *recording_ = nullptr;
    int live_plans_ = 0;
    std::unique_ptr<Block> staging_;
    uint64_t staging_used_ = 0;
    std::map<std::pair<int, float>, Tensor> frequencies_;  // timestep_embedding's, per (half, shift)
};

}  // namespace sdw::vulkan
