// The building blocks diffusers' UNet and VAE share (torch.nn layers, ResnetBlock2D,
// Downsample2D, Upsample2D), each loaded from its weight prefix with shape checks.
#pragma once

#include "weight_store.h"

#include <sdw/nn/ops.h>

#include <string>

namespace sdw::nn {

struct Linear {
    Tensor weight, bias;  // bias undefined when the layer has none

    static Linear load(const WeightStore &ws, const std::string &prefix, int64_t in, int64_t out,
                       bool has_bias = true);
    Tensor operator()(Ops &ops, const Tensor &x) const { return ops.linear(x, weight, bias); }
};

struct Conv2d {
    Tensor weight, bias;
    int stride = 1, padding = 0;

    static Conv2d load(const WeightStore &ws, const std::string &prefix, int64_t in, int64_t out,
                       int kernel, int stride, int padding);
    Tensor operator()(Ops &ops, const Tensor &x) const {
        return ops.conv2d(x, weight, bias, stride, padding);
    }
};

struct GroupNorm {
    Tensor gamma, beta;
    int groups = 32;
    float eps = 1e-5f;

    static GroupNorm load(const WeightStore &ws, const std::string &prefix, int64_t channels,
                          int groups, float eps);
    Tensor operator()(Ops &ops, const Tensor &x, bool silu) const {
        return ops.group_norm(x, groups, gamma, beta, eps, silu);
    }
};

struct LayerNorm {
    Tensor gamma, beta;
    float eps = 1e-5f;

    static LayerNorm load(const WeightStore &ws, const std::string &prefix, int64_t dim, float eps);
    Tensor operator()(Ops &ops, const Tensor &x) const {
        return ops.layer_norm(x, gamma, beta, eps);
    }
};

// diffusers ResnetBlock2D with resnet_time_scale_shift "default" and SiLU.
struct ResnetBlock2D {
    GroupNorm norm1, norm2;
    Conv2d conv1, conv2;
    Linear time_emb_proj;   // undefined weight when the block takes no time embedding
    Conv2d conv_shortcut;   // undefined weight when in == out channels
    float output_scale_factor = 1.0f;

    // temb_channels 0: no time embedding (the VAE's blocks).
    static ResnetBlock2D load(const WeightStore &ws, const std::string &prefix, int64_t in,
                              int64_t out, int64_t temb_channels, int groups, float eps,
                              float output_scale_factor);
    // `temb_silu` is silu(time embedding) [B, temb_channels], shared by all blocks.
    Tensor operator()(Ops &ops, Tensor x, const Tensor &temb_silu) const;
};

// diffusers Downsample2D with a convolution. padding 0 means torch's asymmetric
// (0, 1, 0, 1) zero pad followed by an unpadded stride-2 convolution (the VAE).
struct Downsample2D {
    Conv2d conv;
    bool pad_bottom_right = false;

    static Downsample2D load(const WeightStore &ws, const std::string &prefix, int64_t channels,
                             int padding);
    Tensor operator()(Ops &ops, Tensor x) const;
};

// diffusers Upsample2D with a convolution: nearest 2x, then a 3x3 convolution.
struct Upsample2D {
    Conv2d conv;

    static Upsample2D load(const WeightStore &ws, const std::string &prefix, int64_t channels);
    Tensor operator()(Ops &ops, Tensor x) const;
    // Nearest upsampling to out_h x out_w (each 2x or 2x - 1 of the input), as
    // F.interpolate(size=...) does when the UNet's sample is not a multiple of its
    // total downsampling factor; then the convolution.
    Tensor operator()(Ops &ops, Tensor x, int64_t out_h, int64_t out_w) const;
};

}  // namespace sdw::nn
