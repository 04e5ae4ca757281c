// What torch_ops.cpp and torch_plan.cpp share: the device, its memory, the stream the
// context's work goes on, plans, and the translation of libtorch's errors.
#pragma once

#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>
#include <sdw/torch/torch_ops.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <functional>
#include <memory>
#include <new>
#include <string>

namespace sdw::libtorch {

// "12 MiB", rounded.
std::string mib(uint64_t bytes);

// The device the options describe, in words.
std::string describe_device(const TorchOptions &options);

// The device of the options; throws UNSUPPORTED when it is not there.
at::Device make_device(const TorchOptions &options);

struct DeviceMemory {
    uint64_t allocated = 0;  // held by live tensors
    uint64_t reserved = 0;   // held by the caching allocator, live or not
    uint64_t free = 0;       // free on the device (CUDA); 0 on the CPU
    uint64_t total = 0;
};
DeviceMemory device_memory(const at::Device &device);
void release_cached_device_memory(const at::Device &device);

// Puts the context's work on its own CUDA stream (required for graph capture, and so
// that uploads, replays and downloads are ordered); nothing on the CPU.
class StreamScope {
public:
    explicit StreamScope(const at::Device &device);
    ~StreamScope();
    StreamScope(const StreamScope &) = delete;
    StreamScope &operator=(const StreamScope &) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Runs `body`, turning libtorch's failures into sdw::plugin::Error: out of memory (the
// CUDA caching allocator's, or the CPU allocator's) as OUT_OF_MEMORY with how much was
// asked and is free, any other c10::Error as DEVICE_ERROR with its message.
[[noreturn]] void rethrow_out_of_memory(const char *what, const std::string &message);
template <typename Body>
auto guarded(const char *what, Body &&body) {
    try {
        return body();
    } catch (const c10::OutOfMemoryError &e) {
        rethrow_out_of_memory(what, e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        rethrow_out_of_memory(what, "the host allocator failed");
    } catch (const c10::Error &e) {
        const std::string message = e.what_without_backtrace();
        if (message.find("not enough memory") != std::string::npos) rethrow_out_of_memory(what, message);
        throw sdw::nn::Error(SDW_STATUS_DEVICE_ERROR, std::string("torch: ") + what + ": " + message);
    }
}

// The plan of a forward on `device`: eager, or (CUDA with cuda_graphs) one CUDA graph
// per segment captured on the first run and replayed after. `guard` wraps device work.
using Guard = std::function<void(const char *what, const std::function<void()> &body)>;
std::unique_ptr<sdw::nn::Plan> make_plan(sdw::nn::Forward forward, const at::Device &device, bool cuda_graphs,
                                         Guard guard);

}  // namespace sdw::libtorch
