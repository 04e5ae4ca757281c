// The model a fuzzed request is validated against: what a served SD 1.x model describes
// (tests/server/fake_generator.h describes the same), so every route and field that depends
// on the model (schedulers, default size, operations) is reachable.
#pragma once

#include "pipeline/generation.h"

namespace sdw::fuzz {

inline ModelDescription fuzz_model() {
    ModelDescription d;
    d.name = "fuzz-model";
    d.path = "/nowhere/fuzz-model";
    d.default_width = 64;
    d.default_height = 64;
    d.schedulers = {"ddim", "euler", "euler_a", "dpmpp_2m", "lms", "pndm", "lcm"};
    d.backend = {"fuzz", "0.0.1", "/fuzz/libfuzz.so", "1.0", "fuzz CPU", std::nullopt};
    return d;
}

}  // namespace sdw::fuzz
