// diffusers Attention (the default processor), BasicTransformerBlock with GEGLU
// feed-forward, and Transformer2DModel on continuous (image) inputs, as the
// cross-attention blocks of UNet2DConditionModel use them.
#pragma once

#include "layers.h"

namespace sdw::nn {

struct Attention {
    Linear to_q, to_k, to_v, to_out;
    int heads = 1;
    bool upcast = false;  // diffusers upcast_attention: the product in float32

    // query_dim -> heads * head_dim; keys and values come from context_dim features.
    static Attention load(const WeightStore &ws, const std::string &prefix, int64_t query_dim,
                          int64_t context_dim, int heads, int64_t head_dim, bool qkv_bias);
    // x [B, N, query_dim]; context [B, M, context_dim], or undefined for self-attention.
    Tensor operator()(Ops &ops, const Tensor &x, const Tensor &context) const;
};

struct BasicTransformerBlock {
    LayerNorm norm1, norm2, norm3;
    Attention attn1, attn2;
    Linear ff_in, ff_out;  // ff.net.0.proj (to 2 * inner, GEGLU) and ff.net.2

    static BasicTransformerBlock load(const WeightStore &ws, const std::string &prefix,
                                      int64_t dim, int heads, int64_t context_dim, bool upcast_attention);
    Tensor operator()(Ops &ops, Tensor x, const Tensor &context) const;
};

struct Transformer2D {
    GroupNorm norm;
    bool linear_projection = false;
    Conv2d proj_in_conv, proj_out_conv;
    Linear proj_in_linear, proj_out_linear;
    std::vector<BasicTransformerBlock> blocks;

    static Transformer2D load(const WeightStore &ws, const std::string &prefix, int64_t channels,
                              int heads, int layers, int64_t context_dim, int groups,
                              bool linear_projection, bool upcast_attention);
    // x [B, C, H, W], context [B, L, context_dim].
    Tensor operator()(Ops &ops, const Tensor &x, const Tensor &context) const;
};

}  // namespace sdw::nn
