#include "random_weights.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "model/half_float.h"

namespace sdw::make_model {
namespace {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view text) {
    uint64_t hash = 0xcbf29ce484222325ull;
    for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return hash;
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// xoshiro256+: fast, and its weak low bits do not matter for the sum below.
uint64_t next(uint64_t* s) {
    const uint64_t result = s[0] + s[3];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

// Approximately standard normal from one 64-bit draw: the sum of its four 16-bit parts
// (Irwin-Hall, n = 4) standardized. Bounded to +-3.46, which suits weights; far cheaper than
// Box-Muller, so writing a 2 GB model is limited by the disk, not by the generator.
float standard_normal(uint64_t* s) {
    const uint64_t r = next(s);
    const int64_t sum = static_cast<int64_t>((r & 0xffff) + ((r >> 16) & 0xffff) +
                                             ((r >> 32) & 0xffff) + (r >> 48));
    constexpr float kMean = 4 * 65535 / 2.0f;
    const float kInvStd = 1.0f / (65536.0f * std::sqrt(4.0f / 12.0f));
    return (static_cast<float>(sum) - kMean) * kInvStd;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

WeightInit weight_init(const TensorSpec& spec) {
    const std::string_view name = spec.name;
    if (ends_with(name, ".bias")) return {0.0f, 0.0f};
    if (spec.shape.size() <= 1) return {1.0f, 0.0f};  // norm scales (GroupNorm, LayerNorm)
    if (name.find("embedding") != std::string_view::npos &&
        name.find("time_embedding") == std::string_view::npos &&
        name.find("add_embedding") == std::string_view::npos)
        return {0.0f, 0.02f};  // token and position embeddings
    const uint64_t fan_in = spec.numel() / static_cast<uint64_t>(spec.shape[0]);
    return {0.0f, fan_in == 0 ? 0.0f : 1.0f / std::sqrt(static_cast<float>(fan_in))};
}

void RandomWeightFiller::operator()(const TensorSpec& spec, uint64_t first_byte,
                                    std::span<std::byte> out) {
    if (first_byte == 0) {
        uint64_t seed_state = seed_ ^ fnv1a(spec.name);
        for (uint64_t& word : state_) word = splitmix64(seed_state);
        init_ = weight_init(spec);
    }
    const size_t element = dtype_size(spec.dtype);
    const size_t count = out.size() / element;
    auto value = [&]() {
        return init_.stddev == 0.0f ? init_.constant : init_.stddev * standard_normal(state_);
    };
    switch (spec.dtype) {
        case DType::F32:
            for (size_t i = 0; i < count; ++i) {
                const float v = value();
                std::memcpy(out.data() + i * 4, &v, 4);
            }
            break;
        case DType::F16:
            for (size_t i = 0; i < count; ++i) {
                const uint16_t v = f32_to_f16(value());
                std::memcpy(out.data() + i * 2, &v, 2);
            }
            break;
        case DType::BF16:
            for (size_t i = 0; i < count; ++i) {
                const uint16_t v = f32_to_bf16(value());
                std::memcpy(out.data() + i * 2, &v, 2);
            }
            break;
        default:
            throw std::runtime_error("tensor '" + spec.name + "': random weights need a float dtype");
    }
}

}  // namespace sdw::make_model
