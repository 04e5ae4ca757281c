// Row softmax for attention, the hot non-BLAS loop (8 heads x 4096 x 4096 scores per
// SD 1.5 self-attention). An AVX-512 version with a polynomial exp (relative error
// below 1e-7) is picked at run time on CPUs that have it.
#pragma once

#include <cstdint>

namespace sdw::cpu {

// row[0..n) <- softmax(row[0..n)), numerically stable (max subtracted); n > 0.
void softmax_inplace(float *row, int64_t n);

}  // namespace sdw::cpu
