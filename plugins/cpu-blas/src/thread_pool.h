// A fixed set of worker threads for the plugin's kernels and its split matrix
// products (OpenBLAS itself runs single-threaded, see gemm.h). The calling thread
// takes part in every job. Between jobs a worker spins briefly (a UNet call is a
// few thousand back-to-back jobs, and a futex wake-up costs more than most of
// them) and then sleeps on a futex, so an idle plugin uses no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sdw::cpu {

class ThreadPool {
public:
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Calls fn(part, parts) once for every part in [0, parts), parts <= size(), each
    // on its own thread (part 0 on the caller). Rethrows the first exception. Called
    // from inside a job it runs the parts one after another on the calling thread.
    void run_parts(int parts, const std::function<void(int, int)> &fn);

    // Calls fn(begin, end) on disjoint ranges covering [0, n); ranges are at least
    // `grain` long so tiny loops stay on one thread. Rethrows the first exception.
    void parallel_for(int64_t n, int64_t grain,
                      const std::function<void(int64_t, int64_t)> &fn);

private:
    void worker_loop(int index);
    void run_part(int part);

    std::vector<std::thread> workers_;
    // 32-bit so that wait/notify are plain futex calls.
    std::atomic<uint32_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stopping_{false};
    const std::function<void(int, int)> *job_ = nullptr;  // published by generation_
    int job_parts_ = 0;
    std::mutex error_mutex_;
    std::exception_ptr error_;
};

}  // namespace sdw::cpu
