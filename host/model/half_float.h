// Conversions between float32 and the 16-bit float formats of model weights.
#pragma once

#include <cstdint>

namespace sdw {

// Exact widening.
float f16_to_f32(uint16_t bits);
float bf16_to_f32(uint16_t bits);
// Round to nearest, ties to even; overflow gives infinity, NaN stays NaN.
uint16_t f32_to_f16(float value);
uint16_t f32_to_bf16(float value);

}  // namespace sdw
