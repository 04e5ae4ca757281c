// sdw::nn::Ops on ATen: each op one or a few ATen calls on tensors resident on the
// context's device, in its compute dtype. The one libtorch-heavy file of the plugin,
// with torch_plan.cpp.
#include "torch_ops_impl.h"

#include <sdw/nn/component.h>

#include <ATen/ATen.h>
#include <torch/version.h>

#if __has_include(<ATen/ops/scaled_dot_product_attention.h>)
#include <ATen/ops/scaled_dot_product_attention.h>
#define SDW_TORCH_HAS_SDPA 1
#else
#define SDW_TORCH_HAS_SDPA 0
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <cstring>
#include <string>
#include <thread>

namespace sdw::libtorch {

using sdw::nn::DType;
using sdw::nn::Shape;
using sdw::nn::shape_str;
using sdw::nn::Tensor;

namespace {

at::ScalarType scalar_type(DType dtype) {
    switch (dtype) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::I32: return at::kInt;
    }
    return at::kFloat;
}

DType dtype_of(const at::Tensor &t) {
    switch (t.scalar_type()) {
    case at::kFloat: return DType::F32;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kInt: return DType::I32;
    default: break;
    }
    throw sdw::nn::Error(SDW_STATUS_INTERNAL, std::string("torch: tensor of unexpected dtype ") +
                                                 c10::toString(t.scalar_type()));
}

[[noreturn]] void op_error(const std::string &message) {
    throw sdw::nn::Error(SDW_STATUS_INTERNAL, "torch: " + message);
}

std::vector<int64_t> sizes(const Shape &shape) { return std::vector<int64_t>(shape.begin(), shape.end()); }

void expect_rank(const char *op, const Tensor &t, size_t rank) {
    if (t.shape.size() != rank)
        op_error(std::string(op) + ": expected a rank-" + std::to_string(rank) + " tensor, got " + shape_str(t.shape));
}

void expect_same(const char *op, const Tensor &a, const Tensor &b) {
    if (a.shape != b.shape || a.dtype != b.dtype)
        op_error(std::string(op) + ": " + dtype_name(a.dtype) + shape_str(a.shape) + " vs " + dtype_name(b.dtype) +
                 shape_str(b.shape));
}

class TorchOps final : public sdw::nn::Ops {
public:
    explicit TorchOps(const TorchOptions &options) : device_(make_device(options)), options_(options) {
        // libtorch's pool is process-wide; left alone it may use one thread (Debian's
        // build does), so a context sets it: its threads option, or every core.
        if (!options.cuda)
            at::set_num_threads(options.threads > 0 ? options.threads
                                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    }

    // --- the backend ------------------------------------------------------------
    DType compute_dtype() const override { return options_.dtype; }
    const TorchOptions &options() const { return options_; }

    sdw::nn::MemoryUse memory() const override {
        sdw::nn::MemoryUse use;
        use.weights_bytes = *weight_bytes_;
        const DeviceMemory device = device_memory(device_);
        // Plans hold their inputs and, on CUDA, what a captured graph keeps in its pool
        // (everything allocated beyond the weights); what the allocator reserves beyond
        // that is cache.
        const uint64_t beyond_weights = device.allocated > use.weights_bytes ? device.allocated - use.weights_bytes : 0;
        use.plans_bytes = std::max<uint64_t>(*input_bytes_, beyond_weights);
        use.cache_bytes = device.reserved > device.allocated ? device.reserved - device.allocated : 0;
        return use;
    }

    void trim() override { release_cached_device_memory(device_); }

    // --- data movement -----------------------------------------------------------
    Tensor input(const Shape &shape, DType dtype) override {
        return guarded("input", [&] {
            charge(static_cast<uint64_t>(sdw::nn::shape_numel(shape)) * sdw::nn::dtype_size(dtype), "an input");
            return wrap(at::empty(sizes(shape), at::TensorOptions().dtype(scalar_type(dtype)).device(device_)),
                        input_bytes_);
        });
    }

    void upload(const Tensor &dst, const void *data, uint64_t bytes) override {
        if (bytes != dst.bytes()) op_error("upload: " + std::to_string(bytes) + " bytes for " + shape_str(dst.shape));
        guarded("upload", [&] {
            const StreamScope scope(device_);
            at::Tensor host = at::from_blob(const_cast<void *>(data), sizes(dst.shape),
                                            at::TensorOptions().dtype(scalar_type(dst.dtype)));
            tensor(dst).copy_(host);
            return 0;
        });
    }

    void download(const Tensor &src, void *data, uint64_t bytes) override {
        if (bytes != src.bytes()) op_error("download: " + std::to_string(bytes) + " bytes for " + shape_str(src.shape));
        guarded("download", [&] {
            const StreamScope scope(device_);
            at::Tensor host = tensor(src).to(at::kCPU).contiguous();
            if (bytes) std::memcpy(data, host.data_ptr(), bytes);
            return 0;
        });
    }

    Tensor weight(const sdw_tensor_view &view, DType compute) override {
        const Shape shape(view.shape, view.shape + std::min<uint32_t>(view.ndim, SDW_MAX_DIMS));
        at::ScalarType stored;
        switch (view.dtype) {
        case SDW_DTYPE_F32: stored = at::kFloat; break;
        case SDW_DTYPE_F16: stored = at::kHalf; break;
        case SDW_DTYPE_BF16: stored = at::kBFloat16; break;
        default:
            throw sdw::nn::Error(SDW_STATUS_INVALID_ARGUMENT, std::string("weight ") + (view.name ? view.name : "?") +
                                                                  ": expected F32, F16 or BF16 data");
        }
        const uint64_t bytes = static_cast<uint64_t>(sdw::nn::shape_numel(shape)) * sdw_dtype_size(view.dtype);
        if (view.ndim > SDW_MAX_DIMS || view.byte_size != bytes || (!view.data && bytes))
            throw sdw::nn::Error(SDW_STATUS_INVALID_ARGUMENT, std::string("weight ") + (view.name ? view.name : "?") +
                                                                  ": " + std::to_string(view.byte_size) +
                                                                  " bytes for shape " + shape_str(shape));
        return guarded("loading a weight", [&] {
            charge(static_cast<uint64_t>(sdw::nn::shape_numel(shape)) * sdw::nn::dtype_size(compute),
                   std::string("weight ") + (view.name ? view.name : "?"));
            const StreamScope scope(device_);
            at::Tensor host = at::from_blob(view.data, sizes(shape), at::TensorOptions().dtype(stored));
            // One conversion at load: the device copy in the compute dtype, never aliasing
            // the host's mapped file.
            at::Tensor t = host.to(at::TensorOptions().device(device_).dtype(scalar_type(compute)), false, true);
            if (options_.channels_last && t.dim() == 4) t = t.contiguous(at::MemoryFormat::ChannelsLast);
            return wrap(std::move(t), weight_bytes_);
        });
    }

    std::unique_ptr<sdw::nn::Plan> plan(sdw::nn::Forward forward) override {
        return make_plan(std::move(forward), device_, options_.cuda_graphs,
                         [](const char *what, const std::function<void()> &body) {
                             guarded(what, [&] {
                                 body();
                                 return 0;
                             });
                         });
    }

    // --- layout and type ---------------------------------------------------------
    Tensor reshape(const Tensor &x, const Shape &shape) override {
        if (sdw::nn::shape_numel(shape) != x.numel()) op_error("reshape: " + shape_str(x.shape) + " to " + shape_str(shape));
        return wrap(tensor(x).reshape(sizes(shape)));
    }

    Tensor cast(const Tensor &x, DType dtype) override {
        if (x.dtype == dtype) return x;
        return wrap(tensor(x).to(scalar_type(dtype)));
    }

    Tensor narrow(const Tensor &x, int dim, int64_t start, int64_t count) override {
        if (dim < 0 || dim >= static_cast<int>(x.shape.size()) || start < 0 || count < 0 || start + count > x.dim(dim))
            op_error("narrow: [" + std::to_string(start) + ", " + std::to_string(start + count) + ") of dim " +
                     std::to_string(dim) + " of " + shape_str(x.shape));
        return wrap(tensor(x).narrow(dim, start, count));
    }

    Tensor concat(const Tensor &a, const Tensor &b, int dim) override {
        bool ok = a.dtype == b.dtype && a.shape.size() == b.shape.size() && dim >= 0 &&
                  dim < static_cast<int>(a.shape.size());
        for (int i = 0; ok && i < static_cast<int>(a.shape.size()); ++i) ok = i == dim || a.dim(i) == b.dim(i);
        if (!ok) op_error("concat: " + shape_str(a.shape) + " and " + shape_str(b.shape) + " along dim " + std::to_string(dim));
        return wrap(at::cat({tensor(a), tensor(b)}, dim));
    }

    Tensor nchw_to_nlc(const Tensor &x) override {
        expect_rank("nchw_to_nlc", x, 4);
        // A view for channels-last memory; one transposing copy otherwise.
        return wrap(tensor(x).permute({0, 2, 3, 1}).reshape({x.dim(0), x.dim(2) * x.dim(3), x.dim(1)}));
    }

    Tensor nlc_to_nchw(const Tensor &x, int64_t h, int64_t w) override {
        expect_rank("nlc_to_nchw", x, 3);
        if (x.dim(1) != h * w) op_error("nlc_to_nchw: " + shape_str(x.shape) + " is not " + std::to_string(h) + "x" + std::to_string(w));
        at::Tensor t = tensor(x).reshape({x.dim(0), h, w, x.dim(2)}).permute({0, 3, 1, 2});
        return wrap(options_.channels_last ? t : t.contiguous());
    }

    Tensor upsample_nearest2x(const Tensor &x) override {
        expect_rank("upsample_nearest2x", x, 4);
        return wrap(at::upsample_nearest2d(tensor(x), {2 * x.dim(2), 2 * x.dim(3)}));
    }

    Tensor pad2d(const Tensor &x, int top, int bottom, int left, int right) override {
        expect_rank("pad2d", x, 4);
        if (top < 0 || bottom < 0 || left < 0 || right < 0) op_error("pad2d: negative padding");
        return wrap(at::constant_pad_nd(tensor(x), {left, right, top, bottom}, 0));
    }

    Tensor gather_rows(const Tensor &table, const Tensor &ids) override {
        expect_rank("gather_rows table", table, 2);
        expect_rank("gather_rows ids", ids, 1);
        if (ids.dtype != DType::I32) op_error("gather_rows: ids must be I32");
        // The networks check ids on the host before the upload (Network::stage). On the
        // CPU index_select checks them again; on CUDA a check would need a read-back.
        try {
            return wrap(at::index_select(tensor(table), 0, tensor(ids).to(at::kLong)));
        } catch (const c10::IndexError &e) {
            op_error(std::string("gather_rows: ") + e.what_without_backtrace());
        }
    }

    // --- layers ----------------------------------------------------------------
    Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias, int stride, int padding) override {
        expect_rank("conv2d", x, 4);
        expect_rank("conv2d weight", w, 4);
        if (w.dim(1) != x.dim(1) || stride < 1 || padding < 0)
            op_error("conv2d: input " + shape_str(x.shape) + " weight " + shape_str(w.shape));
        at::Tensor input = tensor(x);
        if (options_.channels_last) input = input.contiguous(at::MemoryFormat::ChannelsLast);
        return wrap(at::conv2d(input, tensor(w), optional(bias), {stride, stride}, {padding, padding}));
    }

    Tensor linear(const Tensor &x, const Tensor &w, const Tensor &bias) override {
        expect_rank("linear weight", w, 2);
        if (x.shape.empty() || x.dim(-1) != w.dim(1))
            op_error("linear: input " + shape_str(x.shape) + " weight " + shape_str(w.shape));
        return wrap(at::linear(tensor(x), tensor(w), optional(bias)));
    }

    Tensor group_norm(const Tensor &x, int groups, const Tensor &gamma, const Tensor &beta, float eps,
                      bool silu) override {
        if (x.shape.size() < 2 || groups < 1 || x.dim(1) % groups != 0)
            op_error("group_norm: input " + shape_str(x.shape) + " in " + std::to_string(groups) + " groups");
        at::Tensor y = at::group_norm(tensor(x), groups, optional(gamma), optional(beta), eps);
        return wrap(silu ? at::silu(y) : y);
    }

    Tensor layer_norm(const Tensor &x, const Tensor &gamma, const Tensor &beta, float eps) override {
        if (x.shape.empty()) op_error("layer_norm: a scalar");
        return wrap(at::layer_norm(tensor(x), {x.dim(-1)}, optional(gamma), optional(beta), eps));
    }

    Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v, int heads, bool causal) override {
        expect_rank("attention q", q, 3);
        expect_rank("attention k", k, 3);
        expect_same("attention k/v", k, v);
        const int64_t batch = q.dim(0), c = q.dim(2);
        if (k.dim(0) != batch || k.dim(2) != c || heads < 1 || c % heads != 0)
            op_error("attention: q " + shape_str(q.shape) + " k " + shape_str(k.shape) + " heads " + std::to_string(heads));
        const int64_t d = c / heads;
        auto split = [&](const Tensor &t) { return tensor(t).reshape({batch, t.dim(1), heads, d}).transpose(1, 2); };
        const at::Tensor qh = split(q), kh = split(k), vh = split(v);
        at::Tensor out;
#if SDW_TORCH_HAS_SDPA
        // Flash / memory-efficient kernels where the device has them; torch's causal mask
        // is aligned top-left (j > i masked), as the Ops contract says.
        out = at::scaled_dot_product_attention(qh, kh, vh, {}, 0.0, causal);
#else
        at::Tensor scores = at::matmul(qh, kh.transpose(-2, -1)).mul_(1.0 / std::sqrt(static_cast<double>(d)));
        if (causal) {
            const at::Tensor mask = at::ones({q.dim(1), k.dim(1)}, scores.options().dtype(at::kBool)).triu_(1);
            scores.masked_fill_(mask, -std::numeric_limits<double>::infinity());
        }
        // The softmax accumulates in float32 whatever the dtype.
        at::Tensor probabilities = at::softmax(scores, -1, at::kFloat).to(scores.scalar_type());
        out = at::matmul(probabilities, vh);
#endif
        return wrap(out.transpose(1, 2).reshape({batch, q.dim(1), c}));
    }

    Tensor timestep_embedding(const Tensor &t, int dim, bool flip_sin_to_cos, float downscale_freq_shift) override {
        expect_rank("timestep_embedding", t, 1);
        if (t.dtype != DType::F32 || dim < 1) op_error("timestep_embedding: F32 [n] and dim >= 1");
        // diffusers get_timestep_embedding, op for op.
        const int64_t half = dim / 2;
        const at::TensorOptions f32 = at::TensorOptions().dtype(at::kFloat).device(device_);
        at::Tensor exponent = at::arange(0, half, f32).mul_(-std::log(10000.0)).div_(half - downscale_freq_shift);
        at::Tensor angles = tensor(t).unsqueeze(1) * at::exp(exponent).unsqueeze(0);
        at::Tensor emb = flip_sin_to_cos ? at::cat({at::cos(angles), at::sin(angles)}, -1)
                                         : at::cat({at::sin(angles), at::cos(angles)}, -1);
        if (dim % 2 == 1) emb = at::constant_pad_nd(emb, {0, 1}, 0);
        return wrap(emb);
    }

    // --- element-wise ----------------------------------------------------------
    Tensor add(const Tensor &a, const Tensor &b) override {
        expect_same("add", a, b);
        return wrap(tensor(a) + tensor(b));
    }
    Tensor mul(const Tensor &a, const Tensor &b) override {
        expect_same("mul", a, b);
        return wrap(tensor(a) * tensor(b));
    }
    Tensor scale(const Tensor &x, float s) override { return wrap(tensor(x) * static_cast<double>(s)); }
    Tensor add_channel_bias(const Tensor &x, const Tensor &bias) override {
        expect_rank("add_channel_bias", x, 4);
        if (bias.numel() != x.dim(0) * x.dim(1)) op_error("add_channel_bias: " + shape_str(x.shape) + " + " + shape_str(bias.shape));
        return wrap(tensor(x) + tensor(bias).reshape({x.dim(0), x.dim(1), 1, 1}));
    }
    Tensor clamp(const Tensor &x, float lo, float hi) override {
        if (!(lo <= hi)) op_error("clamp: empty range");
        return wrap(at::clamp(tensor(x), lo, hi));
    }
    Tensor silu(const Tensor &x) override { return wrap(at::silu(tensor(x))); }
    Tensor gelu(const Tensor &x) override { return wrap(at::gelu(tensor(x))); }
    Tensor quick_gelu(const Tensor &x) override {
        const at::Tensor &t = tensor(x);
        return wrap(t * at::sigmoid(t * 1.702));
    }
    Tensor geglu(const Tensor &x) override {
        if (x.shape.empty() || x.dim(-1) % 2 != 0) op_error("geglu: input " + shape_str(x.shape));
        const std::vector<at::Tensor> halves = tensor(x).chunk(2, -1);
        return wrap(halves[0] * at::gelu(halves[1]));
    }

private:
    struct TorchStorage final : sdw::nn::Storage {
        TorchStorage(at::Tensor t, std::shared_ptr<std::atomic<uint64_t>> tally)
            : tensor(std::move(t)), counted(std::move(tally)), bytes(counted ? tensor.nbytes() : 0) {
            if (counted) *counted += bytes;
        }
        ~TorchStorage() override {
            if (counted) *counted -= bytes;
        }
        at::Tensor tensor;
        std::shared_ptr<std::atomic<uint64_t>> counted;
        uint64_t bytes;
    };

    // `tally` counts the tensor's bytes while it lives (weights, plan inputs).
    static Tensor wrap(at::Tensor t, const std::shared_ptr<std::atomic<uint64_t>> &tally = nullptr) {
        Tensor out;
        out.shape = Shape(t.sizes().begin(), t.sizes().end());
        out.dtype = dtype_of(t);
        out.storage = std::make_shared<TorchStorage>(std::move(t), tally);
        return out;
    }

    static const at::Tensor &tensor(const Tensor &t) {
        auto *s = dynamic_cast<TorchStorage *>(t.storage.get());
        if (!s) op_error("tensor is undefined or not a torch tensor");
        return s->tensor;
    }

    static at::Tensor optional(const Tensor &t) { return t.defined() ? tensor(t) : at::Tensor(); }

    // The memory cap of the options, checked before resident allocations.
    void charge(uint64_t bytes, const std::string &what) const {
        if (options_.max_memory_bytes == 0) return;
        const uint64_t held = *weight_bytes_ + *input_bytes_;
        if (held + bytes > options_.max_memory_bytes)
            throw sdw::nn::Error(SDW_STATUS_OUT_OF_MEMORY,
                                 "torch: " + what + " needs " + mib(bytes) + " with " + mib(held) +
                                     " already resident, over the plugin's max_memory_mb of " +
                                     mib(options_.max_memory_bytes));
    }

    at::Device device_;
    TorchOptions options_;
    std::shared_ptr<std::atomic<uint64_t>> weight_bytes_ = std::make_shared<std::atomic<uint64_t>>(0);
    std::shared_ptr<std::atomic<uint64_t>> input_bytes_ = std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace

std::unique_ptr<sdw::nn::Ops> make_torch_ops(const TorchOptions &options) {
    if (options.dtype == DType::I32) throw sdw::nn::Error(SDW_STATUS_INVALID_ARGUMENT, "torch: I32 is no compute dtype");
    return guarded("creating the context", [&] { return std::unique_ptr<sdw::nn::Ops>(new TorchOps(options)); });
}

std::string device_description(const sdw::nn::Ops &ops) {
    const auto *torch_ops = dynamic_cast<const TorchOps *>(&ops);
    return torch_ops ? describe_device(torch_ops->options()) : std::string();
}

std::string torch_version() {
    return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
           std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace sdw::libtorch
