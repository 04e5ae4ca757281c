// The device side of the torch plugin: devices and their memory, the context's CUDA
// stream, plans (eager, or one CUDA graph per segment), and out-of-memory messages.
// The CUDA parts are compiled where libtorch has CUDA (SDW_TORCH_CUDA).
#include "torch_ops_impl.h"

#include <ATen/detail/CUDAHooksInterface.h>

#if SDW_TORCH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sdw::libtorch {

std::string mib(uint64_t bytes) { return std::to_string((bytes + (uint64_t{1} << 19)) >> 20) + " MiB"; }

bool cuda_built() {
#if SDW_TORCH_CUDA
    return true;
#else
    return false;
#endif
}

int cuda_device_count() {
#if SDW_TORCH_CUDA
    try {
        return static_cast<int>(at::detail::getCUDAHooks().getNumGPUs());
    } catch (const c10::Error &) {
        return 0;  // no driver
    }
#else
    return 0;
#endif
}

at::Device make_device(const TorchOptions &options) {
    if (!options.cuda) return at::Device(at::kCPU);
    if (!cuda_built())
        throw sdw::nn::Error(SDW_STATUS_UNSUPPORTED, "torch: device cuda:" + std::to_string(options.device_index) +
                                                         " asked, but this libtorch " + torch_version() +
                                                         " was built without CUDA");
    const int count = cuda_device_count();
    if (options.device_index < 0 || options.device_index >= count)
        throw sdw::nn::Error(SDW_STATUS_UNSUPPORTED, "torch: device cuda:" + std::to_string(options.device_index) +
                                                         " asked, but " + std::to_string(count) +
                                                         " CUDA devices are visible");
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(options.device_index));
}

std::string describe_device(const TorchOptions &options) {
    std::string dtype = sdw::nn::dtype_name(options.dtype);
    if (!options.cuda)
        return "CPU (" + std::to_string(at::get_num_threads()) + (at::get_num_threads() == 1 ? " thread" : " threads") + ", libtorch " + torch_version() + ", " + dtype + ")";
#if SDW_TORCH_CUDA
    cudaDeviceProp properties{};
    if (cudaGetDeviceProperties(&properties, options.device_index) == cudaSuccess)
        return std::string(properties.name) + " (cuda:" + std::to_string(options.device_index) + ", " +
               mib(properties.totalGlobalMem) + ", libtorch " + torch_version() + ", " + dtype +
               (options.cuda_graphs ? ", CUDA graphs" : "") + ")";
#endif
    return "cuda:" + std::to_string(options.device_index) + " (libtorch " + torch_version() + ", " + dtype + ")";
}

DeviceMemory device_memory(const at::Device &device) {
    DeviceMemory memory;
#if SDW_TORCH_CUDA
    if (device.is_cuda()) {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
        // StatType::AGGREGATE, index 0 in every libtorch (the enum moved namespaces in 2.x).
        constexpr size_t aggregate = 0;
        memory.allocated = static_cast<uint64_t>(stats.allocated_bytes[aggregate].current);
        memory.reserved = static_cast<uint64_t>(stats.reserved_bytes[aggregate].current);
        const c10::cuda::CUDAGuard guard(device.index());
        size_t free = 0, total = 0;
        if (cudaMemGetInfo(&free, &total) == cudaSuccess) {
            memory.free = free;
            memory.total = total;
        }
    }
#else
    (void)device;
#endif
    return memory;
}

void release_cached_device_memory(const at::Device &device) {
#if SDW_TORCH_CUDA
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#else
    (void)device;
#endif
}

void rethrow_out_of_memory(const char *what, const std::string &message) {
    std::string text = std::string("torch: out of memory ") + what + ": " + message;
    // The first line of libtorch's message says how much was asked; the device's own
    // figures say how much was free.
    if (const size_t end = text.find('\n'); end != std::string::npos) text.resize(end);
    throw sdw::nn::Error(SDW_STATUS_OUT_OF_MEMORY, text);
}

struct StreamScope::Impl {
#if SDW_TORCH_CUDA
    std::optional<c10::cuda::CUDAStreamGuard> guard;
#endif
};

#if SDW_TORCH_CUDA
namespace {
// One stream per device for every context of this plugin: the host serializes calls
// per context, and contexts on one device share the device's queue anyway.
c10::cuda::CUDAStream context_stream(c10::DeviceIndex index) {
    static std::mutex mutex;
    static std::map<c10::DeviceIndex, c10::cuda::CUDAStream> streams;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = streams.find(index);
    if (it == streams.end()) it = streams.emplace(index, c10::cuda::getStreamFromPool(false, index)).first;
    return it->second;
}
}  // namespace
#endif

StreamScope::StreamScope(const at::Device &device) : impl_(std::make_unique<Impl>()) {
#if SDW_TORCH_CUDA
    if (device.is_cuda()) impl_->guard.emplace(context_stream(device.index()));
#else
    (void)device;
#endif
}

StreamScope::~StreamScope() = default;

namespace {

struct CallbackBoundary final : sdw::nn::SegmentBoundary {
    explicit CallbackBoundary(const std::function<void()> &callback) : between(callback) {}
    void end_segment() override {
        if (between) between();
    }
    const std::function<void()> &between;
};

// Eager, on the context's stream, with libtorch's errors translated.
class EagerTorchPlan final : public sdw::nn::Plan {
public:
    EagerTorchPlan(sdw::nn::Forward forward, at::Device device, Guard guard)
        : forward_(std::move(forward)), device_(device), guard_(std::move(guard)) {}

    const std::vector<sdw::nn::Tensor> &run(const std::function<void()> &between_segments) override {
        outputs_.clear();
        guard_("running a forward", [&] {
            const StreamScope scope(device_);
            CallbackBoundary boundary(between_segments);
            outputs_ = forward_(boundary);
        });
        return outputs_;
    }

private:
    sdw::nn::Forward forward_;
    at::Device device_;
    Guard guard_;
    std::vector<sdw::nn::Tensor> outputs_;
};

#if SDW_TORCH_CUDA
// One CUDA graph per segment, all in one memory pool, captured on the first run after
// an eager warm-up on the same stream (cuBLAS / cuDNN handles and algorithm choices are
// made outside the capture), then replayed in capture order on every run. The graphs
// write into the tensors the capture returned, so outputs_ stays the same.
class CudaGraphPlan final : public sdw::nn::Plan {
public:
    CudaGraphPlan(sdw::nn::Forward forward, at::Device device, Guard guard)
        : forward_(std::move(forward)), device_(device), guard_(std::move(guard)) {}

    const std::vector<sdw::nn::Tensor> &run(const std::function<void()> &between_segments) override {
        guard_("running a CUDA graph", [&] {
            const StreamScope scope(device_);
            if (graphs_.empty()) capture(between_segments);
            for (size_t i = 0; i < graphs_.size(); ++i) {
                graphs_[i]->replay();
                if (i + 1 < graphs_.size() && between_segments) between_segments();
            }
        });
        return outputs_;
    }

private:
    struct CapturingBoundary final : sdw::nn::SegmentBoundary {
        explicit CapturingBoundary(CudaGraphPlan &p) : plan(p) {}
        void end_segment() override {
            plan.graphs_.back()->capture_end();
            plan.graphs_.push_back(std::make_unique<at::cuda::CUDAGraph>());
            plan.graphs_.back()->capture_begin(plan.pool_);
        }
        CudaGraphPlan &plan;
    };

    void capture(const std::function<void()> &between_segments) {
        {
            CallbackBoundary boundary(between_segments);
            forward_(boundary);  // the warm-up; its outputs are dropped
        }
        c10::cuda::getCurrentCUDAStream().synchronize();
        pool_ = at::cuda::graph_pool_handle();
        graphs_.push_back(std::make_unique<at::cuda::CUDAGraph>());
        graphs_.back()->capture_begin(pool_);
        try {
            CapturingBoundary boundary(*this);
            outputs_ = forward_(boundary);
            graphs_.back()->capture_end();
        } catch (...) {
            try {
                graphs_.back()->capture_end();
            } catch (...) {
            }
            graphs_.clear();
            outputs_.clear();
            throw;
        }
    }

    sdw::nn::Forward forward_;
    at::Device device_;
    Guard guard_;
    at::cuda::MempoolId_t pool_{0, 0};
    std::vector<std::unique_ptr<at::cuda::CUDAGraph>> graphs_;
    std::vector<sdw::nn::Tensor> outputs_;
};
#endif

}  // namespace

std::unique_ptr<sdw::nn::Plan> make_plan(sdw::nn::Forward forward, const at::Device &device, bool cuda_graphs,
                                         Guard guard) {
#if SDW_TORCH_CUDA
    if (device.is_cuda() && cuda_graphs)
        return std::make_unique<CudaGraphPlan>(std::move(forward), device, std::move(guard));
#else
    (void)cuda_graphs;
#endif
    return std::make_unique<EagerTorchPlan>(std::move(forward), device, std::move(guard));
}

}  // namespace sdw::libtorch
