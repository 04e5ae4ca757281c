// sdw::nn::Ops for the CPU: float32 tensors in host memory, matrix products through
// OpenBLAS (cblas_sgemm), everything else in the plugin's own threaded kernels.
#pragma once

#include <sdw/nn/ops.h>

#include <memory>

namespace sdw::cpu {

// `threads` is the number of threads the kernels and OpenBLAS use; 0 = all cores.
// OpenBLAS's thread count is process-wide, so the last Ops created sets it.
std::unique_ptr<sdw::nn::Ops> make_cpu_ops(int threads = 0);

// The threads of an Ops from make_cpu_ops (0 for any other Ops).
int thread_count(const sdw::nn::Ops &ops);

}  // namespace sdw::cpu
