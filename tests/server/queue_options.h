// JobQueueOptions for a test: a capacity, how many finished jobs to keep and for how long.
#pragma once

#include "jobs/job_queue.h"

#include <chrono>
#include <cstddef>

namespace sdw::test {

inline JobQueueOptions queue_with(size_t capacity, size_t max_retained = 256,
                                  std::chrono::milliseconds retention = std::chrono::minutes(15)) {
    JobQueueOptions options;
    options.capacity = capacity;
    options.max_retained = max_retained;
    options.retention = retention;
    return options;
}

}  // namespace sdw::test
