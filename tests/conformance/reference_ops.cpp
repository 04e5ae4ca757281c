#include "reference_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace sdw::conformance {

Host random_host(const sdw::nn::Shape &shape, uint32_t seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    Host h{shape, std::vector<float>(static_cast<size_t>(sdw::nn::shape_numel(shape)))};
    for (float &x : h.v) x = dist(rng);
    return h;
}

double silu_ref(double v) { return v / (1.0 + std::exp(-v)); }
double gelu_ref(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

std::vector<double> conv2d_ref(const Host &x, const Host &w, const Host *bias, int stride, int pad) {
    const int64_t n = x.shape[0], cin = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const int64_t cout = w.shape[0], k = w.shape[2];
    const int64_t ho = (h + 2 * pad - k) / stride + 1, wo = (wd + 2 * pad - k) / stride + 1;
    std::vector<double> y(static_cast<size_t>(n * cout * ho * wo));
    for (int64_t b = 0; b < n; ++b)
        for (int64_t co = 0; co < cout; ++co)
            for (int64_t oy = 0; oy < ho; ++oy)
                for (int64_t ox = 0; ox < wo; ++ox) {
                    double acc = bias ? bias->v[co] : 0.0;
                    for (int64_t ci = 0; ci < cin; ++ci)
                        for (int64_t ky = 0; ky < k; ++ky)
                            for (int64_t kx = 0; kx < k; ++kx) {
                                const int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                acc += double(x.v[((b * cin + ci) * h + iy) * wd + ix]) *
                                       w.v[((co * cin + ci) * k + ky) * k + kx];
                            }
                    y[((b * cout + co) * ho + oy) * wo + ox] = acc;
                }
    return y;
}

std::vector<double> linear_ref(const Host &x, const Host &w, const Host *bias) {
    const int64_t in = w.shape[1], out = w.shape[0], rows = x.numel() / in;
    std::vector<double> y(static_cast<size_t>(rows * out));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out; ++o) {
            double acc = bias ? bias->v[o] : 0.0;
            for (int64_t i = 0; i < in; ++i) acc += double(x.v[r * in + i]) * w.v[o * in + i];
            y[r * out + o] = acc;
        }
    return y;
}

std::vector<double> group_norm_ref(const Host &x, int groups, const Host &g, const Host &b, double eps,
                                   bool silu) {
    const int64_t n = x.shape[0], c = x.shape[1], s = x.numel() / (n * c), cg = c / groups;
    std::vector<double> y(x.v.size());
    for (int64_t bi = 0; bi < n; ++bi)
        for (int64_t gi = 0; gi < groups; ++gi) {
            const int64_t base = (bi * c + gi * cg) * s, cnt = cg * s;
            double mean = 0, var = 0;
            for (int64_t i = 0; i < cnt; ++i) mean += x.v[base + i];
            mean /= cnt;
            for (int64_t i = 0; i < cnt; ++i) var += (x.v[base + i] - mean) * (x.v[base + i] - mean);
            var /= cnt;
            for (int64_t i = 0; i < cnt; ++i) {
                const int64_t ch = gi * cg + i / s;
                double v = (x.v[base + i] - mean) / std::sqrt(var + eps) * g.v[ch] + b.v[ch];
                y[base + i] = silu ? silu_ref(v) : v;
            }
        }
    return y;
}

std::vector<double> layer_norm_ref(const Host &x, const Host &g, const Host &b, double eps) {
    const int64_t d = x.shape.back();
    std::vector<double> want(x.v.size());
    for (int64_t r = 0; r < x.numel() / d; ++r) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < d; ++i) mean += x.v[r * d + i];
        mean /= d;
        for (int64_t i = 0; i < d; ++i) var += std::pow(x.v[r * d + i] - mean, 2);
        var /= d;
        for (int64_t i = 0; i < d; ++i)
            want[r * d + i] = (x.v[r * d + i] - mean) / std::sqrt(var + eps) * g.v[i] + b.v[i];
    }
    return want;
}

std::vector<double> attention_ref(const Host &q, const Host &k, const Host &v, int heads, bool causal) {
    const int64_t n = q.shape[0], nq = q.shape[1], nk = k.shape[1], c = q.shape[2], d = c / heads;
    std::vector<double> out(q.v.size(), 0.0), p(static_cast<size_t>(nk));
    for (int64_t b = 0; b < n; ++b)
        for (int64_t h = 0; h < heads; ++h)
            for (int64_t i = 0; i < nq; ++i) {
                double mx = -INFINITY;
                for (int64_t j = 0; j < nk; ++j) {
                    double s = 0;
                    for (int64_t e = 0; e < d; ++e)
                        s += double(q.v[(b * nq + i) * c + h * d + e]) * k.v[(b * nk + j) * c + h * d + e];
                    p[j] = (causal && j > i) ? -INFINITY : s / std::sqrt(double(d));
                    mx = std::max(mx, p[j]);
                }
                double sum = 0;
                for (int64_t j = 0; j < nk; ++j) sum += (p[j] = std::exp(p[j] - mx));
                for (int64_t j = 0; j < nk; ++j)
                    for (int64_t e = 0; e < d; ++e)
                        out[(b * nq + i) * c + h * d + e] += p[j] / sum * v.v[(b * nk + j) * c + h * d + e];
            }
    return out;
}

std::vector<double> timestep_embedding_ref(const std::vector<float> &t, int dim, bool flip_sin_to_cos,
                                           float shift) {
    const int half = dim / 2;
    std::vector<double> out(t.size() * static_cast<size_t>(dim), 0.0);
    for (size_t b = 0; b < t.size(); ++b)
        for (int i = 0; i < half; ++i) {
            // torch: exp(-log(10000) * arange(half, float32) / (half - shift)), each step
            // rounded to float; the exponential correctly rounded.
            const float exponent = static_cast<float>(-std::log(10000.0)) * static_cast<float>(i) /
                                   (static_cast<float>(half) - shift);
            const float frequency = static_cast<float>(std::exp(static_cast<double>(exponent)));
            const float angle = t[b] * frequency;
            double *row = out.data() + b * static_cast<size_t>(dim);
            row[(flip_sin_to_cos ? half : 0) + i] = std::sin(static_cast<double>(angle));
            row[(flip_sin_to_cos ? 0 : half) + i] = std::cos(static_cast<double>(angle));
        }
    return out;
}

namespace {

// The nearest of the floats with `mantissa_bits` kept (and an exponent floor for
// half's subnormals), by comparing distances in double; ties to the even one.
float round_keeping(float v, int mantissa_bits, int min_exponent, double max_finite) {
    if (std::isnan(v) || std::isinf(v)) return v;
    if (v == 0.0f) return v;
    int exponent;
    std::frexp(static_cast<double>(v), &exponent);  // |v| in [2^(e-1), 2^e)
    const int step_exponent = std::max(exponent - 1, min_exponent) - mantissa_bits;
    const double step = std::ldexp(1.0, step_exponent);
    const double scaled = static_cast<double>(v) / step;
    double lower = std::floor(scaled);
    const double diff = scaled - lower;
    if (diff > 0.5 || (diff == 0.5 && std::fmod(lower, 2.0) != 0.0)) lower += 1.0;
    const double rounded = lower * step;
    if (std::abs(rounded) > max_finite) return std::copysign(INFINITY, v);
    return static_cast<float>(rounded);
}

}  // namespace

float round_to_f16(float v) { return round_keeping(v, 10, -14, 65504.0); }
float round_to_bf16(float v) {
    return round_keeping(v, 7, -126, static_cast<double>(std::numeric_limits<float>::max()));
}

}  // namespace sdw::conformance
