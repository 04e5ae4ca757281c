// Single-precision log and sincos computed with exactly the operations of the Cephes-derived
// AVX routines (avx_mathfun.h) that torch's AVX2 CPU kernel uses for randn of 16 or more
// float32 elements. Their results differ from libm's in the last bits, and those bits decide
// whether the noise matches torch exactly, so this is a scalar replay of that operation
// sequence as torch's binaries execute it: GCC builds that kernel with -mfma and fuses every
// product whose only use is a sum into one fused multiply-add, so the replay uses std::fma
// exactly there and rounds every other product and sum separately (the library is built with
// -ffp-contract=off so that the compiler adds no fusion of its own). Verified bit for bit
// against torch 2.11 in tests/rng.
#pragma once

namespace sdw::cephes {

// Natural logarithm of x > 0 (NaN for x <= 0).
float log(float x);

// Sine and cosine of x, accurate for |x| < 8192.
void sincos(float x, float& sine, float& cosine);

}  // namespace sdw::cephes
