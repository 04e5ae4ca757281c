#include "rng/cephes_float_math.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace sdw::cephes {
namespace {

// The float constants of the Cephes single-precision routines, rounded from the same decimal
// literals the AVX code uses.
constexpr float kSqrtHalf = 0.707106781186547524f;
constexpr float kLogP[] = {7.0376836292E-2f,  -1.1514610310E-1f, 1.1676998740E-1f,
                           -1.2420140846E-1f, +1.4249322787E-1f, -1.6668057665E-1f,
                           +2.0000714765E-1f, -2.4999993993E-1f, +3.3333331174E-1f};
constexpr float kLogQ1 = -2.12194440e-4f;
constexpr float kLogQ2 = 0.693359375f;

constexpr float kFourOverPi = 1.27323954473516f;
constexpr float kMinusDp1 = -0.78515625f;
constexpr float kMinusDp2 = -2.4187564849853515625e-4f;
constexpr float kMinusDp3 = -3.77489497744594108e-8f;
constexpr float kSinP0 = -1.9515295891E-4f;
constexpr float kSinP1 = 8.3321608736E-3f;
constexpr float kSinP2 = -1.6666654611E-1f;
constexpr float kCosP0 = 2.443315711809948E-005f;
constexpr float kCosP1 = -1.388731625493765E-003f;
constexpr float kCosP2 = 4.166664568298827E-002f;

constexpr uint32_t kSignBit = 0x80000000u;
constexpr uint32_t kExponentBits = 0x7f800000u;

float with_sign_flipped(float value, uint32_t sign) {
    return std::bit_cast<float>(std::bit_cast<uint32_t>(value) ^ sign);
}

}  // namespace

float log(float x) {
    if (!(x > 0.0f)) return std::numeric_limits<float>::quiet_NaN();

    // Denormals are treated as the smallest normal number, as the vector code does.
    const float smallest_normal = std::bit_cast<float>(0x00800000u);
    if (x < smallest_normal) x = smallest_normal;

    // Split x = m * 2^e with m in [0.5, 1).
    const uint32_t bits = std::bit_cast<uint32_t>(x);
    float exponent = static_cast<float>(static_cast<int32_t>(bits >> 23) - 0x7f);
    float m = std::bit_cast<float>((bits & ~kExponentBits) | std::bit_cast<uint32_t>(0.5f));
    exponent = exponent + 1.0f;

    // Move m into [sqrt(1/2) - 1, sqrt(2) - 1).
    const bool below_sqrt_half = m < kSqrtHalf;
    const float addend = below_sqrt_half ? m : 0.0f;
    m = m - 1.0f;
    exponent = exponent - (below_sqrt_half ? 1.0f : 0.0f);
    m = m + addend;

    const float m2 = m * m;
    float poly = kLogP[0];
    for (int i = 1; i < 9; ++i) poly = std::fma(poly, m, kLogP[i]);
    poly = poly * m;
    // Of the two products feeding this sum, the compiler fused the one computed first.
    poly = std::fma(poly, m2, exponent * kLogQ1);
    poly = std::fma(-m2, 0.5f, poly);
    m = m + poly;
    m = std::fma(exponent, kLogQ2, m);
    return m;
}

void sincos(float x, float& sine, float& cosine) {
    uint32_t sine_sign = std::bit_cast<uint32_t>(x) & kSignBit;
    x = std::bit_cast<float>(std::bit_cast<uint32_t>(x) & ~kSignBit);

    // Octant j (rounded up to even) and the reduced argument x - j*pi/4, in three steps for
    // extra precision.
    int32_t octant = static_cast<int32_t>(x * kFourOverPi);  // truncation, like cvttps
    octant = (octant + 1) & ~1;
    const float y = static_cast<float>(octant);

    sine_sign ^= static_cast<uint32_t>(octant & 4) << 29;
    const bool sine_uses_sine_poly = (octant & 2) == 0;
    const uint32_t cosine_sign = static_cast<uint32_t>(~(octant - 2) & 4) << 29;

    x = std::fma(y, kMinusDp1, x);
    x = std::fma(y, kMinusDp2, x);
    x = std::fma(y, kMinusDp3, x);

    const float z = x * x;
    float cos_poly = kCosP0;
    cos_poly = std::fma(cos_poly, z, kCosP1);
    cos_poly = std::fma(cos_poly, z, kCosP2);
    cos_poly = cos_poly * z;
    cos_poly = std::fma(cos_poly, z, -(z * 0.5f));
    cos_poly = cos_poly + 1.0f;

    float sin_poly = kSinP0;
    sin_poly = std::fma(sin_poly, z, kSinP1);
    sin_poly = std::fma(sin_poly, z, kSinP2);
    sin_poly = sin_poly * z;
    sin_poly = std::fma(sin_poly, x, x);

    // The vector code selects with masks and adds the unselected zero; replaying the additions
    // keeps the sign of zero results identical.
    const float sine_from_sin = sine_uses_sine_poly ? sin_poly : 0.0f;
    const float sine_from_cos = sine_uses_sine_poly ? 0.0f : cos_poly;
    const float cosine_from_sin = sin_poly - sine_from_sin;
    const float cosine_from_cos = cos_poly - sine_from_cos;
    sine = with_sign_flipped(sine_from_cos + sine_from_sin, sine_sign);
    cosine = with_sign_flipped(cosine_from_cos + cosine_from_sin, cosine_sign);
}

}  // namespace sdw::cephes
