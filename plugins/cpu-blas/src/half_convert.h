// IEEE half and bfloat16 to float, bit-exact, without relying on F16C being enabled
// at compile time.
#pragma once

#include <cstdint>
#include <cstring>

namespace sdw::cpu {

inline float bits_to_float(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

inline float f16_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f)  // inf / nan
        return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
    if (exponent != 0) return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
    if (mantissa == 0) return bits_to_float(sign);
    // Subnormal: shift until the implicit bit appears.
    int e = -1;
    do {
        ++e;
        mantissa <<= 1;
    } while ((mantissa & 0x400u) == 0);
    return bits_to_float(sign | static_cast<uint32_t>(112 - e) << 23 | ((mantissa & 0x3ffu) << 13));
}

}  // namespace sdw::cpu
