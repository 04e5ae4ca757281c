// Plans: a forward recorded once into command buffers, one per segment, and replayed
// by submitting them. Recording allocates the forward's tensors from the arena (see
// vulkan_ops_impl.h), so the commands' addresses stay valid for every replay.
#include "vulkan_ops_impl.h"

#include <sdw/plugin_api.hpp>

namespace sdw::vulkan {

namespace sp = sdw::plugin;

class SegmentRecorder final : public sdw::nn::SegmentBoundary {
public:
    explicit SegmentRecorder(VulkanOps &ops) : ops_(ops) {}
    void end_segment() override { ops_.end_segment(); }

private:
    VulkanOps &ops_;
};

namespace {

class VulkanPlan final : public sdw::nn::Plan {
public:
    VulkanPlan(VulkanOps &ops, Recording recording, std::vector<Tensor> outputs)
        : ops_(ops), recording_(std::move(recording)), outputs_(std::move(outputs)) {}

    ~VulkanPlan() override {
        ops_.free_recording(recording_);
        outputs_.clear();
        ops_.plan_destroyed();
    }

    const std::vector<Tensor> &run(const std::function<void()> &between_segments) override {
        const size_t boundaries = recording_.segments.size() - 1;
        for (size_t i = 0; i < recording_.segments.size(); ++i) {
            ops_.submit_segment(recording_.segments[i]);
            if (i < boundaries && between_segments) between_segments();
        }
        return outputs_;
    }

    uint64_t bytes() const override {
        uint64_t total = 0;
        for (const Tensor &t : outputs_) total += t.bytes();
        return total;
    }

private:
    VulkanOps &ops_;
    Recording recording_;
    std::vector<Tensor> outputs_;
};

}  // namespace

void VulkanOps::end_segment() {
    if (recording_ == nullptr) return;  // an eager forward (tests): nothing to cut
    const VulkanApi &vk = device_->api();
    check(vk.vkEndCommandBuffer(recording_->segments.back()), "vkEndCommandBuffer");
    recording_->segments.push_back(new_command_buffer());
    auto begin = vk_struct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    check(vk.vkBeginCommandBuffer(recording_->segments.back(), &begin), "vkBeginCommandBuffer");
}

std::unique_ptr<sdw::nn::Plan> VulkanOps::plan(sdw::nn::Forward forward) {
    if (recording_ != nullptr)
        throw sp::Error(SDW_STATUS_INTERNAL, "vulkan: plan() inside a forward");
    flush();
    const VulkanApi &vk = device_->api();
    Recording recording;
    recording.segments.push_back(new_command_buffer());
    auto begin = vk_struct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    std::vector<Tensor> owned;
    recording_ = &recording;
    try {
        check(vk.vkBeginCommandBuffer(recording.segments.back(), &begin), "vkBeginCommandBuffer");
        SegmentRecorder boundary(*this);
        std::vector<Tensor> outputs = forward(boundary);
        // The outputs leave the arena (the next plan's recording reuses it) for buffers
        // of the plan's own, copied at the end of its last segment.
        for (const Tensor &out : outputs) {
            Tensor mine = make_in(*general_, out.shape, out.dtype);
            const Range &from = range_of(out), &to = range_of(mine);
            VkBufferCopy region{from.offset, to.offset, out.bytes()};
            if (region.size != 0)
                vk.vkCmdCopyBuffer(recording.segments.back(), from.block->buffer, to.block->buffer, 1, &region);
            owned.push_back(std::move(mine));
        }
        outputs.clear();
        kernels_->host_barrier(recording.segments.back());
        check(vk.vkEndCommandBuffer(recording.segments.back()), "vkEndCommandBuffer");
    } catch (...) {
        recording_ = nullptr;
        free_recording(recording);
        throw;
    }
    recording_ = nullptr;
    ++live_plans_;
    return std::make_unique<VulkanPlan>(*this, std::move(recording), std::move(owned));
}

}  // namespace sdw::vulkan
