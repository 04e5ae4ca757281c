#include "transformer_2d.h"

#include <sdw/nn/component.h>

namespace sdw::nn {

Attention Attention::load(const WeightStore &ws, const std::string &prefix, int64_t query_dim,
                          int64_t context_dim, int heads, int64_t head_dim, bool qkv_bias) {
    Attention attn;
    const int64_t inner = heads * head_dim;
    attn.to_q = Linear::load(ws, prefix + ".to_q", query_dim, inner, qkv_bias);
    attn.to_k = Linear::load(ws, prefix + ".to_k", context_dim, inner, qkv_bias);
    attn.to_v = Linear::load(ws, prefix + ".to_v", context_dim, inner, qkv_bias);
    attn.to_out = Linear::load(ws, prefix + ".to_out.0", inner, query_dim);
    attn.heads = heads;
    return attn;
}

Tensor Attention::operator()(Ops &ops, const Tensor &x, const Tensor &context) const {
    const Tensor &source = context.defined() ? context : x;
    Tensor q = to_q(ops, x);
    Tensor k = to_k(ops, source);
    Tensor v = to_v(ops, source);
    const DType dtype = q.dtype;
    if (upcast) {
        q = ops.cast(q, DType::F32);
        k = ops.cast(k, DType::F32);
        v = ops.cast(v, DType::F32);
    }
    Tensor o = ops.cast(ops.attention(q, k, v, heads, /*causal=*/false), dtype);
    q = k = v = Tensor{};
    return to_out(ops, o);
}

BasicTransformerBlock BasicTransformerBlock::load(const WeightStore &ws, const std::string &prefix,
                                                  int64_t dim, int heads, int64_t context_dim,
                                                  bool upcast_attention) {
    BasicTransformerBlock block;
    const int64_t head_dim = dim / heads;
    const int64_t inner = dim * 4;
    block.norm1 = LayerNorm::load(ws, prefix + ".norm1", dim, 1e-5f);
    block.attn1 = Attention::load(ws, prefix + ".attn1", dim, dim, heads, head_dim, false);
    block.norm2 = LayerNorm::load(ws, prefix + ".norm2", dim, 1e-5f);
    block.attn2 = Attention::load(ws, prefix + ".attn2", dim, context_dim, heads, head_dim, false);
    block.attn1.upcast = block.attn2.upcast = upcast_attention;
    block.norm3 = LayerNorm::load(ws, prefix + ".norm3", dim, 1e-5f);
    block.ff_in = Linear::load(ws, prefix + ".ff.net.0.proj", dim, inner * 2);
    block.ff_out = Linear::load(ws, prefix + ".ff.net.2", inner, dim);
    return block;
}

Tensor BasicTransformerBlock::operator()(Ops &ops, Tensor x, const Tensor &context) const {
    x = ops.add(attn1(ops, norm1(ops, x), Tensor{}), x);
    x = ops.add(attn2(ops, norm2(ops, x), context), x);
    Tensor ff = ff_out(ops, ops.geglu(ff_in(ops, norm3(ops, x))));
    return ops.add(ff, x);
}

Transformer2D Transformer2D::load(const WeightStore &ws, const std::string &prefix,
                                  int64_t channels, int heads, int layers, int64_t context_dim,
                                  int groups, bool linear_projection, bool upcast_attention) {
    if (heads <= 0 || channels % heads != 0)
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                             ws.component() + ": " + prefix + " has " + std::to_string(channels) +
                                 " channels, not divisible into " + std::to_string(heads) +
                                 " attention heads");
    Transformer2D t;
    // diffusers fixes this GroupNorm's epsilon at 1e-6 whatever the UNet's norm_eps.
    t.norm = GroupNorm::load(ws, prefix + ".norm", channels, groups, 1e-6f);
    t.linear_projection = linear_projection;
    if (linear_projection) {
        t.proj_in_linear = Linear::load(ws, prefix + ".proj_in", channels, channels);
        t.proj_out_linear = Linear::load(ws, prefix + ".proj_out", channels, channels);
    } else {
        t.proj_in_conv = Conv2d::load(ws, prefix + ".proj_in", channels, channels, 1, 1, 0);
        t.proj_out_conv = Conv2d::load(ws, prefix + ".proj_out", channels, channels, 1, 1, 0);
    }
    for (int i = 0; i < layers; ++i)
        t.blocks.push_back(BasicTransformerBlock::load(
            ws, prefix + ".transformer_blocks." + std::to_string(i), channels, heads, context_dim,
            upcast_attention));
    return t;
}

Tensor Transformer2D::operator()(Ops &ops, const Tensor &x, const Tensor &context) const {
    const int64_t h = x.dim(2), w = x.dim(3);
    Tensor tokens;
    if (linear_projection) {
        tokens = proj_in_linear(ops, ops.nchw_to_nlc(norm(ops, x, false)));
    } else {
        tokens = ops.nchw_to_nlc(proj_in_conv(ops, norm(ops, x, false)));
    }
    for (const BasicTransformerBlock &block : blocks) tokens = block(ops, std::move(tokens), context);
    Tensor out;
    if (linear_projection) {
        out = ops.nlc_to_nchw(proj_out_linear(ops, tokens), h, w);
    } else {
        out = proj_out_conv(ops, ops.nlc_to_nchw(tokens, h, w));
    }
    return ops.add(out, x);
}

}  // namespace sdw::nn
