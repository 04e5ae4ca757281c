// sdw-op-bench: times single cpu-blas ops at the shapes that dominate SD 1.5 (the
// VAE decoder's 512x512 and 256x256 convolutions and group norms, its 4096-token
// mid-block attention, the UNet's self- and cross-attention), so a kernel change can
// be measured without a whole network run. Prints wall and CPU (user, sys) time per
// call and GFLOP/s for the products. See bench/README.md.
//
//   sdw-op-bench [--threads N] [--repeat N] [--filter TEXT]
#include <sdw/cpu/cpu_ops.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using sdw::nn::Shape;
using sdw::nn::Tensor;

double seconds(const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; }

struct Timing {
    double wall = 0, user = 0, sys = 0;
};

// Mean of `repeat` calls after one untimed warm-up call.
Timing time_calls(int repeat, const std::function<void()> &body) {
    body();
    rusage r0{}, r1{};
    getrusage(RUSAGE_SELF, &r0);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < repeat; ++i) body();
    const auto t1 = std::chrono::steady_clock::now();
    getrusage(RUSAGE_SELF, &r1);
    return {std::chrono::duration<double>(t1 - t0).count() / repeat,
            (seconds(r1.ru_utime) - seconds(r0.ru_utime)) / repeat,
            (seconds(r1.ru_stime) - seconds(r0.ru_stime)) / repeat};
}

Tensor random_tensor(sdw::nn::Ops &ops, const Shape &shape, std::mt19937 &rng, float scale = 1.0f) {
    std::vector<float> data(static_cast<size_t>(sdw::nn::shape_numel(shape)));
    std::normal_distribution<float> normal(0.0f, scale);
    for (float &v : data) v = normal(rng);
    Tensor t = ops.input(shape, sdw::nn::DType::F32);
    ops.upload(t, data.data(), t.bytes());
    return t;
}

// A weight as the plugin keeps a model's F16 weight (half precision, widened per call).
Tensor f16_weight(sdw::nn::Ops &ops, const Shape &shape, std::mt19937 &rng) {
    const int64_t n = sdw::nn::shape_numel(shape);
    std::vector<uint16_t> halves(static_cast<size_t>(n));
    std::uniform_int_distribution<int> mantissa(0, 1023);
    for (auto &h : halves) h = static_cast<uint16_t>(0x2000 | mantissa(rng));  // small values
    sdw_tensor_view view{};
    view.name = "w";
    view.dtype = SDW_DTYPE_F16;
    view.ndim = static_cast<int32_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) view.shape[i] = shape[i];
    view.data = halves.data();
    view.byte_size = static_cast<uint64_t>(n) * 2;
    return ops.weight(view, sdw::nn::DType::F32);
}

struct Case {
    std::string name;
    double flops;  // 0 = not a product
    std::function<void()> body;
};

}  // namespace

int main(int argc, char **argv) {
    int threads = 0, repeat = 3;
    std::string filter;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--threads") threads = std::atoi(argv[i + 1]);
        else if (flag == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
        else if (flag == "--filter") filter = argv[i + 1];
        else {
            std::fprintf(stderr, "usage: sdw-op-bench [--threads N] [--repeat N] [--filter TEXT]\n");
            return 2;
        }
    }
    auto ops = sdw::cpu::make_cpu_ops(threads);
    std::mt19937 rng(7);
    std::vector<Case> cases;

    auto conv = [&](int64_t cin, int64_t cout, int64_t size, int64_t k, int64_t batch = 1) {
        const std::string name = "conv" + std::to_string(k) + "x" + std::to_string(k) + " " +
                                 std::to_string(cin) + "->" + std::to_string(cout) + " @" +
                                 std::to_string(size) + "^2" + (batch > 1 ? " b" + std::to_string(batch) : "");
        if (!filter.empty() && name.find(filter) == std::string::npos) return;
        auto x = std::make_shared<Tensor>(random_tensor(*ops, {batch, cin, size, size}, rng));
        auto w = std::make_shared<Tensor>(f16_weight(*ops, {cout, cin, k, k}, rng));
        auto b = std::make_shared<Tensor>(random_tensor(*ops, {cout}, rng));
        cases.push_back({name, 2.0 * double(batch * cout * cin * k * k) * double(size * size),
                         [&ops, x, w, b, k] { ops->conv2d(*x, *w, *b, 1, int(k / 2)); }});
    };
    auto norm = [&](int64_t c, int64_t size, bool silu) {
        const std::string name = "group_norm" + std::string(silu ? "+silu " : " ") + std::to_string(c) +
                                 " @" + std::to_string(size) + "^2";
        if (!filter.empty() && name.find(filter) == std::string::npos) return;
        auto x = std::make_shared<Tensor>(random_tensor(*ops, {1, c, size, size}, rng));
        auto g = std::make_shared<Tensor>(random_tensor(*ops, {c}, rng));
        cases.push_back({name, 0, [&ops, x, g, silu] { ops->group_norm(*x, 32, *g, *g, 1e-6f, silu); }});
    };
    auto layer = [&](int64_t rows, int64_t dim) {
        const std::string name = "layer_norm " + std::to_string(rows) + "x" + std::to_string(dim);
        if (!filter.empty() && name.find(filter) == std::string::npos) return;
        auto x = std::make_shared<Tensor>(random_tensor(*ops, {rows, dim}, rng));
        auto g = std::make_shared<Tensor>(random_tensor(*ops, {dim}, rng));
        cases.push_back({name, 0, [&ops, x, g] { ops->layer_norm(*x, *g, *g, 1e-5f); }});
    };
    auto attn = [&](int64_t batch, int64_t nq, int64_t nk, int64_t c, int heads) {
        const std::string name = "attention b" + std::to_string(batch) + " " + std::to_string(nq) + "x" +
                                 std::to_string(nk) + " c" + std::to_string(c) + " h" + std::to_string(heads);
        if (!filter.empty() && name.find(filter) == std::string::npos) return;
        auto q = std::make_shared<Tensor>(random_tensor(*ops, {batch, nq, c}, rng));
        auto k = std::make_shared<Tensor>(random_tensor(*ops, {batch, nk, c}, rng));
        auto v = std::make_shared<Tensor>(random_tensor(*ops, {batch, nk, c}, rng));
        cases.push_back({name, 4.0 * double(batch * nq * nk * c),
                         [&ops, q, k, v, heads] { ops->attention(*q, *k, *v, heads, false); }});
    };

    // VAE decoder at 512x512 output (latent 64x64).
    conv(128, 128, 512, 3);
    conv(256, 128, 512, 3);
    conv(256, 256, 256, 3);
    conv(512, 256, 256, 3);
    conv(512, 512, 128, 3);
    conv(512, 512, 64, 3);
    conv(256, 128, 512, 1);
    norm(128, 512, true);
    norm(256, 256, true);
    norm(512, 64, false);
    attn(1, 4096, 4096, 512, 1);
    // UNet at 512x512, batch 2 (latent 64x64): the 3x3 convolutions count as the direct
    // multiply-adds (Winograd does fewer, so its GFLOP/s can exceed the FMA peak).
    conv(320, 320, 64, 3, 2);
    conv(640, 640, 32, 3, 2);
    conv(1280, 1280, 16, 3, 2);
    conv(1280, 1280, 8, 3, 2);
    layer(2 * 4096, 320);
    attn(2, 4096, 4096, 320, 8);
    attn(2, 4096, 77, 320, 8);
    attn(2, 1024, 1024, 640, 8);
    attn(2, 256, 256, 1280, 8);
    attn(2, 64, 64, 1280, 8);

    std::printf("%-36s %10s %10s %10s %12s %14s\n", "op", "wall ms", "user ms", "sys ms", "GFLOP/s", "GFLOP/s (user)");
    for (const Case &c : cases) {
        const Timing t = time_calls(repeat, c.body);
        if (c.flops > 0)
            std::printf("%-36s %10.1f %10.1f %10.1f %12.1f %14.1f\n", c.name.c_str(), t.wall * 1e3,
                        t.user * 1e3, t.sys * 1e3, c.flops / t.wall / 1e9, c.flops / std::max(t.user, 1e-9) / 1e9);
        else
            std::printf("%-36s %10.1f %10.1f %10.1f\n", c.name.c_str(), t.wall * 1e3, t.user * 1e3, t.sys * 1e3);
        std::fflush(stdout);
    }
    return 0;
}
