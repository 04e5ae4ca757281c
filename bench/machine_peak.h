// The machine's single-precision FMA peak, two ways: from what lscpu/cpuinfo say
// (cores x clock x FLOPs per cycle of the widest FMA the CPU has) and measured by
// independent FMA chains on every thread, which also catches turbo clocks and
// virtual machines with fewer FMA ports than the model name suggests.
#pragma once

#include <string>

namespace sdw::bench {

struct FmaPeak {
    double nominal_gflops = 0;   // cores x GHz x flops/cycle
    std::string derivation;      // "2 cores x 2.30 GHz x 64 (AVX-512: 2 FMA ports x 16 lanes x 2)"
    double measured_gflops = 0;  // FMA loop on `threads` threads
};

// `fma_ports`: FMA units per core assumed for the nominal figure (Xeon server cores: 2).
FmaPeak fma_peak(int threads, int fma_ports);

}  // namespace sdw::bench
