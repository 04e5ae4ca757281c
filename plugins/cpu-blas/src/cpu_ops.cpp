// sdw::nn::Ops on the CPU: shape checks and the light element-wise and layout ops
// here; convolution, attention and normalization in their own files.
#include <sdw/cpu/cpu_ops.h>
#include <sdw/nn/half_convert.h>

#include "cpu_tensor.h"
#include "kernels.h"

#include "blas.h"
#include "gemm.h"
#include "vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

namespace sdw::cpu {

using sdw::nn::bf16_to_float;
using sdw::nn::f16_to_float;
using sdw::nn::float_to_bf16;
using sdw::nn::float_to_f16;
namespace {

using sdw::nn::Shape;
using sdw::nn::shape_str;
using sdw::nn::Tensor;

// Element-wise loops are split into chunks of at least this many floats.
constexpr int64_t kGrain = 16384;
// F16 weights of at least this many elements are kept in half precision.
constexpr int64_t kHalfMinimum = 65536;

void expect_rank(const char *op, const Tensor &t, size_t rank) {
    if (t.shape.size() != rank)
        op_error(std::string(op) + ": expected a rank-" + std::to_string(rank) + " tensor, got " +
                 shape_str(t.shape));
}

void expect_same(const char *op, const Tensor &a, const Tensor &b) {
    if (a.shape != b.shape)
        op_error(std::string(op) + ": shapes differ: " + shape_str(a.shape) + " vs " +
                 shape_str(b.shape));
}

// An optional per-channel vector ([n], or undefined) as a pointer or null.
const float *optional_vector(const char *op, const Tensor &t, int64_t n) {
    if (!t.defined()) return nullptr;
    if (t.numel() != n)
        op_error(std::string(op) + ": expected " + std::to_string(n) + " values, got " +
                 shape_str(t.shape));
    return cdata(t);
}

class CpuOps final : public sdw::nn::Ops {
public:
    // OpenBLAS runs single-threaded; the products are split over pool_ (gemm.h).
    explicit CpuOps(int threads) : pool_(threads), threads_(threads) { blas().set_num_threads(1); }

    int threads() const { return threads_; }

    // --- the backend ---------------------------------------------------------------
    DType compute_dtype() const override { return DType::F32; }

    sdw::nn::MemoryUse memory() const override {
        sdw::nn::MemoryUse use;
        use.weights_bytes = *weight_bytes_;
        use.cache_bytes = buffers_->cached_bytes() + scratch_.capacity_bytes() + weight_scratch_.capacity_bytes();
        return use;
    }

    void trim() override {
        buffers_->trim();
        scratch_.release();
        weight_scratch_.release();
    }

    // --- data movement ---------------------------------------------------------------
    Tensor input(const Shape &shape, DType dtype) override { return new_tensor(shape, dtype, buffers_); }

    void upload(const Tensor &dst, const void *data, uint64_t bytes) override {
        if (bytes != dst.bytes()) op_error("upload: " + std::to_string(bytes) + " bytes for " + describe(dst));
        if (bytes) std::memcpy(raw_data(dst), data, bytes);
    }

    void download(const Tensor &src, void *data, uint64_t bytes) override {
        if (bytes != src.bytes()) op_error("download: " + std::to_string(bytes) + " bytes for " + describe(src));
        if (bytes) std::memcpy(data, raw_data(src), bytes);
    }

    Tensor weight(const sdw_tensor_view &view, DType) override {
        if (view.ndim > SDW_MAX_DIMS)
            throw sdw::nn::Error(SDW_STATUS_INVALID_ARGUMENT,
                                 std::string("weight ") + (view.name ? view.name : "?") + ": too many dimensions");
        Shape shape(view.shape, view.shape + view.ndim);
        const int64_t n = sdw::nn::shape_numel(shape);
        const size_t esize = sdw_dtype_size(view.dtype);
        const bool float_type = view.dtype == SDW_DTYPE_F32 || view.dtype == SDW_DTYPE_F16 ||
                                view.dtype == SDW_DTYPE_BF16;
        if (!float_type || view.byte_size != static_cast<uint64_t>(n) * esize || (!view.data && n))
            throw sdw::nn::Error(SDW_STATUS_INVALID_ARGUMENT,
                                 std::string("weight ") + (view.name ? view.name : "?") +
                                     ": expected F32, F16 or BF16 data of shape " + shape_str(shape));
        // Big F16 matrices (linear and convolution weights, the token embedding) stay
        // in half precision: half the memory (SD 1.5's UNet: 1.7 instead of 3.4 GB),
        // widened per call just before the product (float_weight), which costs a few
        // percent of the product's time. Vectors and small tensors become floats.
        if (view.dtype == SDW_DTYPE_F16 && (view.ndim == 2 || view.ndim == 4) && n >= kHalfMinimum) {
            Tensor t = new_tensor(shape, DType::F16, buffers_, weight_bytes_);
            std::memcpy(raw_data(t), view.data, static_cast<size_t>(n) * sizeof(uint16_t));
            return t;
        }
        Tensor t = new_tensor(shape, DType::F32, buffers_, weight_bytes_);
        float *dst = mdata(t);
        if (view.dtype == SDW_DTYPE_F32) {
            std::memcpy(dst, view.data, static_cast<size_t>(n) * sizeof(float));
        } else {
            const auto *src = static_cast<const uint16_t *>(view.data);
            const bool f16 = view.dtype == SDW_DTYPE_F16;
            pool_.parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
                for (int64_t i = i0; i < i1; ++i)
                    dst[i] = f16 ? f16_to_float(src[i]) : bf16_to_float(src[i]);
            });
        }
        return t;
    }

    // --- layout and type ---------------------------------------------------------------
    Tensor reshape(const Tensor &x, const Shape &shape) override {
        if (sdw::nn::shape_numel(shape) != x.numel())
            op_error("reshape: " + shape_str(x.shape) + " to " + shape_str(shape));
        cpu_storage(x);
        return Tensor{shape, x.dtype, x.storage};
    }

    Tensor cast(const Tensor &x, DType dtype) override {
        if (x.dtype == dtype) {
            cpu_storage(x);
            return x;
        }
        Tensor y = new_tensor(x.shape, dtype, buffers_);
        const int64_t n = x.numel();
        if (x.dtype == DType::F32 && (dtype == DType::F16 || dtype == DType::BF16)) {
            const float *src = cdata(x);
            auto *dst = static_cast<uint16_t *>(raw_data(y));
            const bool f16 = dtype == DType::F16;
            pool_.parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
                for (int64_t i = i0; i < i1; ++i) dst[i] = f16 ? float_to_f16(src[i]) : float_to_bf16(src[i]);
            });
        } else if ((x.dtype == DType::F16 || x.dtype == DType::BF16) && dtype == DType::F32) {
            const auto *src = static_cast<const uint16_t *>(raw_data(x));
            float *dst = mdata(y);
            const bool f16 = x.dtype == DType::F16;
            pool_.parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) {
                for (int64_t i = i0; i < i1; ++i) dst[i] = f16 ? f16_to_float(src[i]) : bf16_to_float(src[i]);
            });
        } else {
            op_error(std::string("cast: ") + sdw::nn::dtype_name(x.dtype) + " to " + sdw::nn::dtype_name(dtype) +
                     " is not supported");
        }
        return y;
    }

    Tensor narrow(const Tensor &x, int dim, int64_t start, int64_t count) override {
        const int rank = static_cast<int>(x.shape.size());
        if (dim < 0 || dim >= rank || start < 0 || count < 0 || start + count > x.dim(dim))
            op_error("narrow: [" + std::to_string(start) + ", " + std::to_string(start + count) + ") of dim " +
                     std::to_string(dim) + " of " + shape_str(x.shape));
        Shape shape = x.shape;
        shape[static_cast<size_t>(dim)] = count;
        Tensor y = new_tensor(shape, x.dtype, buffers_);
        const Split split = split_at(x, dim);
        const auto *src = static_cast<const char *>(raw_data(x));
        auto *dst = static_cast<char *>(raw_data(y));
        const size_t row = static_cast<size_t>(split.inner) * sdw::nn::dtype_size(x.dtype);
        for (int64_t o = 0; o < split.outer; ++o)
            std::memcpy(dst + o * count * row, src + (o * split.extent + start) * row, count * row);
        return y;
    }

    Tensor concat(const Tensor &a, const Tensor &b, int dim) override {
        const int rank = static_cast<int>(a.shape.size());
        bool ok = a.dtype == b.dtype && b.shape.size() == a.shape.size() && dim >= 0 && dim < rank;
        for (int i = 0; ok && i < rank; ++i) ok = i == dim || a.dim(i) == b.dim(i);
        if (!ok) op_error("concat: " + describe(a) + " and " + describe(b) + " along dim " + std::to_string(dim));
        Shape shape = a.shape;
        shape[static_cast<size_t>(dim)] += b.dim(dim);
        Tensor y = new_tensor(shape, a.dtype, buffers_);
        const Split sa = split_at(a, dim), sb = split_at(b, dim);
        const size_t unit = static_cast<size_t>(sa.inner) * sdw::nn::dtype_size(a.dtype);
        const size_t ra = sa.extent * unit, rb = sb.extent * unit;
        const auto *pa = static_cast<const char *>(raw_data(a));
        const auto *pb = static_cast<const char *>(raw_data(b));
        auto *dst = static_cast<char *>(raw_data(y));
        for (int64_t o = 0; o < sa.outer; ++o) {
            std::memcpy(dst + o * (ra + rb), pa + o * ra, ra);
            std::memcpy(dst + o * (ra + rb) + ra, pb + o * rb, rb);
        }
        return y;
    }

    Tensor gather_rows(const Tensor &table, const Tensor &ids) override {
        expect_rank("gather_rows table", table, 2);
        expect_rank("gather_rows ids", ids, 1);
        const int64_t vocab = table.dim(0), c = table.dim(1), n = ids.dim(0);
        const int32_t *rows = index_data(ids);
        for (int64_t i = 0; i < n; ++i)
            if (rows[i] < 0 || rows[i] >= vocab)
                op_error("gather_rows: row " + std::to_string(rows[i]) + " outside " + shape_str(table.shape));
        Tensor y = new_tensor_({n, c});
        const uint16_t *halves = half_data(table);
        float *dst = mdata(y);
        for (int64_t i = 0; i < n; ++i) {
            if (halves)
                half_to_float(halves + rows[i] * c, dst + i * c, c);
            else
                std::memcpy(dst + i * c, cdata(table) + rows[i] * c, c * sizeof(float));
        }
        return y;
    }

    // --- layers ------------------------------------------------------------------
    Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias, int stride,
                  int padding) override {
        expect_rank("conv2d", x, 4);
        expect_rank("conv2d", w, 4);
        Conv2dShape s{x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), stride, padding};
        if (w.dim(1) != s.in_channels || w.dim(3) != s.kernel || stride < 1 || padding < 0 ||
            s.height + 2 * padding < s.kernel || s.width + 2 * padding < s.kernel)
            op_error("conv2d: input " + shape_str(x.shape) + " weight " + shape_str(w.shape) +
                     " stride " + std::to_string(stride) + " padding " + std::to_string(padding));
        const float *b = optional_vector("conv2d bias", bias, s.out_channels);
        Tensor y = new_tensor_({s.batch, s.out_channels, s.out_height(), s.out_width()});
        sdw::cpu::conv2d(pool_, scratch_, s, cdata(x), float_weight(w), b, mdata(y));
        return y;
    }

    Tensor linear(const Tensor &x, const Tensor &w, const Tensor &bias) override {
        expect_rank("linear weight", w, 2);
        const int64_t in = w.dim(1), out = w.dim(0);
        if (x.shape.empty() || x.dim(-1) != in)
            op_error("linear: input " + shape_str(x.shape) + " weight " + shape_str(w.shape));
        const float *b = optional_vector("linear bias", bias, out);
        Shape shape = x.shape;
        shape.back() = out;
        Tensor y = new_tensor_(shape);
        const int64_t rows = x.numel() / in;
        float *yd = mdata(y);
        if (b)
            pool_.parallel_for(rows, 64, [&](int64_t r0, int64_t r1) {
                for (int64_t r = r0; r < r1; ++r) std::memcpy(yd + r * out, b, out * sizeof(float));
            });
        sgemm_parallel(pool_, false, true, rows, out, in, 1.0f, cdata(x), in, float_weight(w), in,
                       b ? 1.0f : 0.0f, yd, out);
        return y;
    }

    Tensor group_norm(const Tensor &x, int groups, const Tensor &gamma, const Tensor &beta,
                      float eps, bool silu) override {
        if (x.shape.size() < 2 || groups < 1 || x.dim(1) % groups != 0)
            op_error("group_norm: input " + shape_str(x.shape) + " in " + std::to_string(groups) +
                     " groups");
        const int64_t c = x.dim(1), spatial = x.numel() / std::max<int64_t>(x.dim(0) * c, 1);
        const float *g = optional_vector("group_norm gamma", gamma, c);
        const float *b = optional_vector("group_norm beta", beta, c);
        Tensor y = new_tensor_(x.shape);
        sdw::cpu::group_norm(pool_, x.dim(0), c, spatial, groups, cdata(x), g, b, eps, silu,
                             mdata(y));
        return y;
    }

    Tensor layer_norm(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                      float eps) override {
        if (x.shape.empty() || x.dim(-1) == 0) op_error("layer_norm: input " + shape_str(x.shape));
        const int64_t dim = x.dim(-1);
        const float *g = optional_vector("layer_norm gamma", gamma, dim);
        const float *b = optional_vector("layer_norm beta", beta, dim);
        Tensor y = new_tensor_(x.shape);
        sdw::cpu::layer_norm(pool_, x.numel() / dim, dim, cdata(x), g, b, eps, mdata(y));
        return y;
    }

    Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v, int heads,
                     bool causal) override {
        expect_rank("attention q", q, 3);
        expect_rank("attention k", k, 3);
        expect_same("attention k/v", k, v);
        const int64_t c = q.dim(2);
        if (k.dim(0) != q.dim(0) || k.dim(2) != c || heads < 1 || c % heads != 0)
            op_error("attention: q " + shape_str(q.shape) + " k " + shape_str(k.shape) + " heads " +
                     std::to_string(heads));
        Tensor out = new_tensor_(q.shape);
        AttentionShape s{q.dim(0), q.dim(1), k.dim(1), c, heads, causal};
        sdw::cpu::attention(pool_, scratch_, s, cdata(q), cdata(k), cdata(v), mdata(out));
        return out;
    }

    Tensor timestep_embedding(const Tensor &t, int dim, bool flip_sin_to_cos,
                              float downscale_freq_shift) override {
        expect_rank("timestep_embedding", t, 1);
        if (dim < 1) op_error("timestep_embedding: dim " + std::to_string(dim));
        const float *steps = cdata(t);
        const int half = dim / 2;
        std::vector<float> frequencies(static_cast<size_t>(half));
        // float32 step by step, as torch evaluates exp(-log(10000) * arange / (half - shift)).
        const float log_max_period = static_cast<float>(-std::log(10000.0));
        const float denominator = static_cast<float>(half) - downscale_freq_shift;
        for (int i = 0; i < half; ++i) {
            const float exponent = log_max_period * static_cast<float>(i) / denominator;
            frequencies[static_cast<size_t>(i)] = std::exp(exponent);
        }
        Tensor y = new_tensor_({t.dim(0), dim});
        float *out = mdata(y);
        std::fill_n(out, y.numel(), 0.0f);  // an odd dim's last column stays zero, as diffusers pads
        for (int64_t b = 0; b < t.dim(0); ++b) {
            float *row = out + b * dim;
            float *sin_part = flip_sin_to_cos ? row + half : row;
            float *cos_part = flip_sin_to_cos ? row : row + half;
            for (int i = 0; i < half; ++i) {
                const float angle = steps[b] * frequencies[static_cast<size_t>(i)];
                sin_part[i] = std::sin(angle);
                cos_part[i] = std::cos(angle);
            }
        }
        return y;
    }

    // --- element-wise --------------------------------------------------------------
    Tensor add(const Tensor &a, const Tensor &b) override {
        expect_same("add", a, b);
        return binary(a, b, [](float p, float q) { return p + q; });
    }
    Tensor mul(const Tensor &a, const Tensor &b) override {
        expect_same("mul", a, b);
        return binary(a, b, [](float p, float q) { return p * q; });
    }
    Tensor scale(const Tensor &x, float s) override {
        return unary(x, [s](float v) { return v * s; });
    }

    Tensor clamp(const Tensor &x, float lo, float hi) override {
        if (!(lo <= hi)) op_error("clamp: empty range");
        return unary(x, [lo, hi](float v) { return std::clamp(v, lo, hi); });
    }

    Tensor add_channel_bias(const Tensor &x, const Tensor &bias) override {
        expect_rank("add_channel_bias", x, 4);
        if (bias.numel() != x.dim(0) * x.dim(1))
            op_error("add_channel_bias: input " + shape_str(x.shape) + " bias " +
                     shape_str(bias.shape));
        const int64_t planes = x.dim(0) * x.dim(1), plane = x.dim(2) * x.dim(3);
        Tensor y = new_tensor_(x.shape);
        const float *src = cdata(x), *bd = cdata(bias);
        float *dst = mdata(y);
        pool_.parallel_for(planes, std::max<int64_t>(1, kGrain / std::max<int64_t>(plane, 1)),
                           [&](int64_t p0, int64_t p1) {
                               for (int64_t p = p0; p < p1; ++p)
                                   for (int64_t i = 0; i < plane; ++i)
                                       dst[p * plane + i] = src[p * plane + i] + bd[p];
                           });
        return y;
    }

    Tensor silu(const Tensor &x) override {
        return unary_array(x, [](const float *s, float *d, int64_t n) { scaled_silu(s, d, n, 1.0f); });
    }
    Tensor gelu(const Tensor &x) override {
        return unary_array(x, [](const float *s, float *d, int64_t n) { sdw::cpu::gelu(s, d, n); });
    }
    Tensor quick_gelu(const Tensor &x) override {
        return unary_array(x, [](const float *s, float *d, int64_t n) { scaled_silu(s, d, n, 1.702f); });
    }

    Tensor geglu(const Tensor &x) override {
        if (x.shape.empty() || x.dim(-1) % 2 != 0) op_error("geglu: input " + shape_str(x.shape));
        const int64_t f = x.dim(-1) / 2, rows = x.numel() / std::max<int64_t>(2 * f, 1);
        Shape shape = x.shape;
        shape.back() = f;
        Tensor y = new_tensor_(shape);
        const float *src = cdata(x);
        float *dst = mdata(y);
        pool_.parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(f, 1)),
                           [&](int64_t r0, int64_t r1) {
                               for (int64_t r = r0; r < r1; ++r) {
                                   const float *a = src + r * 2 * f;
                                   gated_gelu(a, a + f, dst + r * f, f);
                               }
                           });
        return y;
    }

    // --- layout ----------------------------------------------------------------------
    Tensor upsample_nearest2x(const Tensor &x) override {
        expect_rank("upsample_nearest2x", x, 4);
        const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = new_tensor_({x.dim(0), x.dim(1), 2 * h, 2 * w});
        const float *src = cdata(x);
        float *dst = mdata(y);
        pool_.parallel_for(planes * h, 16, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {  // r = plane * h + row
                const float *in = src + r * w;
                float *o = dst + r * 4 * w;
                for (int64_t i = 0; i < w; ++i) o[2 * i] = o[2 * i + 1] = in[i];
                std::memcpy(o + 2 * w, o, 2 * w * sizeof(float));
            }
        });
        return y;
    }

    Tensor nchw_to_nlc(const Tensor &x) override {
        expect_rank("nchw_to_nlc", x, 4);
        const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Tensor y = new_tensor_({n, hw, c});
        transpose_batched(cdata(x), mdata(y), n, c, hw);
        return y;
    }

    Tensor nlc_to_nchw(const Tensor &x, int64_t h, int64_t w) override {
        expect_rank("nlc_to_nchw", x, 3);
        if (x.dim(1) != h * w)
            op_error("nlc_to_nchw: " + shape_str(x.shape) + " is not " + std::to_string(h) + "x" +
                     std::to_string(w));
        const int64_t n = x.dim(0), c = x.dim(2);
        Tensor y = new_tensor_({n, c, h, w});
        transpose_batched(cdata(x), mdata(y), n, h * w, c);
        return y;
    }

    Tensor pad2d(const Tensor &x, int top, int bottom, int left, int right) override {
        expect_rank("pad2d", x, 4);
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            op_error("pad2d: negative padding of " + shape_str(x.shape));
        const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
        const int64_t oh = h + top + bottom, ow = w + left + right;
        Tensor y = new_tensor_({x.dim(0), x.dim(1), oh, ow});
        const float *src = cdata(x);
        float *dst = mdata(y);
        pool_.parallel_for(planes, 1, [&](int64_t p0, int64_t p1) {
            for (int64_t p = p0; p < p1; ++p) {
                float *o = dst + p * oh * ow;
                std::fill_n(o, top * ow, 0.0f);
                for (int64_t r = 0; r < h; ++r) {
                    float *row = o + (top + r) * ow;
                    std::fill_n(row, left, 0.0f);
                    std::memcpy(row + left, src + (p * h + r) * w, w * sizeof(float));
                    std::fill_n(row + left + w, right, 0.0f);
                }
                std::fill_n(o + (top + h) * ow, bottom * ow, 0.0f);
            }
        });
        return y;
    }

private:
    Tensor new_tensor_(const Shape &shape) { return new_tensor(shape, buffers_); }

    static std::string describe(const Tensor &t) {
        return std::string(sdw::nn::dtype_name(t.dtype)) + " " + shape_str(t.shape);
    }

    // A tensor seen as [outer, extent, inner] around dimension `dim`.
    struct Split {
        int64_t outer = 1, extent = 1, inner = 1;
    };
    static Split split_at(const Tensor &t, int dim) {
        Split s;
        for (int i = 0; i < dim; ++i) s.outer *= t.dim(i);
        s.extent = t.dim(dim);
        for (int i = dim + 1; i < static_cast<int>(t.shape.size()); ++i) s.inner *= t.dim(i);
        return s;
    }

    // A weight's floats: its own, or its halves widened into weight_scratch_ (valid
    // until the next call).
    const float *float_weight(const Tensor &w) {
        const uint16_t *halves = half_data(w);
        if (!halves) return cdata(w);
        const int64_t n = w.numel();
        float *dst = weight_scratch_.get(n);
        pool_.parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) { half_to_float(halves + i0, dst + i0, i1 - i0); });
        return dst;
    }

    // fn(src, dst, count) over chunks of x.
    template <typename F>
    Tensor unary_array(const Tensor &x, F fn) {
        Tensor y = new_tensor_(x.shape);
        const float *src = cdata(x);
        float *dst = mdata(y);
        pool_.parallel_for(x.numel(), kGrain,
                           [&](int64_t i0, int64_t i1) { fn(src + i0, dst + i0, i1 - i0); });
        return y;
    }

    template <typename F>
    Tensor unary(const Tensor &x, F f) {
        Tensor y = new_tensor_(x.shape);
        const float *src = cdata(x);
        float *dst = mdata(y);
        pool_.parallel_for(x.numel(), kGrain, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) dst[i] = f(src[i]);
        });
        return y;
    }

    template <typename F>
    Tensor binary(const Tensor &a, const Tensor &b, F f) {
        Tensor y = new_tensor_(a.shape);
        const float *pa = cdata(a), *pb = cdata(b);
        float *dst = mdata(y);
        pool_.parallel_for(a.numel(), kGrain, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) dst[i] = f(pa[i], pb[i]);
        });
        return y;
    }

    // dst[b] = transpose(src[b]) for src [batch, rows, cols], in cache-sized blocks.
    void transpose_batched(const float *src, float *dst, int64_t batch, int64_t rows,
                           int64_t cols) {
        constexpr int64_t kBlock = 32;
        const int64_t row_blocks = (rows + kBlock - 1) / kBlock;
        pool_.parallel_for(batch * row_blocks, 1, [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) {
                const int64_t b = t / row_blocks, r0 = (t % row_blocks) * kBlock;
                const int64_t r1 = std::min(rows, r0 + kBlock);
                const float *s = src + b * rows * cols;
                float *d = dst + b * rows * cols;
                for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
                    const int64_t c1 = std::min(cols, c0 + kBlock);
                    for (int64_t r = r0; r < r1; ++r)
                        for (int64_t c = c0; c < c1; ++c) d[c * rows + r] = s[r * cols + c];
                }
            }
        });
    }

    ThreadPool pool_;
    int threads_;
    Scratch scratch_;
    Scratch weight_scratch_;
    // Freed activations kept for reuse: 1 GiB covers the free blocks of an SD 1.5
    // UNet step at 512x512 (its live set is separate and larger).
    std::shared_ptr<BufferCache> buffers_ = std::make_shared<BufferCache>(size_t{1} << 30);
    std::shared_ptr<std::atomic<uint64_t>> weight_bytes_ = std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace

int thread_count(const sdw::nn::Ops &ops) {
    const auto *cpu = dynamic_cast<const CpuOps *>(&ops);
    return cpu ? cpu->threads() : 0;
}

std::unique_ptr<sdw::nn::Ops> make_cpu_ops(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::make_unique<CpuOps>(threads);
}

}  // namespace sdw::cpu
