#include "thread_pool.h"

#include <algorithm>

namespace sdw::cpu {

ThreadPool::ThreadPool(int threads) {
    for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto &t : workers_) t.join();
}

void ThreadPool::run_range(int part, int parts) {
    int64_t begin = job_n_ * part / parts;
    int64_t end = job_n_ * (part + 1) / parts;
    if (begin >= end) return;
    try {
        (*job_)(begin, end);
    } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
    }
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        int parts;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
            parts = job_parts_;
        }
        if (index < parts) run_range(index, parts);
        {
            std::lock_guard lock(mutex_);
            if (--pending_ == 0) done_.notify_one();
        }
    }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)> &fn) {
    if (n <= 0) return;
    int64_t max_parts = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
    int parts = static_cast<int>(std::min<int64_t>(size(), max_parts));
    if (parts == 1) {
        fn(0, n);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        job_n_ = n;
        job_parts_ = parts;
        pending_ = static_cast<int>(workers_.size());
        error_ = nullptr;
        ++generation_;
    }
    wake_.notify_all();
    run_range(0, parts);
    std::exception_ptr error;
    {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return pending_ == 0; });
        error = error_;
        job_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace sdw::cpu
