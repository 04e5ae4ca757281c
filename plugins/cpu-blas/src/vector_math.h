// Element-wise activations over arrays, with AVX-512 versions picked at run time
// (__builtin_cpu_supports) so the plugin still runs on any x86-64, and scalar
// versions elsewhere. The vector exp is a Cody-Waite reduction and a degree-7
// polynomial (relative error ~1e-7); erfc is Numerical Recipes' erfcc Chebyshev
// fit (fractional error < 1.2e-7 everywhere), so GELU keeps float accuracy in
// the tail where 1 + erf(x) would cancel.
#pragma once

#include <cstdint>

namespace sdw::cpu {

// x[i] = x[i] * sigmoid(x[i])
void silu_inplace(float *x, int64_t n);
// y[i] = x[i] * sigmoid(k * x[i])  (k = 1: SiLU, k = 1.702: quick GELU)
void scaled_silu(const float *x, float *y, int64_t n, float k);
// y[i] = gelu(x[i]) (exact, erf form)
void gelu(const float *x, float *y, int64_t n);
// y[i] = a[i] * gelu(g[i])
void gated_gelu(const float *a, const float *g, float *y, int64_t n);

// y[i] = float(x[i]) for IEEE halves (F16C / AVX-512 conversion when present).
void half_to_float(const uint16_t *x, float *y, int64_t n);

}  // namespace sdw::cpu
