#include "machine_peak.h"

#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace sdw::bench {
namespace {

// The clock from /proc/cpuinfo ("cpu MHz"), in GHz; 0 when unknown.
double cpu_ghz() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("cpu MHz", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return std::stod(line.substr(colon + 1)) / 1000.0;
        }
    return 0;
}

// Twelve independent accumulators hide the 4-cycle FMA latency on two ports.
constexpr int kChains = 12;
constexpr long kIterations = 20'000'000;

__attribute__((target("avx512f"))) float fma_loop_avx512() {
    __m512 acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < kIterations; ++it)
        for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    float lanes[16], sum = 0;
    for (int i = 0; i < kChains; ++i) {
        _mm512_storeu_ps(lanes, acc[i]);
        for (float v : lanes) sum += v;
    }
    return sum;
}

__attribute__((target("avx2,fma"))) float fma_loop_avx2() {
    __m256 acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < kIterations; ++it)
        for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    float lanes[8], sum = 0;
    for (int i = 0; i < kChains; ++i) {
        _mm256_storeu_ps(lanes, acc[i]);
        for (float v : lanes) sum += v;
    }
    return sum;
}

}  // namespace

FmaPeak fma_peak(int threads, int fma_ports) {
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f");
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const int lanes = avx512 ? 16 : avx2 ? 8 : 4;
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    const double ghz = cpu_ghz();
    FmaPeak peak;
    const int per_cycle = (avx512 || avx2) ? fma_ports * lanes * 2 : lanes * 2;
    peak.nominal_gflops = cores * ghz * per_cycle;
    char text[200];
    std::snprintf(text, sizeof text, "%d cores x %.2f GHz x %d (%s: %d FMA ports x %d lanes x 2)",
                  cores, ghz, per_cycle, avx512 ? "AVX-512" : avx2 ? "AVX2" : "SSE", fma_ports,
                  lanes);
    peak.derivation = text;
    if (!avx512 && !avx2) return peak;

    std::vector<std::thread> pool;
    std::vector<float> sink(static_cast<size_t>(threads));
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] { sink[t] = avx512 ? fma_loop_avx512() : fma_loop_avx2(); });
    for (auto &t : pool) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    peak.measured_gflops = 2.0 * kChains * lanes * double(kIterations) * threads / seconds / 1e9;
    if (sink[0] == 12345.0f) std::puts("");  // keep the loops observable
    return peak;
}

}  // namespace sdw::bench
