// A Generator for queue and HTTP tests: each step sleeps, honours cancellation and
// reports progress; images are flat colours derived from the seed. Can be told to
// fail, to throw GenerationInvalid, to ignore cancellation, or to hold in a step
// until released.
#pragma once

#include "pipeline/generation.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sdw::test {

class FakeGenerator : public Generator {
public:
    std::chrono::milliseconds step_delay{2};
    std::string fail_message;      // non-empty: throw std::runtime_error after the steps
    std::string invalid_field;     // non-empty: throw GenerationInvalid at once
    bool ignore_cancel = false;
    bool cancel_as_error = false;  // report a cancellation as std::runtime_error, as a plugin call may
    std::atomic<int> calls{0};
    std::atomic<int> concurrent{0};
    std::atomic<int> max_concurrent{0};

    // While held, generate() waits before its first step (cancellation still works).
    void hold() {
        std::lock_guard lock(mutex_);
        held_ = true;
    }
    void release() {
        {
            std::lock_guard lock(mutex_);
            held_ = false;
        }
        cv_.notify_all();
    }

    // What memory() reports, as a plugin's context_memory would (nullopt: not reported).
    void report_memory(std::optional<BackendMemory> memory) {
        std::lock_guard lock(mutex_);
        memory_ = memory;
    }
    std::optional<BackendMemory> memory() const override {
        std::lock_guard lock(mutex_);
        return memory_;
    }

    ModelDescription describe() const override {
        ModelDescription d;
        d.name = "fake-model";
        d.path = "/nowhere/fake-model";
        d.default_width = 64;
        d.default_height = 64;
        d.schedulers = {"ddim", "euler", "euler_a"};
        d.backend = {"fake", "0.0.1", "/fake/libfake.so", "1.0", "test CPU", std::nullopt};
        return d;
    }

    GenerationResult generate(const GenerationRequest &request,
                              const GenerationCallbacks &callbacks) override {
        ++calls;
        {
            std::lock_guard lock(mutex_);
            prompts_.push_back(request.prompt);
        }
        int now = ++concurrent;
        int seen = max_concurrent.load();
        while (now > seen && !max_concurrent.compare_exchange_weak(seen, now)) {}
        struct Leave {
            std::atomic<int> &c;
            ~Leave() { --c; }
        } leave{concurrent};

        if (!invalid_field.empty()) throw GenerationInvalid(invalid_field, "fake refusal");
        {
            std::unique_lock lock(mutex_);
            while (held_) {
                if (!ignore_cancel && callbacks.should_cancel()) throw GenerationCancelled();
                cv_.wait_for(lock, std::chrono::milliseconds(2));
            }
        }
        for (int step = 1; step <= request.steps; ++step) {
            if (!ignore_cancel && callbacks.should_cancel()) {
                if (cancel_as_error) throw std::runtime_error("component_run failed (CANCELLED)");
                throw GenerationCancelled();
            }
            std::this_thread::sleep_for(step_delay);
            callbacks.on_step(step, request.steps);
        }
        if (!fail_message.empty()) throw std::runtime_error(fail_message);
        GenerationResult result;
        for (int i = 0; i < request.num_images; ++i) {
            GeneratedImage image;
            image.seed = request.seed + static_cast<uint64_t>(i);
            image.image.width = request.width;
            image.image.height = request.height;
            image.image.channels = 3;
            image.image.pixels.assign(static_cast<size_t>(request.width) * request.height * 3,
                                      static_cast<uint8_t>(image.seed % 251));
            result.images.push_back(std::move(image));
        }
        result.timings_ms["total"] = 1.0;
        return result;
    }

    std::vector<std::string> prompts_seen() {
        std::lock_guard lock(mutex_);
        return prompts_;
    }

private:
    std::vector<std::string> prompts_;
    std::optional<BackendMemory> memory_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool held_ = false;
};

// Polls `predicate` every millisecond for at most `timeout`.
template <typename Predicate>
bool eventually(Predicate predicate,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (predicate()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return predicate();
}

}  // namespace sdw::test
