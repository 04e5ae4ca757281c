#include "rng/cpu_generator.h"

#include <cmath>
#include <numbers>

#include "rng/cephes_float_math.h"

namespace sdw {
namespace {

// Below this many elements torch draws normals one by one in double precision; from it on it
// fills uniforms first and transforms them sixteen at a time.
constexpr size_t kVectorisedNormalMinimum = 16;

// Box-Muller on sixteen uniforms in place: the first eight give the radii, the last eight the
// angles. This is torch's AVX2 kernel (the x86-64 default), replayed in scalar float.
void box_muller_16(float* data) {
    const float two_pi = static_cast<float>(2.0 * std::numbers::pi);
    for (int j = 0; j < 8; ++j) {
        const float u1 = 1.0f - data[j];  // [0, 1) -> (0, 1], safe for log
        const float u2 = data[j + 8];
        const float radius = std::sqrt(-2.0f * cephes::log(u1));
        float sine = 0.0f;
        float cosine = 0.0f;
        cephes::sincos(two_pi * u2, sine, cosine);
        // torch finishes with fma(n, std, mean); with std 1 and mean 0 that is n + 0.
        data[j] = radius * cosine + 0.0f;
        data[j + 8] = radius * sine + 0.0f;
    }
}

}  // namespace

CpuGenerator::CpuGenerator(uint64_t seed) : engine_(static_cast<uint32_t>(seed)) {}

float CpuGenerator::uniform_float() {
    constexpr uint32_t kMask = (1u << 24) - 1;
    constexpr float kScale = 1.0f / static_cast<float>(1u << 24);
    return static_cast<float>(static_cast<uint32_t>(engine_()) & kMask) * kScale;
}

double CpuGenerator::uniform_double() {
    const uint64_t high = static_cast<uint32_t>(engine_());
    const uint64_t low = static_cast<uint32_t>(engine_());
    constexpr uint64_t kMask = (uint64_t{1} << 53) - 1;
    constexpr double kScale = 1.0 / static_cast<double>(uint64_t{1} << 53);
    return static_cast<double>(((high << 32) | low) & kMask) * kScale;
}

double CpuGenerator::normal_double() {
    if (cached_normal_) {
        const double value = *cached_normal_;
        cached_normal_.reset();
        return value;
    }
    const double u1 = uniform_double();
    const double u2 = uniform_double();
    const double radius = std::sqrt(-2.0 * std::log1p(-u2));
    const double theta = 2.0 * std::numbers::pi * u1;
    cached_normal_ = radius * std::sin(theta);
    return radius * std::cos(theta);
}

void CpuGenerator::normal_fill(float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = uniform_float();
    for (size_t i = 0; i + 16 <= n; i += 16) box_muller_16(out + i);
    if (n % 16 != 0) {
        // torch redraws the last sixteen (overlapping the previous block) from fresh uniforms.
        float* tail = out + n - 16;
        for (size_t i = 0; i < 16; ++i) tail[i] = uniform_float();
        box_muller_16(tail);
    }
}

void CpuGenerator::randn(float* out, size_t n) {
    if (n >= kVectorisedNormalMinimum) {
        normal_fill(out, n);
        return;
    }
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(normal_double());
}

void CpuGenerator::rand(float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = uniform_float();
}

std::unique_ptr<TorchGenerator> make_cpu_generator(uint64_t seed) {
    return std::make_unique<CpuGenerator>(seed);
}

}  // namespace sdw
