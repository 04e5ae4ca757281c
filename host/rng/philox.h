// Philox4x32-10 counter-based generator (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011), stepped the way cuRAND's curandStatePhilox4_32_10_t is.
#pragma once

#include <array>
#include <cstdint>

namespace sdw {

using PhiloxBlock = std::array<uint32_t, 4>;

// Ten rounds of Philox4x32 on a 128-bit counter under a 64-bit key.
PhiloxBlock philox4x32_10(PhiloxBlock counter, uint64_t key);

// A cuRAND Philox stream: curand_init(seed, subsequence, offset) then curand4 calls. The
// subsequence selects the high 64 bits of the counter, the offset skips 32-bit outputs.
class PhiloxStream {
public:
    PhiloxStream(uint64_t seed, uint64_t subsequence, uint64_t offset);

    // Four consecutive 32-bit outputs (curand4).
    PhiloxBlock next4();

private:
    void advance_counter();

    uint64_t key_;
    PhiloxBlock counter_{};
    PhiloxBlock output_{};
    unsigned position_ = 0;  // how many words of output_ are used up (0..3)
};

}  // namespace sdw
