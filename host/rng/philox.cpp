#include "rng/philox.h"

#include <cstddef>

namespace sdw {
namespace {

constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kKeyBump0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kKeyBump1 = 0xBB67AE85u;  // sqrt(3) - 1

PhiloxBlock round(const PhiloxBlock& c, uint32_t key0, uint32_t key1) {
    const uint64_t product0 = uint64_t{kMultiplier0} * c[0];
    const uint64_t product1 = uint64_t{kMultiplier1} * c[2];
    return {static_cast<uint32_t>(product1 >> 32) ^ c[1] ^ key0, static_cast<uint32_t>(product1),
            static_cast<uint32_t>(product0 >> 32) ^ c[3] ^ key1, static_cast<uint32_t>(product0)};
}

// Adds `amount` to a 128-bit little-endian counter starting at word `first`.
void add_to_counter(PhiloxBlock& counter, std::size_t first, uint64_t amount) {
    for (std::size_t i = first; i < 4 && amount != 0; ++i) {
        const uint64_t sum = uint64_t{counter[i]} + (amount & 0xffffffffu);
        counter[i] = static_cast<uint32_t>(sum);
        amount = (amount >> 32) + (sum >> 32);
    }
}

}  // namespace

PhiloxBlock philox4x32_10(PhiloxBlock counter, uint64_t key) {
    uint32_t key0 = static_cast<uint32_t>(key);
    uint32_t key1 = static_cast<uint32_t>(key >> 32);
    for (int i = 0; i < 10; ++i) {
        counter = round(counter, key0, key1);
        key0 += kKeyBump0;
        key1 += kKeyBump1;
    }
    return counter;
}

PhiloxStream::PhiloxStream(uint64_t seed, uint64_t subsequence, uint64_t offset) : key_(seed) {
    add_to_counter(counter_, 2, subsequence);
    add_to_counter(counter_, 0, offset / 4);
    position_ = static_cast<unsigned>(offset % 4);
    output_ = philox4x32_10(counter_, key_);
}

void PhiloxStream::advance_counter() {
    add_to_counter(counter_, 0, 1);
    output_ = philox4x32_10(counter_, key_);
}

PhiloxBlock PhiloxStream::next4() {
    const PhiloxBlock current = output_;
    advance_counter();
    PhiloxBlock result{};
    for (unsigned i = 0; i < 4; ++i) {
        const unsigned word = position_ + i;
        result[i] = word < 4 ? current[word] : output_[word - 4];
    }
    return result;
}

}  // namespace sdw
