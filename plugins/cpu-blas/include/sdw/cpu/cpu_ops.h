// sdw::nn::Ops for the CPU: float32 tensors in host memory, matrix products through
// OpenBLAS (cblas_sgemm), everything else in the plugin's own threaded kernels.
#pragma once

#include <sdw/nn/ops.h>

#include <memory>

namespace sdw::cpu {

// `threads` is the number of threads the kernels and OpenBLAS use; 0 = all cores.
// OpenBLAS's thread count is process-wide, so the last Ops created sets it.
std::unique_ptr<sdw::nn::Ops> make_cpu_ops(int threads = 0);

// Frees the buffers an Ops from make_cpu_ops keeps for reuse (freed activations,
// im2col and score scratch), so that between component runs the plugin holds its
// weights only. Reuse within a run still saves most page faults. No-op for other Ops.
void release_cached_memory(sdw::nn::Ops &ops);

}  // namespace sdw::cpu
