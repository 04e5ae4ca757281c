// torch.Generator("cuda") computed on the host.
//
// torch fills a contiguous float32 tensor with one grid-stride kernel: a grid of 256-thread
// blocks (capped at what the GPU keeps resident), thread t seeding curand_init(seed, t, offset)
// and taking four numbers per Philox call, of which number k goes to element
// t + k * threads (+ 4 * threads per further loop trip). After each call the generator's
// offset grows by 4 per loop trip, so draws continue rather than repeat.
//
// The Philox words, and therefore the uniforms, match torch exactly. The normals go through
// Box-Muller with the GPU's __sincosf and logf, whose last bits come from the hardware and
// libdevice; here they are computed with the host's accurate functions, so a CUDA normal
// matches torch's to within a few float ulps (about 1e-6), not bit for bit.
#include <algorithm>
#include <cmath>

#include "rng/philox.h"
#include "rng/torch_generator.h"

namespace sdw {
namespace {

constexpr uint64_t kBlockSize = 256;
constexpr uint64_t kValuesPerCall = 4;  // curand_normal4 / curand_uniform4
// torch caps the grid at multiProcessorCount * (maxThreadsPerMultiProcessor / 256) blocks.
// That only matters for tensors of more than that many * 256 elements, where the element
// mapping then depends on the GPU; an H100 SXM's figures (132 SMs, 2048 threads) are used.
constexpr uint64_t kMaxResidentBlocks = 132 * (2048 / kBlockSize);

constexpr float kTwoPow32Inv = 2.3283064e-10f;
constexpr float kTwoPow32Inv2Pi = 2.3283064e-10f * 6.2831855f;

// cuRAND's (0, 1] uniform; nvcc fuses the multiply-add.
float curand_uniform_from(uint32_t word) {
    return std::fma(static_cast<float>(word), kTwoPow32Inv, kTwoPow32Inv / 2.0f);
}

// cuRAND's Box-Muller on two words: the first value (sine) and the second (cosine).
void curand_box_muller(uint32_t a, uint32_t b, float& first, float& second) {
    const float u = std::fma(static_cast<float>(a), kTwoPow32Inv, kTwoPow32Inv / 2.0f);
    const float v = std::fma(static_cast<float>(b), kTwoPow32Inv2Pi, kTwoPow32Inv2Pi / 2.0f);
    const float radius = std::sqrt(-2.0f * std::log(u));
    const double angle = v;
    first = static_cast<float>(std::sin(angle)) * radius;
    second = static_cast<float>(std::cos(angle)) * radius;
}

class CudaGenerator final : public TorchGenerator {
public:
    explicit CudaGenerator(uint64_t seed) : seed_(seed) {}

    void randn(float* out, size_t n) override {
        fill(out, n, [](const PhiloxBlock& words, float values[4]) {
            curand_box_muller(words[0], words[1], values[0], values[1]);
            curand_box_muller(words[2], words[3], values[2], values[3]);
        });
    }

    void rand(float* out, size_t n) override {
        fill(out, n, [](const PhiloxBlock& words, float values[4]) {
            for (int i = 0; i < 4; ++i) {
                // torch maps cuRAND's (0, 1] onto [0, 1) by turning 1 into 0.
                const float value = curand_uniform_from(words[i]);
                values[i] = value == 1.0f ? 0.0f : value;
            }
        });
    }

private:
    template <typename Transform>
    void fill(float* out, size_t n, Transform transform) {
        if (n == 0) return;
        const uint64_t blocks = std::min((n + kBlockSize - 1) / kBlockSize, kMaxResidentBlocks);
        const uint64_t threads = blocks * kBlockSize;
        const uint64_t stride = threads * kValuesPerCall;
        const uint64_t trips = (n - 1) / stride + 1;
        for (uint64_t thread = 0; thread < threads; ++thread) {
            PhiloxStream stream(seed_, thread, offset_);
            for (uint64_t trip = 0; trip < trips; ++trip) {
                float values[4];
                transform(stream.next4(), values);
                for (uint64_t k = 0; k < kValuesPerCall; ++k) {
                    const uint64_t index = trip * stride + thread + k * threads;
                    if (index < n) out[index] = values[k];
                }
            }
        }
        offset_ += trips * kValuesPerCall;
    }

    uint64_t seed_;
    uint64_t offset_ = 0;
};

}  // namespace

std::unique_ptr<TorchGenerator> make_cuda_generator(uint64_t seed) {
    return std::make_unique<CudaGenerator>(seed);
}

}  // namespace sdw
