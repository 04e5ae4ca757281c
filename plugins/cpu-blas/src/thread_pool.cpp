#include "thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace sdw::cpu {
namespace {

// Polls before sleeping: about 50 microseconds of pause instructions.
constexpr int kSpins = 4000;

thread_local bool inside_job = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

// Waits until `value` differs from `old`, spinning first.
template <typename T>
T wait_change(const std::atomic<T> &value, T old) {
    for (int i = 0; i < kSpins; ++i) {
        const T now = value.load(std::memory_order_acquire);
        if (now != old) return now;
        cpu_relax();
    }
    for (;;) {
        value.wait(old, std::memory_order_acquire);
        const T now = value.load(std::memory_order_acquire);
        if (now != old) return now;
    }
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
    for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    stopping_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    generation_.notify_all();
    for (auto &t : workers_) t.join();
}

void ThreadPool::run_part(int part) {
    inside_job = true;
    try {
        (*job_)(part, job_parts_);
    } catch (...) {
        std::lock_guard lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
    }
    inside_job = false;
}

void ThreadPool::worker_loop(int index) {
    uint32_t seen = 0;
    for (;;) {
        seen = wait_change(generation_, seen);
        if (stopping_.load(std::memory_order_acquire)) return;
        if (index < job_parts_) run_part(index);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
}

void ThreadPool::run_parts(int parts, const std::function<void(int, int)> &fn) {
    parts = std::min(parts, size());
    if (parts <= 0) return;
    if (parts == 1 || inside_job) {
        for (int p = 0; p < parts; ++p) fn(p, parts);
        return;
    }
    job_ = &fn;
    job_parts_ = parts;
    error_ = nullptr;
    // Every worker acknowledges every job, so a worker never sees a stale job.
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    generation_.notify_all();
    run_part(0);
    for (int left = pending_.load(std::memory_order_acquire); left != 0;
         left = pending_.load(std::memory_order_acquire))
        wait_change(pending_, left);
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)> &fn) {
    if (n <= 0) return;
    const int64_t max_parts = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
    const int parts = static_cast<int>(std::min<int64_t>(size(), max_parts));
    if (parts == 1 || inside_job) {
        fn(0, n);
        return;
    }
    run_parts(parts, [&](int part, int count) {
        const int64_t begin = n * part / count, end = n * (part + 1) / count;
        if (begin < end) fn(begin, end);
    });
}

}  // namespace sdw::cpu
