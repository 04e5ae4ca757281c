// The Ops backends the conformance suite runs over. Each in-tree backend that is built
// registers itself in conformance_backends.cpp under its SDW_CONFORMANCE_<NAME>
// definition (set by tests/conformance/CMakeLists.txt when the backend's target exists).
#pragma once

#include <sdw/nn/ops.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sdw::conformance {

struct Backend {
    std::string name;                                   // "cpu-blas"
    std::function<std::unique_ptr<sdw::nn::Ops>()> make;
    // Empty when usable here; otherwise why not (no GPU), printed by the skipped tests.
    std::function<std::string()> unavailable;
    // The dtypes it computes activations in (each is a test run of its own).
    std::vector<sdw::nn::DType> compute_dtypes;
    // The dtypes cast() converts F32 to and from.
    std::vector<sdw::nn::DType> cast_dtypes;
    // Refuses out-of-range gather_rows ids (a device backend may not: the networks
    // check ids on the host, and a check on the device would need a read-back).
    bool checks_indices = true;
};

const std::vector<Backend> &backends();

}  // namespace sdw::conformance
