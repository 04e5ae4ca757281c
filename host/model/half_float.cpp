#include "model/half_float.h"

#include <cmath>
#include <cstring>

namespace sdw {
namespace {

uint32_t bits_of(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

float float_of(uint32_t bits) {
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

}  // namespace

float f16_to_f32(uint16_t bits) {
    const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
    const uint32_t exponent = (bits >> 10) & 0x1fu;
    uint32_t mantissa = bits & 0x3ffu;
    if (exponent == 0x1f) return float_of(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
    if (exponent != 0) return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));
    if (mantissa == 0) return float_of(sign);
    // Subnormal half: shift the mantissa up until it is normal as a float.
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        ++shift;
    }
    mantissa &= 0x3ffu;
    return float_of(sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13));
}

float bf16_to_f32(uint16_t bits) { return float_of(static_cast<uint32_t>(bits) << 16); }

uint16_t f32_to_f16(float value) {
    const uint32_t bits = bits_of(value);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude >= 0x7f800000u)  // inf or NaN (NaN keeps a quiet payload)
        return sign | (magnitude > 0x7f800000u ? 0x7e00u : 0x7c00u);
    if (magnitude >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: infinity
    if (magnitude < 0x38800000u) {
        // Below the smallest normal half (2^-14): the result is a multiple of 2^-24, and this
        // product is exact, so nearbyint's ties-to-even gives the correctly rounded subnormal.
        const float scaled = float_of(magnitude) * 16777216.0f;
        return sign | static_cast<uint16_t>(std::nearbyint(scaled));
    }
    // Rebias the exponent (127 -> 15) and round the 13 dropped bits to nearest, ties to even.
    const uint32_t rounded = magnitude - 0x38000000u + 0xfffu + ((magnitude >> 13) & 1u);
    return sign | static_cast<uint16_t>(rounded >> 13);
}

uint16_t f32_to_bf16(float value) {
    const uint32_t bits = bits_of(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace sdw
