// Random weights that keep a full network's activations finite and O(1), generated fast.
//
// Weight values do not change speed, so any values do for benchmarks, as long as nothing
// overflows to inf/NaN in half precision (which can slow some kernels down and makes outputs
// useless for sanity checks). Hence: norm scales 1, biases 0, embeddings N(0, 0.02) like CLIP's
// init, other weights N(0, 1/fan_in) so each layer roughly preserves the variance of its input.
#pragma once

#include <cstdint>
#include <span>

#include "model/safetensors_writer.h"

namespace sdw::make_model {

struct WeightInit {
    float constant = 0.0f;  // used when stddev == 0
    float stddev = 0.0f;
};

// The initialization for a tensor, from its name and shape.
WeightInit weight_init(const TensorSpec& spec);

// Fills tensor bytes chunk by chunk, as SafetensorsWriter::write asks. Each tensor's values
// depend only on the seed and the tensor's name, not on chunking or order.
class RandomWeightFiller {
public:
    explicit RandomWeightFiller(uint64_t seed) : seed_(seed) {}
    void operator()(const TensorSpec& spec, uint64_t first_byte, std::span<std::byte> out);

private:
    uint64_t seed_;
    uint64_t state_[4] = {};  // xoshiro256+ state of the tensor being filled
    WeightInit init_;
};

}  // namespace sdw::make_model
