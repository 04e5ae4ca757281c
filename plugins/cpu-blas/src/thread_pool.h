// A fixed set of worker threads for the kernels that OpenBLAS does not run.
// parallel_for splits [0, n) into one contiguous range per thread and runs them
// with the calling thread taking part; workers sleep (no spinning) between calls
// so they leave the cores to OpenBLAS's own threads.
#pragma once

#include <condition_variable>
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

    // Calls fn(begin, end) on disjoint ranges covering [0, n); ranges are at least
    // `grain` long so tiny loops stay on one thread. Rethrows the first exception.
    void parallel_for(int64_t n, int64_t grain,
                      const std::function<void(int64_t, int64_t)> &fn);

private:
    void worker_loop(int index);
    void run_range(int part, int parts);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void(int64_t, int64_t)> *job_ = nullptr;
    int64_t job_n_ = 0;
    int job_parts_ = 0;
    uint64_t generation_ = 0;
    int pending_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
};

}  // namespace sdw::cpu
