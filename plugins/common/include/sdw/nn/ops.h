// The small set of tensor operations the network definitions in plugins/common are
// written against. Each in-tree plugin implements Ops for its device (cpu-blas with
// OpenBLAS, later Vulkan and libtorch); the networks (CLIP text encoder,
// UNet2DConditionModel, AutoencoderKL) are written once on top of it, the pattern of
// ggml backends and ONNX Runtime execution providers.
//
// Conventions: float32 compute; images are NCHW, token sequences are [B, N, C];
// every tensor is dense and row-major. Tensors are immutable values: every op
// returns a new tensor, so a backend may reuse or fuse storage behind the handle.
#pragma once

#include <sdw/plugin_api.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sdw::nn {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape &shape);
std::string shape_str(const Shape &shape);

// Device storage, defined by each backend.
struct Storage {
    virtual ~Storage() = default;
};

struct Tensor {
    Shape shape;
    std::shared_ptr<Storage> storage;

    int64_t numel() const { return shape_numel(shape); }
    int64_t dim(int i) const { return shape.at(i < 0 ? shape.size() + i : i); }
    bool defined() const { return storage != nullptr; }
};

class Ops {
public:
    virtual ~Ops() = default;

    // --- data movement -------------------------------------------------------
    virtual Tensor from_host(const float *data, const Shape &shape) = 0;
    virtual void to_host(const Tensor &x, float *out) = 0;
    // A weight as the backend keeps it (F32/F16/BF16 converted to the compute type).
    virtual Tensor weight(const sdw_tensor_view &view) = 0;
    // Same storage, new shape of equal element count.
    virtual Tensor reshape(const Tensor &x, const Shape &shape) = 0;

    // --- layers ----------------------------------------------------------------
    // x [B, Cin, H, W], w [Cout, Cin, k, k], bias [Cout] or undefined.
    virtual Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias, int stride,
                          int padding) = 0;
    // x [..., in], w [out, in] (torch Linear layout), bias [out] or undefined.
    virtual Tensor linear(const Tensor &x, const Tensor &w, const Tensor &bias) = 0;
    // x [B, C, ...]: normalize over groups of C/groups channels and all trailing
    // dims; then per-channel affine; then SiLU when `silu`.
    virtual Tensor group_norm(const Tensor &x, int groups, const Tensor &gamma,
                              const Tensor &beta, float eps, bool silu) = 0;
    // Normalize over the last dim, then affine.
    virtual Tensor layer_norm(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                              float eps) = 0;
    // Multi-head scaled dot-product attention: q [B, Nq, C], k and v [B, Nk, C],
    // C split into `heads` heads, scale 1/sqrt(C/heads); `causal` masks j > i.
    virtual Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v, int heads,
                             bool causal) = 0;
    // Row lookup: table [V, C] gathered at ids (host int32, n of them) -> [n, C].
    virtual Tensor embedding(const std::vector<int32_t> &ids, const Tensor &table) = 0;

    // --- element-wise ----------------------------------------------------------
    virtual Tensor add(const Tensor &a, const Tensor &b) = 0;       // equal shapes
    virtual Tensor mul(const Tensor &a, const Tensor &b) = 0;       // equal shapes
    virtual Tensor scale(const Tensor &x, float s) = 0;
    // x [B, C, H, W] + bias [B, C] broadcast over H, W (time embedding into a resnet).
    virtual Tensor add_channel_bias(const Tensor &x, const Tensor &bias) = 0;
    virtual Tensor silu(const Tensor &x) = 0;
    virtual Tensor gelu(const Tensor &x) = 0;        // exact (erf) GELU
    virtual Tensor quick_gelu(const Tensor &x) = 0;  // x * sigmoid(1.702 x)
    // x [..., 2F] -> a * gelu(g) with a = x[..., :F], g = x[..., F:] (diffusers GEGLU).
    virtual Tensor geglu(const Tensor &x) = 0;

    // --- layout ----------------------------------------------------------------
    virtual Tensor upsample_nearest2x(const Tensor &x) = 0;             // NCHW
    virtual Tensor concat_channels(const Tensor &a, const Tensor &b) = 0;  // NCHW, dim 1
    virtual Tensor nchw_to_nlc(const Tensor &x) = 0;   // [B, C, H, W] -> [B, H*W, C]
    virtual Tensor nlc_to_nchw(const Tensor &x, int64_t h, int64_t w) = 0;
    // Rows [start, start+count) of dim 1 of [B, N, C] -> [B, count, C].
    virtual Tensor slice_rows(const Tensor &x, int64_t start, int64_t count) = 0;

    // --- appended (the networks need them; each has a default so that a backend
    // written before the append keeps compiling) ---------------------------------
    // Zero padding of the two spatial dims of NCHW: [B, C, H, W] ->
    // [B, C, top + H + bottom, left + W + right]. The VAE encoder's Downsample2D pads
    // (0, 1, 0, 1) before a stride-2 convolution, which no symmetric conv padding
    // reproduces. The default round-trips through host memory (it runs three times
    // per image encode); a backend may override it.
    virtual Tensor pad2d(const Tensor &x, int top, int bottom, int left, int right);
};

}  // namespace sdw::nn
