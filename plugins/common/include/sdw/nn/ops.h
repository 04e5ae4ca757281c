// Ops v2: the tensor operations the networks of plugins/common are written against.
// Each in-tree plugin implements Ops for its device (cpu-blas with OpenBLAS; torch and
// vulkan next); the networks (CLIP text encoder, UNet2DConditionModel, AutoencoderKL)
// are written once on top of it, the pattern of ggml backends and ONNX Runtime
// execution providers.
//
// Graph purity. A network's forward (sdw/nn/network.h) is device work only: it reads
// fixed input tensors made by input(), calls the ops below and returns its outputs. It
// never uploads, downloads or branches on tensor values, so a backend can capture it
// once (a CUDA graph, a recorded command buffer) and replay it: that is what plan()
// returns. Uploads and downloads happen outside any forward, on input tensors and on
// the outputs a plan's run returns.
//
// Conventions: tensors are dense and row-major; images are NCHW, token sequences are
// [B, N, C]. Tensors are immutable values: every op returns a new tensor, so a backend
// may reuse or fuse storage behind the handle; only upload() writes into an existing
// tensor, and only into one made by input(). Element-wise ops return the dtype of
// their input; statistics (norms, softmax) accumulate in float32 whatever the dtype.
// A misuse (wrong rank, mismatched shapes) throws sdw::plugin::Error(INTERNAL): it is
// a bug in the network, not a bad request.
#pragma once

#include <sdw/plugin_api.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sdw::nn {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape &shape);
std::string shape_str(const Shape &shape);

// Element types of device tensors. Float data crosses the ABI as F32; F16 and BF16 are
// storage and compute types a backend may choose; I32 holds indices.
enum class DType : uint32_t { F32 = 0, F16 = 1, BF16 = 2, I32 = 3 };

const char *dtype_name(DType dtype);
size_t dtype_size(DType dtype);
bool is_float(DType dtype);

// Device storage, defined by each backend.
struct Storage {
    virtual ~Storage() = default;
};

struct Tensor {
    Shape shape;
    DType dtype = DType::F32;
    std::shared_ptr<Storage> storage;

    int64_t numel() const { return shape_numel(shape); }
    int64_t dim(int i) const { return shape.at(i < 0 ? shape.size() + i : i); }
    bool defined() const { return storage != nullptr; }
    uint64_t bytes() const { return static_cast<uint64_t>(numel()) * dtype_size(dtype); }
};

// What a forward calls between its segments (after a UNet block, a VAE level). A plan
// replays segment by segment and polls cancellation at each boundary, so a long
// component stays cancellable on every backend.
class SegmentBoundary {
public:
    virtual void end_segment() = 0;

protected:
    ~SegmentBoundary() = default;
};

// A network's forward bound to its fixed inputs: device ops only; returns the outputs.
using Forward = std::function<std::vector<Tensor>(SegmentBoundary &segments)>;

// A forward planned once for fixed inputs and replayed by run().
class Plan {
public:
    virtual ~Plan() = default;
    // Runs the forward once on the current contents of its inputs. `between_segments`
    // is called at every segment boundary and may throw (to cancel); the plan stays
    // usable after that. The outputs stay valid until the next run or destruction.
    virtual const std::vector<Tensor> &run(const std::function<void()> &between_segments) = 0;
    // Device bytes the plan holds beyond weights and inputs (captured graphs, pools).
    virtual uint64_t bytes() const { return 0; }
};

// The eager plan: calls the forward on every run. The default of Ops::plan, and what a
// backend without capture (cpu-blas) keeps.
class EagerPlan final : public Plan {
public:
    explicit EagerPlan(Forward forward) : forward_(std::move(forward)) {}
    const std::vector<Tensor> &run(const std::function<void()> &between_segments) override;

private:
    Forward forward_;
    std::vector<Tensor> outputs_;
};

// Bytes a backend holds for one context.
struct MemoryUse {
    uint64_t weights_bytes = 0;  // resident weights
    uint64_t plans_bytes = 0;    // what plans hold (graphs, their memory pools)
    uint64_t cache_bytes = 0;    // freed activations and scratch kept for reuse
};

class Ops {
public:
    virtual ~Ops() = default;

    // --- the backend ------------------------------------------------------------
    // The dtype activations are computed in; networks cast their F32 inputs to it (or
    // stay in F32 where diffusers upcasts) and their outputs back to F32.
    virtual DType compute_dtype() const = 0;
    virtual MemoryUse memory() const = 0;
    // Returns cached device memory (freed activations, scratch) to the system; weights
    // and live tensors stay. Never called during a run.
    virtual void trim() = 0;

    // --- data movement, outside any forward ----------------------------------------
    // A fixed device buffer that a forward reads and upload() fills.
    virtual Tensor input(const Shape &shape, DType dtype) = 0;
    // `bytes` must equal dst.bytes(); the data is in dst's dtype.
    virtual void upload(const Tensor &dst, const void *data, uint64_t bytes) = 0;
    virtual void download(const Tensor &src, void *data, uint64_t bytes) = 0;
    // A weight for ops that compute in `compute` (F32/F16/BF16 data converted). The
    // backend may keep it in another storage dtype (the tensor's dtype says which) as
    // long as the ops that take weights accept it.
    virtual Tensor weight(const sdw_tensor_view &view, DType compute) = 0;
    // Plans `forward`, whose inputs were made by input(). Default: EagerPlan.
    virtual std::unique_ptr<Plan> plan(Forward forward);

    // --- layout and type ---------------------------------------------------------
    // Same storage, new shape of equal element count.
    virtual Tensor reshape(const Tensor &x, const Shape &shape) = 0;
    // x converted to `dtype`; x itself when it already has that dtype.
    virtual Tensor cast(const Tensor &x, DType dtype) = 0;
    // Rows [start, start + count) of dimension `dim`.
    virtual Tensor narrow(const Tensor &x, int dim, int64_t start, int64_t count) = 0;
    // a and b joined along `dim`; all other dims equal.
    virtual Tensor concat(const Tensor &a, const Tensor &b, int dim) = 0;
    virtual Tensor nchw_to_nlc(const Tensor &x) = 0;  // [B, C, H, W] -> [B, H*W, C]
    virtual Tensor nlc_to_nchw(const Tensor &x, int64_t h, int64_t w) = 0;
    virtual Tensor upsample_nearest2x(const Tensor &x) = 0;  // NCHW
    // Zero padding of the two spatial dims of NCHW: [B, C, H, W] ->
    // [B, C, top + H + bottom, left + W + right] (the VAE encoder's (0, 1, 0, 1)).
    virtual Tensor pad2d(const Tensor &x, int top, int bottom, int left, int right) = 0;
    // table [V, C] at rows ids (I32 [n], each in [0, V)) -> [n, C]: token and position
    // embeddings, and CLIP's pooling at the EOS rows.
    virtual Tensor gather_rows(const Tensor &table, const Tensor &ids) = 0;

    // --- layers ----------------------------------------------------------------
    // x [B, Cin, H, W], w [Cout, Cin, k, k], bias [Cout] or undefined.
    virtual Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias, int stride,
                          int padding) = 0;
    // x [..., in], w [out, in] (torch Linear layout), bias [out] or undefined.
    virtual Tensor linear(const Tensor &x, const Tensor &w, const Tensor &bias) = 0;
    // x [B, C, ...]: normalize over groups of C/groups channels and all trailing dims;
    // then per-channel affine; then SiLU when `silu`.
    virtual Tensor group_norm(const Tensor &x, int groups, const Tensor &gamma,
                              const Tensor &beta, float eps, bool silu) = 0;
    // Normalize over the last dim, then affine.
    virtual Tensor layer_norm(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                              float eps) = 0;
    // Multi-head scaled dot-product attention: q [B, Nq, C], k and v [B, Nk, C], C split
    // into `heads` heads, scale 1/sqrt(C/heads); `causal` masks j > i.
    virtual Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v, int heads,
                             bool causal) = 0;
    // diffusers get_timestep_embedding (scale 1, max period 10000): t F32 [n] ->
    // F32 [n, dim], sin and cos of t * exp(-ln(10000) * i / (dim/2 - shift)), cos first
    // when flip_sin_to_cos. Always float32, evaluated step by step as torch does, since
    // sin(t * f) for t near 1000 magnifies any rounding difference.
    virtual Tensor timestep_embedding(const Tensor &t, int dim, bool flip_sin_to_cos,
                                      float downscale_freq_shift) = 0;

    // --- element-wise ----------------------------------------------------------
    virtual Tensor add(const Tensor &a, const Tensor &b) = 0;  // equal shapes
    virtual Tensor mul(const Tensor &a, const Tensor &b) = 0;  // equal shapes
    virtual Tensor scale(const Tensor &x, float s) = 0;
    // x [B, C, H, W] + bias [B, C] broadcast over H, W (time embedding into a resnet).
    virtual Tensor add_channel_bias(const Tensor &x, const Tensor &bias) = 0;
    virtual Tensor clamp(const Tensor &x, float lo, float hi) = 0;
    virtual Tensor silu(const Tensor &x) = 0;
    virtual Tensor gelu(const Tensor &x) = 0;        // exact (erf) GELU
    virtual Tensor quick_gelu(const Tensor &x) = 0;  // x * sigmoid(1.702 x)
    // x [..., 2F] -> a * gelu(g) with a = x[..., :F], g = x[..., F:] (diffusers GEGLU).
    virtual Tensor geglu(const Tensor &x) = 0;
};

}  // namespace sdw::nn
