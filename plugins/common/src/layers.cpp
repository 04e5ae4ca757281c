#include "layers.h"

#include <sdw/nn/component.h>

namespace sdw::nn {

Linear Linear::load(const WeightStore &ws, const std::string &prefix, int64_t in, int64_t out,
                    bool has_bias) {
    Linear layer;
    layer.weight = ws.take(prefix + ".weight", {out, in});
    if (has_bias) layer.bias = ws.take(prefix + ".bias", {out});
    return layer;
}

Conv2d Conv2d::load(const WeightStore &ws, const std::string &prefix, int64_t in, int64_t out,
                    int kernel, int stride, int padding) {
    Conv2d layer;
    layer.weight = ws.take(prefix + ".weight", {out, in, kernel, kernel});
    layer.bias = ws.take(prefix + ".bias", {out});
    layer.stride = stride;
    layer.padding = padding;
    return layer;
}

GroupNorm GroupNorm::load(const WeightStore &ws, const std::string &prefix, int64_t channels,
                          int groups, float eps) {
    if (groups <= 0 || channels % groups != 0)
        throw Error(SDW_STATUS_INVALID_ARGUMENT,
                             ws.component() + ": " + prefix + " normalizes " +
                                 std::to_string(channels) + " channels in " +
                                 std::to_string(groups) + " groups, which does not divide");
    GroupNorm layer;
    layer.gamma = ws.take(prefix + ".weight", {channels});
    layer.beta = ws.take(prefix + ".bias", {channels});
    layer.groups = groups;
    layer.eps = eps;
    return layer;
}

LayerNorm LayerNorm::load(const WeightStore &ws, const std::string &prefix, int64_t dim,
                          float eps) {
    LayerNorm layer;
    layer.gamma = ws.take(prefix + ".weight", {dim});
    layer.beta = ws.take(prefix + ".bias", {dim});
    layer.eps = eps;
    return layer;
}

ResnetBlock2D ResnetBlock2D::load(const WeightStore &ws, const std::string &prefix, int64_t in,
                                  int64_t out, int64_t temb_channels, int groups, float eps,
                                  float output_scale_factor) {
    ResnetBlock2D block;
    block.norm1 = GroupNorm::load(ws, prefix + ".norm1", in, groups, eps);
    block.conv1 = Conv2d::load(ws, prefix + ".conv1", in, out, 3, 1, 1);
    if (temb_channels > 0)
        block.time_emb_proj = Linear::load(ws, prefix + ".time_emb_proj", temb_channels, out);
    block.norm2 = GroupNorm::load(ws, prefix + ".norm2", out, groups, eps);
    block.conv2 = Conv2d::load(ws, prefix + ".conv2", out, out, 3, 1, 1);
    if (in != out) block.conv_shortcut = Conv2d::load(ws, prefix + ".conv_shortcut", in, out, 1, 1, 0);
    block.output_scale_factor = output_scale_factor;
    return block;
}

Tensor ResnetBlock2D::operator()(Ops &ops, Tensor x, const Tensor &temb_silu) const {
    Tensor h = conv1(ops, norm1(ops, x, /*silu=*/true));
    if (time_emb_proj.weight.defined())
        h = ops.add_channel_bias(h, time_emb_proj(ops, temb_silu));
    h = conv2(ops, norm2(ops, h, /*silu=*/true));
    if (conv_shortcut.weight.defined()) x = conv_shortcut(ops, x);
    Tensor out = ops.add(x, h);
    if (output_scale_factor != 1.0f) out = ops.scale(out, 1.0f / output_scale_factor);
    return out;
}

Downsample2D Downsample2D::load(const WeightStore &ws, const std::string &prefix,
                                int64_t channels, int padding) {
    Downsample2D layer;
    layer.conv = Conv2d::load(ws, prefix + ".conv", channels, channels, 3, 2, padding);
    layer.pad_bottom_right = padding == 0;
    return layer;
}

Tensor Downsample2D::operator()(Ops &ops, Tensor x) const {
    if (pad_bottom_right) x = ops.pad2d(x, 0, 1, 0, 1);
    return conv(ops, x);
}

Upsample2D Upsample2D::load(const WeightStore &ws, const std::string &prefix, int64_t channels) {
    Upsample2D layer;
    layer.conv = Conv2d::load(ws, prefix + ".conv", channels, channels, 3, 1, 1);
    return layer;
}

Tensor Upsample2D::operator()(Ops &ops, Tensor x) const {
    return conv(ops, ops.upsample_nearest2x(x));
}

Tensor Upsample2D::operator()(Ops &ops, Tensor x, int64_t out_h, int64_t out_w) const {
    const int64_t h = x.dim(2), w = x.dim(3);
    if (out_h > 2 * h || out_h < 2 * h - 1 || out_w > 2 * w || out_w < 2 * w - 1)
        throw Error(SDW_STATUS_INTERNAL, "upsample from " + shape_str(x.shape) + " to " +
                                                      std::to_string(out_h) + "x" + std::to_string(out_w));
    // For an output of 2n - 1 from n, torch's nearest source index floor(i * n / (2n - 1))
    // equals floor(i / 2) for every i < 2n - 1: the 2x upsampling with its last row
    // (column) dropped.
    Tensor up = ops.upsample_nearest2x(x);
    x = Tensor{};
    if (out_h != 2 * h) up = ops.narrow(up, 2, 0, out_h);
    if (out_w != 2 * w) up = ops.narrow(up, 3, 0, out_w);
    return conv(ops, up);
}

}  // namespace sdw::nn
