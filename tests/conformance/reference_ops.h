// Naive double-precision references of the Ops v2 operations, written independently
// of every backend, for the conformance suite and the backend-specific op tests.
#pragma once

#include <sdw/nn/ops.h>

#include <cstdint>
#include <vector>

namespace sdw::conformance {

// A host tensor of floats.
struct Host {
    sdw::nn::Shape shape;
    std::vector<float> v;
    int64_t numel() const { return sdw::nn::shape_numel(shape); }
};

// Uniform in [lo, hi), reproducible from `seed`.
Host random_host(const sdw::nn::Shape &shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

double silu_ref(double v);
double gelu_ref(double v);

std::vector<double> conv2d_ref(const Host &x, const Host &w, const Host *bias, int stride, int pad);
std::vector<double> linear_ref(const Host &x, const Host &w, const Host *bias);
std::vector<double> group_norm_ref(const Host &x, int groups, const Host &g, const Host &b, double eps,
                                   bool silu);
std::vector<double> layer_norm_ref(const Host &x, const Host &g, const Host &b, double eps);
std::vector<double> attention_ref(const Host &q, const Host &k, const Host &v, int heads, bool causal);
// diffusers get_timestep_embedding in torch's float32 arithmetic up to the angle (each
// step of the frequencies and t * f rounded to float: at t near 1000 one ulp of a
// frequency moves sin by 1e-4), sin and cos in double.
std::vector<double> timestep_embedding_ref(const std::vector<float> &t, int dim, bool flip_sin_to_cos,
                                           float shift);

// The float nearest to v in half (IEEE binary16) and bfloat16, ties to even.
float round_to_f16(float v);
float round_to_bf16(float v);

}  // namespace sdw::conformance
