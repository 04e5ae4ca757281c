#include "vulkan_ops_impl.h"

#include <sdw/nn/half_convert.h>
#include <sdw/plugin_api.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sdw::vulkan {

namespace sp = sdw::plugin;
using sdw::nn::shape_numel;
using sdw::nn::shape_str;

namespace {

constexpr uint64_t kWeightBlockBytes = 256ull << 20;
constexpr uint64_t kActivationBlockBytes = 64ull << 20;
constexpr uint64_t kStagingBytes = 64ull << 20;

[[noreturn]] void op_error(const std::string &message) {
    throw sp::Error(SDW_STATUS_INTERNAL, "vulkan: " + message);
}

void expect_rank(const char *op, const Tensor &t, size_t rank) {
    if (t.shape.size() != rank)
        op_error(std::string(op) + ": expected rank " + std::to_string(rank) + ", got " + shape_str(t.shape));
}

uint32_t u32(int64_t v, const char *what) {
    if (v < 0 || v > 0xffffffffll) op_error(std::string(what) + " " + std::to_string(v) + " exceeds 32 bits");
    return static_cast<uint32_t>(v);
}

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Push blocks, laid out as the shaders' scalar push_constant blocks.
struct EltwisePush {
    PushHeader header;
    VkDeviceAddress a, b, y;
    uint32_t n, inner;
    float p0, p1;
};

struct CopyPush {
    PushHeader header;
    VkDeviceAddress src, dst;
    uint32_t dims[4], dst_stride[4], src_stride[4];
    int32_t pad[4];
    uint32_t src_dims[4];
    uint32_t shift;
};

struct GatherPush {
    PushHeader header;
    VkDeviceAddress table, ids, y;
    uint32_t rows, columns, n;
};

struct TimestepPush {
    PushHeader header;
    VkDeviceAddress t, freqs, y;
    uint32_t n, half_dim, dim, flip;
};

struct MatmulPush {
    PushHeader header;
    VkDeviceAddress x, w, bias, y;
    uint32_t M, N, K, has_bias;
    uint32_t cin, h, wd, ksize, stride, padding, wo;
};

struct GroupNormPush {
    PushHeader header;
    VkDeviceAddress x, gamma, beta, y;
    uint32_t channels, channels_per_group, spatial;
    float eps;
    uint32_t silu;
};

struct LayerNormPush {
    PushHeader header;
    VkDeviceAddress x, gamma, beta, y;
    uint32_t columns;
    float eps;
};

struct AttentionPush {
    PushHeader header;
    VkDeviceAddress q, k, v, y, state_acc, state_ml;
    uint32_t nq, nk, channels, causal;
    float scale;
    uint32_t key_begin, key_end, flags;
};

// Keys per attention dispatch at most: lavapipe ends an invocation's loops after 65535
// iterations in all, which 8192 keys of a 64-wide head in one dispatch pass (measured:
// 6000 right, 8192 wrong); wider heads get fewer (see attention()).
constexpr uint32_t kAttentionKeysPerDispatch = 2048;

enum EltwiseOp : uint32_t {
    kAdd = 0,
    kMul = 1,
    kScale = 2,
    kClamp = 3,
    kSilu = 4,
    kGelu = 5,
    kQuickGelu = 6,
    kAddChannelBias = 7,
    kGeglu = 8,
};

}  // namespace

// A 4-d strided view for copy.comp (see there).
struct VulkanOps::CopyLayout {
    uint32_t dims[4] = {1, 1, 1, 1};
    uint32_t dst_stride[4] = {0, 0, 0, 0};
    uint32_t src_stride[4] = {0, 0, 0, 0};
    int32_t pad[4] = {0, 0, 0, 0};
    uint32_t src_dims[4] = {1, 1, 1, 1};
    uint32_t shift = 0;

    // dims given; contiguous destination; source dims equal to dims.
    static CopyLayout dense(std::initializer_list<int64_t> d) {
        CopyLayout l;
        int i = 0;
        for (int64_t v : d) l.dims[i++] = u32(v, "copy dimension");
        uint32_t stride = 1;
        for (int k = 3; k >= 0; --k) {
            l.dst_stride[k] = stride;
            l.src_stride[k] = stride;
            l.src_dims[k] = l.dims[k];
            stride *= l.dims[k];
        }
        return l;
    }
};

VulkanOps::VulkanOps(const VulkanOptions &options) : dtype_(options.dtype) {
    if (dtype_ != DType::F32 && dtype_ != DType::F16)
        throw sp::Error(SDW_STATUS_INVALID_ARGUMENT, "vulkan: dtype must be float32 or float16");
    device_ = std::make_unique<Device>(options);
    memory_ = std::make_unique<Memory>(*device_, options.max_memory_bytes);
    kernels_ = std::make_unique<Kernels>(*device_);
    strip_kernels_ = options.kernels == KernelForm::Strip || (options.kernels == KernelForm::Auto && device_->is_cpu());
    weights_ = std::make_unique<Pool>(*memory_, kWeightBlockBytes, "weights");
    general_ = std::make_unique<Pool>(*memory_, kActivationBlockBytes, "tensors");
    arena_ = std::make_unique<Pool>(*memory_, kActivationBlockBytes, "the plans' arena");
    auto info = vk_struct<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
    info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    info.queueFamilyIndex = device_->queue_family();
    check(device_->api().vkCreateCommandPool(device_->handle(), &info, nullptr, &command_pool_),
          "vkCreateCommandPool");
    eager_ = new_command_buffer();
}

VulkanOps::~VulkanOps() {
    try {
        flush();
    } catch (...) {
        // A destructor cannot report; the device is idled below either way.
    }
    device_->api().vkDeviceWaitIdle(device_->handle());
    frequencies_.clear();
    if (staging_) memory_->free(std::move(staging_));
    arena_.reset();
    general_.reset();
    weights_.reset();
    kernels_.reset();
    device_->api().vkDestroyCommandPool(device_->handle(), command_pool_, nullptr);
    memory_.reset();
    device_.reset();
}

std::string VulkanOps::description() const {
    return device_->description() + ", " + sdw::nn::dtype_name(dtype_) +
           (strip_kernels_ ? ", strip kernels" : ", tiled kernels") +
           (memory_->device_memory_mapped() ? ", mapped device memory" : ", staged transfers");
}

sdw::nn::MemoryUse VulkanOps::memory() const {
    sdw::nn::MemoryUse use;
    use.weights_bytes = weights_->reserved_bytes();
    use.plans_bytes = arena_->reserved_bytes();
    use.cache_bytes = general_->idle_bytes() + (staging_ ? staging_->size : 0);
    return use;
}

void VulkanOps::trim() {
    flush();
    general_->release_unused();
    weights_->release_unused();
    if (live_plans_ == 0) arena_->release_unused();
    if (staging_) {
        memory_->free(std::move(staging_));
        staging_used_ = 0;
    }
}

// --- command buffers ------------------------------------------------------------

VkCommandBuffer VulkanOps::new_command_buffer() {
    auto info = vk_struct<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    info.commandPool = command_pool_;
    info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    info.commandBufferCount = 1;
    VkCommandBuffer buffer = VK_NULL_HANDLE;
    check(device_->api().vkAllocateCommandBuffers(device_->handle(), &info, &buffer), "vkAllocateCommandBuffers");
    return buffer;
}

VkCommandBuffer VulkanOps::commands() {
    if (recording_ != nullptr) return recording_->segments.back();
    if (!eager_open_) {
        auto begin = vk_struct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        check(device_->api().vkBeginCommandBuffer(eager_, &begin), "vkBeginCommandBuffer");
        eager_open_ = true;
    }
    return eager_;
}

void VulkanOps::flush() {
    if (!eager_open_) return;
    const VulkanApi &vk = device_->api();
    kernels_->host_barrier(eager_);
    eager_open_ = false;
    staging_used_ = 0;
    check(vk.vkEndCommandBuffer(eager_), "vkEndCommandBuffer");
    device_->submit_and_wait(eager_);
    check(vk.vkResetCommandBuffer(eager_, 0), "vkResetCommandBuffer");
}

void VulkanOps::submit_segment(VkCommandBuffer segment) {
    flush();
    device_->submit_and_wait(segment);
}

void VulkanOps::free_recording(Recording &recording) {
    if (recording.segments.empty()) return;
    device_->api().vkFreeCommandBuffers(device_->handle(), command_pool_,
                                        static_cast<uint32_t>(recording.segments.size()), recording.segments.data());
    recording.segments.clear();
}

// --- tensors and transfers -----------------------------------------------------------

const char *VulkanOps::suffix(DType dtype) const {
    switch (dtype) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    default: op_error(std::string("no kernels for ") + sdw::nn::dtype_name(dtype));
    }
}

const Range &VulkanOps::range_of(const Tensor &t) {
    auto *storage = dynamic_cast<VkTensorStorage *>(t.storage.get());
    if (storage == nullptr) op_error("a tensor of another backend");
    return storage->range;
}

Tensor VulkanOps::make_in(Pool &pool, const Shape &shape, DType dtype) {
    Tensor t;
    t.shape = shape;
    t.dtype = dtype;
    const uint64_t bytes = t.bytes();
    Range range;
    try {
        range = pool.allocate(bytes);
    } catch (const sp::Error &e) {
        if (e.status() != SDW_STATUS_OUT_OF_MEMORY || recording_ != nullptr) throw;
        // Cached blocks go back first; then one more try.
        trim();
        range = pool.allocate(bytes);
    }
    t.storage = std::make_shared<VkTensorStorage>(pool, range);
    return t;
}

Tensor VulkanOps::make(const Shape &shape, DType dtype) {
    return make_in(recording_ != nullptr ? *arena_ : *general_, shape, dtype);
}

Tensor VulkanOps::input(const Shape &shape, DType dtype) {
    if (recording_ != nullptr) op_error("input() during a forward");
    return make_in(*general_, shape, dtype);
}

void VulkanOps::write(const Range &range, const void *data, uint64_t bytes) {
    if (bytes == 0) return;
    if (void *mapped = range.mapped()) {
        flush();  // pending commands may read the range
        std::memcpy(mapped, data, bytes);
        return;
    }
    const VulkanApi &vk = device_->api();
    if (!staging_) staging_ = memory_->staging_block(kStagingBytes);
    for (uint64_t done = 0; done < bytes;) {
        if (staging_used_ == staging_->size) flush();
        const uint64_t chunk = std::min(bytes - done, staging_->size - staging_used_);
        std::memcpy(static_cast<char *>(staging_->mapped) + staging_used_, static_cast<const char *>(data) + done,
                    chunk);
        VkBufferCopy region{staging_used_, range.offset + done, chunk};
        VkCommandBuffer cmd = commands();
        vk.vkCmdCopyBuffer(cmd, staging_->buffer, range.block->buffer, 1, &region);
        kernels_->barrier(cmd);
        staging_used_ = (staging_used_ + chunk + 255) / 256 * 256;
        staging_used_ = std::min(staging_used_, staging_->size);
        done += chunk;
    }
}

void VulkanOps::read(const Range &range, void *data, uint64_t bytes) {
    flush();
    if (bytes == 0) return;
    if (const void *mapped = range.mapped()) {
        std::memcpy(data, mapped, bytes);
        return;
    }
    const VulkanApi &vk = device_->api();
    if (!staging_) staging_ = memory_->staging_block(kStagingBytes);
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t chunk = std::min(bytes - done, staging_->size);
        VkBufferCopy region{range.offset + done, 0, chunk};
        VkCommandBuffer cmd = commands();
        vk.vkCmdCopyBuffer(cmd, range.block->buffer, staging_->buffer, 1, &region);
        flush();
        std::memcpy(static_cast<char *>(data) + done, staging_->mapped, chunk);
        done += chunk;
    }
}

void VulkanOps::upload(const Tensor &dst, const void *data, uint64_t bytes) {
    if (recording_ != nullptr) op_error("upload() during a forward");
    if (bytes != dst.bytes())
        op_error("upload of " + std::to_string(bytes) + " bytes into " + shape_str(dst.shape) + " " +
                 sdw::nn::dtype_name(dst.dtype));
    write(range_of(dst), data, bytes);
}

void VulkanOps::download(const Tensor &src, void *data, uint64_t bytes) {
    if (recording_ != nullptr) op_error("download() during a forward");
    if (bytes != src.bytes())
        op_error("download of " + std::to_string(bytes) + " bytes from " + shape_str(src.shape) + " " +
                 sdw::nn::dtype_name(src.dtype));
    read(range_of(src), data, bytes);
}

Tensor VulkanOps::weight(const sdw_tensor_view &view, DType compute) {
    const std::string name = view.name ? view.name : "?";
    if (view.ndim > SDW_MAX_DIMS)
        throw sp::Error(SDW_STATUS_INVALID_ARGUMENT, "weight " + name + ": too many dimensions");
    const Shape shape(view.shape, view.shape + view.ndim);
    const int64_t n = shape_numel(shape);
    const bool float_type =
        view.dtype == SDW_DTYPE_F32 || view.dtype == SDW_DTYPE_F16 || view.dtype == SDW_DTYPE_BF16;
    if (!float_type || view.byte_size != static_cast<uint64_t>(n) * sdw_dtype_size(view.dtype) ||
        (view.data == nullptr && n != 0))
        throw sp::Error(SDW_STATUS_INVALID_ARGUMENT,
                        "weight " + name + ": expected F32, F16 or BF16 data of shape " + shape_str(shape));
    // Stored in the dtype the ops compute in: F16 where asked (and the context is F16),
    // F32 otherwise.
    const DType storage = compute == DType::F16 ? DType::F16 : DType::F32;
    Tensor t = make_in(*weights_, shape, storage);
    const size_t count = static_cast<size_t>(n);
    if (storage == DType::F16 && view.dtype == SDW_DTYPE_F16) {
        write(range_of(t), view.data, t.bytes());
        return t;
    }
    if (storage == DType::F32 && view.dtype == SDW_DTYPE_F32) {
        write(range_of(t), view.data, t.bytes());
        return t;
    }
    auto as_float = [&view](size_t i) {
        switch (view.dtype) {
        case SDW_DTYPE_F16: return sdw::nn::f16_to_float(static_cast<const uint16_t *>(view.data)[i]);
        case SDW_DTYPE_BF16: return sdw::nn::bf16_to_float(static_cast<const uint16_t *>(view.data)[i]);
        default: return static_cast<const float *>(view.data)[i];
        }
    };
    if (storage == DType::F32) {
        std::vector<float> converted(count);
        for (size_t i = 0; i < count; ++i) converted[i] = as_float(i);
        write(range_of(t), converted.data(), t.bytes());
    } else {
        std::vector<uint16_t> converted(count);
        for (size_t i = 0; i < count; ++i) converted[i] = sdw::nn::float_to_f16(as_float(i));
        write(range_of(t), converted.data(), t.bytes());
    }
    return t;
}

// --- layout ------------------------------------------------------------------------

void VulkanOps::copy(const Tensor &src, uint64_t src_offset, const Tensor &dst, uint64_t dst_offset,
                     const CopyLayout &layout, const char *variant) {
    CopyPush push{};
    push.src = range_of(src).address() + src_offset;
    push.dst = range_of(dst).address() + dst_offset;
    std::memcpy(push.dims, layout.dims, sizeof push.dims);
    std::memcpy(push.dst_stride, layout.dst_stride, sizeof push.dst_stride);
    std::memcpy(push.src_stride, layout.src_stride, sizeof push.src_stride);
    std::memcpy(push.pad, layout.pad, sizeof push.pad);
    std::memcpy(push.src_dims, layout.src_dims, sizeof push.src_dims);
    push.shift = layout.shift;
    const uint64_t n = uint64_t{layout.dims[0]} * layout.dims[1] * layout.dims[2] * layout.dims[3];
    u32(static_cast<int64_t>(n), "copy elements");
    kernels_->dispatch(commands(), kernels_->pipeline(std::string("copy_") + variant), push, ceil_div(n, 256));
}

namespace {
const char *raw_variant(DType dtype) { return sdw::nn::dtype_size(dtype) == 2 ? "b16" : "b32"; }
}  // namespace

Tensor VulkanOps::reshape(const Tensor &x, const Shape &shape) {
    if (shape_numel(shape) != x.numel()) op_error("reshape " + shape_str(x.shape) + " to " + shape_str(shape));
    Tensor y = x;
    y.shape = shape;
    return y;
}

Tensor VulkanOps::cast(const Tensor &x, DType dtype) {
    if (x.dtype == dtype) return x;
    const char *variant = nullptr;
    if (x.dtype == DType::F32 && dtype == DType::F16) variant = "f32_to_f16";
    if (x.dtype == DType::F16 && dtype == DType::F32) variant = "f16_to_f32";
    if (variant == nullptr)
        op_error(std::string("cast from ") + sdw::nn::dtype_name(x.dtype) + " to " + sdw::nn::dtype_name(dtype));
    Tensor y = make(x.shape, dtype);
    copy(x, 0, y, 0, CopyLayout::dense({1, 1, 1, x.numel()}), variant);
    return y;
}

Tensor VulkanOps::narrow(const Tensor &x, int dim, int64_t start, int64_t count) {
    const int rank = static_cast<int>(x.shape.size());
    if (dim < 0) dim += rank;
    if (dim < 0 || dim >= rank || start < 0 || count < 0 || start + count > x.shape[dim])
        op_error("narrow " + shape_str(x.shape) + " dim " + std::to_string(dim) + " [" + std::to_string(start) +
                 ", +" + std::to_string(count) + ")");
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < dim; ++i) outer *= x.shape[i];
    for (int i = dim + 1; i < rank; ++i) inner *= x.shape[i];
    Shape shape = x.shape;
    shape[dim] = count;
    Tensor y = make(shape, x.dtype);
    CopyLayout l = CopyLayout::dense({1, outer, count, inner});
    l.src_stride[1] = u32(x.shape[dim] * inner, "narrow stride");
    copy(x, static_cast<uint64_t>(start * inner) * sdw::nn::dtype_size(x.dtype), y, 0, l, raw_variant(x.dtype));
    return y;
}

Tensor VulkanOps::concat(const Tensor &a, const Tensor &b, int dim) {
    const int rank = static_cast<int>(a.shape.size());
    if (dim < 0) dim += rank;
    bool ok = a.dtype == b.dtype && b.shape.size() == a.shape.size() && dim >= 0 && dim < rank;
    for (int i = 0; ok && i < rank; ++i) ok = i == dim || a.shape[i] == b.shape[i];
    if (!ok) op_error("concat " + shape_str(a.shape) + " and " + shape_str(b.shape) + " on dim " + std::to_string(dim));
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < dim; ++i) outer *= a.shape[i];
    for (int i = dim + 1; i < rank; ++i) inner *= a.shape[i];
    Shape shape = a.shape;
    shape[dim] = a.shape[dim] + b.shape[dim];
    Tensor y = make(shape, a.dtype);
    const uint32_t out_row = u32(shape[dim] * inner, "concat row");
    CopyLayout la = CopyLayout::dense({1, outer, a.shape[dim], inner});
    la.dst_stride[1] = out_row;
    copy(a, 0, y, 0, la, raw_variant(a.dtype));
    CopyLayout lb = CopyLayout::dense({1, outer, b.shape[dim], inner});
    lb.dst_stride[1] = out_row;
    copy(b, 0, y, static_cast<uint64_t>(a.shape[dim] * inner) * sdw::nn::dtype_size(a.dtype), lb, raw_variant(a.dtype));
    return y;
}

Tensor VulkanOps::nchw_to_nlc(const Tensor &x) {
    expect_rank("nchw_to_nlc", x, 4);
    const int64_t b = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
    Tensor y = make({b, hw, c}, x.dtype);
    CopyLayout l = CopyLayout::dense({1, b, hw, c});  // out (b, p, c) reads x[b, c, p]
    l.src_stride[1] = u32(c * hw, "stride");
    l.src_stride[2] = 1;
    l.src_stride[3] = u32(hw, "stride");
    copy(x, 0, y, 0, l, raw_variant(x.dtype));
    return y;
}

Tensor VulkanOps::nlc_to_nchw(const Tensor &x, int64_t h, int64_t w) {
    expect_rank("nlc_to_nchw", x, 3);
    const int64_t b = x.dim(0), n = x.dim(1), c = x.dim(2);
    if (n != h * w) op_error("nlc_to_nchw " + shape_str(x.shape) + " to " + std::to_string(h) + "x" + std::to_string(w));
    Tensor y = make({b, c, h, w}, x.dtype);
    CopyLayout l = CopyLayout::dense({1, b, c, n});  // out (b, c, p) reads x[b, p, c]
    l.src_stride[1] = u32(n * c, "stride");
    l.src_stride[2] = 1;
    l.src_stride[3] = u32(c, "stride");
    copy(x, 0, y, 0, l, raw_variant(x.dtype));
    return y;
}

Tensor VulkanOps::upsample_nearest2x(const Tensor &x) {
    expect_rank("upsample_nearest2x", x, 4);
    const int64_t bc = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
    Tensor y = make({x.dim(0), x.dim(1), 2 * h, 2 * w}, x.dtype);
    CopyLayout l = CopyLayout::dense({1, bc, 2 * h, 2 * w});
    const CopyLayout src = CopyLayout::dense({1, bc, h, w});
    std::memcpy(l.src_stride, src.src_stride, sizeof l.src_stride);
    std::memcpy(l.src_dims, src.src_dims, sizeof l.src_dims);
    l.shift = (1u << 8) | (1u << 12);
    copy(x, 0, y, 0, l, raw_variant(x.dtype));
    return y;
}

Tensor VulkanOps::pad2d(const Tensor &x, int top, int bottom, int left, int right) {
    expect_rank("pad2d", x, 4);
    if (top < 0 || bottom < 0 || left < 0 || right < 0) op_error("pad2d with negative padding");
    const int64_t bc = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
    const int64_t ho = top + h + bottom, wo = left + w + right;
    Tensor y = make({x.dim(0), x.dim(1), ho, wo}, x.dtype);
    CopyLayout l = CopyLayout::dense({1, bc, ho, wo});
    const CopyLayout src = CopyLayout::dense({1, bc, h, w});
    std::memcpy(l.src_stride, src.src_stride, sizeof l.src_stride);
    std::memcpy(l.src_dims, src.src_dims, sizeof l.src_dims);
    l.pad[2] = top;
    l.pad[3] = left;
    copy(x, 0, y, 0, l, raw_variant(x.dtype));
    return y;
}

Tensor VulkanOps::gather_rows(const Tensor &table, const Tensor &ids) {
    expect_rank("gather_rows", table, 2);
    expect_rank("gather_rows ids", ids, 1);
    if (ids.dtype != DType::I32) op_error("gather_rows: ids must be I32");
    const int64_t n = ids.dim(0), c = table.dim(1);
    Tensor y = make({n, c}, table.dtype);
    GatherPush push{};
    push.table = range_of(table).address();
    push.ids = range_of(ids).address();
    push.y = range_of(y).address();
    push.rows = u32(table.dim(0), "rows");
    push.columns = u32(c, "columns");
    push.n = u32(n, "ids");
    kernels_->dispatch(commands(), kernels_->pipeline(std::string("gather_rows_") + raw_variant(table.dtype)), push,
                       ceil_div(static_cast<uint64_t>(n * c), 256));
    return y;
}

// --- layers --------------------------------------------------------------------------

namespace {

// Matmul tiles: 64x64 (4x4 per invocation, 256 invocations), or 32x128 when the rows
// are few (the last convolutions' 3 or 4 output channels, short token sequences).
std::vector<uint32_t> matmul_tiles(uint64_t m, uint32_t max_invocations) {
    if (max_invocations < 256) return {32, 32, 16, 4, 4, 64};
    if (m <= 32) return {32, 128, 16, 4, 4, 256};
    return {64, 64, 16, 4, 4, 256};
}

// matmul_strip.comp's columns per invocation (64 invocations, 16 rows each): `best`,
// halved while more than a quarter of the last workgroup's columns would be wasted.
uint32_t strip_columns(uint64_t n, uint32_t best) {
    uint32_t tn = best;
    while (tn > 1 && ceil_div(n, 64 * tn) * 64 * tn > n + n / 4) tn /= 2;
    return tn;
}

}  // namespace

Tensor VulkanOps::conv2d(const Tensor &x_in, const Tensor &w, const Tensor &bias_in, int stride, int padding) {
    expect_rank("conv2d", x_in, 4);
    expect_rank("conv2d weight", w, 4);
    const int64_t b = x_in.dim(0), cin = x_in.dim(1), h = x_in.dim(2), wd = x_in.dim(3);
    const int64_t cout = w.dim(0), k = w.dim(2);
    if (w.dim(1) != cin || w.dim(3) != k || stride < 1 || padding < 0)
        op_error("conv2d of " + shape_str(x_in.shape) + " with weight " + shape_str(w.shape));
    if (bias_in.defined() && bias_in.numel() != cout) op_error("conv2d bias " + shape_str(bias_in.shape));
    const int64_t ho = (h + 2 * padding - k) / stride + 1, wo = (wd + 2 * padding - k) / stride + 1;
    if (ho < 1 || wo < 1) op_error("conv2d output of " + shape_str(x_in.shape) + " is empty");
    const Tensor x = cast(x_in, w.dtype);
    const Tensor bias = as_dtype(bias_in, w.dtype);
    Tensor y = make({b, cout, ho, wo}, w.dtype);
    MatmulPush push{};
    push.x = range_of(x).address();
    push.w = range_of(w).address();
    push.bias = bias.defined() ? range_of(bias).address() : push.w;
    push.y = range_of(y).address();
    push.M = u32(cout, "channels");
    push.N = u32(ho * wo, "pixels");
    push.K = u32(cin * k * k, "conv depth");
    push.has_bias = bias.defined();
    push.cin = u32(cin, "channels");
    push.h = u32(h, "height");
    push.wd = u32(wd, "width");
    push.ksize = u32(k, "kernel");
    push.stride = static_cast<uint32_t>(stride);
    push.padding = static_cast<uint32_t>(padding);
    push.wo = u32(wo, "width");
    u32(b * cout * ho * wo, "conv output elements");
    if (strip_kernels_) {
        const uint32_t tn = strip_columns(push.N, 16);
        kernels_->dispatch(commands(), kernels_->pipeline(std::string("matmul_strip_conv_") + suffix(w.dtype), {tn}),
                           push, ceil_div(push.N, 64 * tn), ceil_div(push.M, 16), static_cast<uint64_t>(b));
    } else {
        const std::vector<uint32_t> tiles = matmul_tiles(push.M, device_->limits().max_workgroup_invocations);
        kernels_->dispatch(commands(), kernels_->pipeline(std::string("matmul_conv_") + suffix(w.dtype), tiles), push,
                           ceil_div(push.N, tiles[1]), ceil_div(push.M, tiles[0]), static_cast<uint64_t>(b));
    }
    Tensor out = y;
    if (x_in.dtype != w.dtype) out = cast(y, x_in.dtype);
    return out;
}

Tensor VulkanOps::linear(const Tensor &x_in, const Tensor &w, const Tensor &bias_in) {
    expect_rank("linear weight", w, 2);
    if (x_in.shape.empty() || x_in.shape.back() != w.dim(1))
        op_error("linear of " + shape_str(x_in.shape) + " with weight " + shape_str(w.shape));
    if (bias_in.defined() && bias_in.numel() != w.dim(0)) op_error("linear bias " + shape_str(bias_in.shape));
    const Tensor x = cast(x_in, w.dtype);
    const Tensor bias = as_dtype(bias_in, w.dtype);
    const int64_t in = w.dim(1), out_features = w.dim(0), rows = x.numel() / in;
    Shape shape = x.shape;
    shape.back() = out_features;
    Tensor y = make(shape, w.dtype);
    MatmulPush push{};
    push.x = range_of(x).address();
    push.w = range_of(w).address();
    push.bias = bias.defined() ? range_of(bias).address() : push.w;
    push.y = range_of(y).address();
    push.M = u32(rows, "rows");
    push.N = u32(out_features, "features");
    push.K = u32(in, "features");
    push.has_bias = bias.defined();
    u32(rows * out_features, "linear output elements");
    if (strip_kernels_) {
        const uint32_t tn = strip_columns(push.N, 8);
        kernels_->dispatch(commands(), kernels_->pipeline(std::string("matmul_strip_linear_") + suffix(w.dtype), {tn}),
                           push, ceil_div(push.N, 64 * tn), ceil_div(push.M, 16));
    } else {
        const std::vector<uint32_t> tiles = matmul_tiles(push.M, device_->limits().max_workgroup_invocations);
        kernels_->dispatch(commands(), kernels_->pipeline(std::string("matmul_linear_") + suffix(w.dtype), tiles), push,
                           ceil_div(push.N, tiles[1]), ceil_div(push.M, tiles[0]));
    }
    return x_in.dtype != w.dtype ? cast(y, x_in.dtype) : y;
}

Tensor VulkanOps::group_norm(const Tensor &x, int groups, const Tensor &gamma_in, const Tensor &beta_in, float eps,
                             bool silu) {
    if (x.shape.size() < 2) op_error("group_norm of " + shape_str(x.shape));
    const int64_t b = x.dim(0), c = x.dim(1);
    if (groups < 1 || c % groups != 0 || gamma_in.numel() != c || beta_in.numel() != c)
        op_error("group_norm of " + shape_str(x.shape) + " in " + std::to_string(groups) + " groups");
    const Tensor gamma = cast(gamma_in, x.dtype), beta = cast(beta_in, x.dtype);
    Tensor y = make(x.shape, x.dtype);
    GroupNormPush push{};
    push.x = range_of(x).address();
    push.gamma = range_of(gamma).address();
    push.beta = range_of(beta).address();
    push.y = range_of(y).address();
    push.channels = u32(c, "channels");
    push.channels_per_group = u32(c / groups, "channels");
    push.spatial = u32(x.numel() / (b * c), "spatial size");
    u32(x.numel(), "group_norm elements");
    push.eps = eps;
    push.silu = silu;
    kernels_->dispatch(commands(), kernels_->pipeline(std::string("group_norm_") + suffix(x.dtype)), push,
                       static_cast<uint64_t>(b * groups));
    return y;
}

Tensor VulkanOps::layer_norm(const Tensor &x, const Tensor &gamma_in, const Tensor &beta_in, float eps) {
    if (x.shape.empty()) op_error("layer_norm of a scalar");
    const int64_t c = x.shape.back();
    if (gamma_in.numel() != c || beta_in.numel() != c) op_error("layer_norm of " + shape_str(x.shape));
    const Tensor gamma = cast(gamma_in, x.dtype), beta = cast(beta_in, x.dtype);
    Tensor y = make(x.shape, x.dtype);
    LayerNormPush push{};
    push.x = range_of(x).address();
    push.gamma = range_of(gamma).address();
    push.beta = range_of(beta).address();
    push.y = range_of(y).address();
    push.columns = u32(c, "columns");
    push.eps = eps;
    u32(x.numel(), "layer_norm elements");
    kernels_->dispatch(commands(), kernels_->pipeline(std::string("layer_norm_") + suffix(x.dtype)), push,
                       static_cast<uint64_t>(x.numel() / c));
    return y;
}

Tensor VulkanOps::attention(const Tensor &q, const Tensor &k_in, const Tensor &v_in, int heads, bool causal) {
    expect_rank("attention q", q, 3);
    expect_rank("attention k", k_in, 3);
    expect_rank("attention v", v_in, 3);
    const int64_t b = q.dim(0), nq = q.dim(1), c = q.dim(2), nk = k_in.dim(1);
    if (heads < 1 || c % heads != 0 || k_in.shape != v_in.shape || k_in.dim(0) != b || k_in.dim(2) != c)
        op_error("attention of " + shape_str(q.shape) + ", " + shape_str(k_in.shape) + ", " + shape_str(v_in.shape));
    const Tensor k = cast(k_in, q.dtype), v = cast(v_in, q.dtype);
    const uint32_t d = static_cast<uint32_t>(c / heads);
    // The largest tiles whose Q, K, V and score arrays fit in shared memory.
    const uint32_t tpr = 8;
    uint32_t br = 16, bc = 16;
    auto shared_bytes = [d](uint32_t r, uint32_t cc) { return 4ull * ((r + 2 * cc) * d + r * cc); };
    while (shared_bytes(br, bc) > device_->limits().max_shared_bytes && (br > 1 || bc > 1)) {
        if (bc >= br && bc > 1)
            bc /= 2;
        else
            br /= 2;
    }
    if (shared_bytes(br, bc) > device_->limits().max_shared_bytes)
        op_error("attention head dim " + std::to_string(d) + " exceeds the device's shared memory");
    while (br * tpr > device_->limits().max_workgroup_invocations && br > 1) br /= 2;
    Tensor y = make(q.shape, q.dtype);
    AttentionPush push{};
    push.q = range_of(q).address();
    push.k = range_of(k).address();
    push.v = range_of(v).address();
    push.y = range_of(y).address();
    push.nq = u32(nq, "queries");
    push.nk = u32(nk, "keys");
    push.channels = u32(c, "channels");
    push.causal = causal;
    push.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    u32(b * std::max(nq, nk) * c, "attention elements");
    VkPipeline pipeline = VK_NULL_HANDLE;
    uint64_t query_groups = 0;
    uint32_t keys_per_part = kAttentionKeysPerDispatch;
    if (strip_kernels_) {
        // attention_strip.comp: 4 query rows of 64 invocations; about 2 * D loop
        // iterations per key, kept under lavapipe's 65535 per dispatch.
        pipeline = kernels_->pipeline(std::string("attention_strip_") + suffix(q.dtype), {d});
        query_groups = ceil_div(static_cast<uint64_t>(nq), 64 * 4);
        keys_per_part = std::max<uint32_t>(16, 50000 / (2 * d + 8) / 16 * 16);
    } else {
        pipeline = kernels_->pipeline(std::string("attention_") + suffix(q.dtype), {d, br, bc, tpr, br * tpr});
        query_groups = ceil_div(static_cast<uint64_t>(nq), br);
        // The loop iterations of one key tile per invocation (an upper bound: the
        // tile loads, the scores, the weighted sum), kept under lavapipe's limit too.
        const uint64_t per_tile = 2ull * bc * d / (br * tpr) + uint64_t{d} * ceil_div(bc, tpr) +
                                  uint64_t{bc} * ceil_div(d, tpr) + 16;
        keys_per_part = static_cast<uint32_t>(
            std::clamp<uint64_t>(50000 / per_tile * bc, bc, kAttentionKeysPerDispatch));
    }
    const uint32_t parts = static_cast<uint32_t>(ceil_div(static_cast<uint64_t>(nk), keys_per_part));
    Tensor state_acc, state_ml;
    if (parts > 1) {
        state_acc = make(q.shape, DType::F32);
        state_ml = make({b, heads, nq, 2}, DType::F32);
        push.state_acc = range_of(state_acc).address();
        push.state_ml = range_of(state_ml).address();
    } else {
        push.state_acc = push.state_ml = push.y;  // never touched
    }
    for (uint32_t part = 0; part < parts; ++part) {
        push.key_begin = part * keys_per_part;
        push.key_end = std::min<uint32_t>(push.nk, push.key_begin + keys_per_part);
        push.flags = (part > 0 ? 1u : 0u) | (part + 1 == parts ? 2u : 0u);
        kernels_->dispatch(commands(), pipeline, push, query_groups, static_cast<uint64_t>(heads),
                           static_cast<uint64_t>(b));
    }
    return y;
}

Tensor VulkanOps::timestep_embedding(const Tensor &t, int dim, bool flip_sin_to_cos, float downscale_freq_shift) {
    expect_rank("timestep_embedding", t, 1);
    if (dim < 1 || t.dtype != DType::F32) op_error("timestep_embedding: dim " + std::to_string(dim));
    const int half = dim / 2;
    Tensor &freqs = frequencies_[{half, downscale_freq_shift}];
    if (!freqs.defined()) {
        // float32 step by step, as torch evaluates exp(-log(10000) * arange / (half - shift)):
        // a constant of the op, computed and uploaded once like a weight.
        std::vector<float> f(static_cast<size_t>(std::max(half, 1)), 0.0f);
        const float log_max_period = static_cast<float>(-std::log(10000.0));
        const float denominator = static_cast<float>(half) - downscale_freq_shift;
        for (int i = 0; i < half; ++i) f[static_cast<size_t>(i)] = std::exp(log_max_period * static_cast<float>(i) / denominator);
        freqs = make_in(*weights_, {static_cast<int64_t>(f.size())}, DType::F32);
        write(range_of(freqs), f.data(), freqs.bytes());
    }
    Tensor y = make({t.dim(0), dim}, DType::F32);
    TimestepPush push{};
    push.t = range_of(t).address();
    push.freqs = range_of(freqs).address();
    push.y = range_of(y).address();
    push.n = u32(t.dim(0), "timesteps");
    push.half_dim = static_cast<uint32_t>(half);
    push.dim = static_cast<uint32_t>(dim);
    push.flip = flip_sin_to_cos;
    kernels_->dispatch(commands(), kernels_->pipeline("timestep_embedding_f32"), push,
                       ceil_div(static_cast<uint64_t>(t.dim(0) * dim), 256));
    return y;
}

// --- element-wise ----------------------------------------------------------------------

Tensor VulkanOps::eltwise(uint32_t op, const Tensor &a, const Tensor *b, const Shape &out_shape, uint32_t inner,
                          float p0, float p1) {
    Tensor y = make(out_shape, a.dtype);
    EltwisePush push{};
    push.a = range_of(a).address();
    push.b = b != nullptr ? range_of(*b).address() : push.a;
    push.y = range_of(y).address();
    push.n = u32(y.numel(), "elements");
    push.inner = inner;
    push.p0 = p0;
    push.p1 = p1;
    kernels_->dispatch(commands(), kernels_->pipeline(std::string("eltwise_") + suffix(a.dtype), {op}), push,
                       ceil_div(push.n, 256));
    return y;
}

Tensor VulkanOps::add(const Tensor &a, const Tensor &b) {
    if (a.shape != b.shape) op_error("add " + shape_str(a.shape) + " and " + shape_str(b.shape));
    const Tensor bb = cast(b, a.dtype);
    return eltwise(kAdd, a, &bb, a.shape, 1, 0, 0);
}

Tensor VulkanOps::mul(const Tensor &a, const Tensor &b) {
    if (a.shape != b.shape) op_error("mul " + shape_str(a.shape) + " and " + shape_str(b.shape));
    const Tensor bb = cast(b, a.dtype);
    return eltwise(kMul, a, &bb, a.shape, 1, 0, 0);
}

Tensor VulkanOps::scale(const Tensor &x, float s) { return eltwise(kScale, x, nullptr, x.shape, 1, s, 0); }

Tensor VulkanOps::add_channel_bias(const Tensor &x, const Tensor &bias) {
    expect_rank("add_channel_bias", x, 4);
    if (bias.numel() != x.dim(0) * x.dim(1)) op_error("add_channel_bias of " + shape_str(bias.shape));
    const Tensor bb = cast(bias, x.dtype);
    return eltwise(kAddChannelBias, x, &bb, x.shape, u32(x.dim(2) * x.dim(3), "spatial size"), 0, 0);
}

Tensor VulkanOps::clamp(const Tensor &x, float lo, float hi) { return eltwise(kClamp, x, nullptr, x.shape, 1, lo, hi); }
Tensor VulkanOps::silu(const Tensor &x) { return eltwise(kSilu, x, nullptr, x.shape, 1, 0, 0); }
Tensor VulkanOps::gelu(const Tensor &x) { return eltwise(kGelu, x, nullptr, x.shape, 1, 0, 0); }
Tensor VulkanOps::quick_gelu(const Tensor &x) { return eltwise(kQuickGelu, x, nullptr, x.shape, 1, 0, 0); }

Tensor VulkanOps::geglu(const Tensor &x) {
    if (x.shape.empty() || x.shape.back() % 2 != 0) op_error("geglu of " + shape_str(x.shape));
    Shape shape = x.shape;
    shape.back() /= 2;
    return eltwise(kGeglu, x, nullptr, shape, u32(shape.back(), "features"), 0, 0);
}

// --- the public entry points ------------------------------------------------------------

std::unique_ptr<sdw::nn::Ops> make_vulkan_ops(const VulkanOptions &options) {
    return std::make_unique<VulkanOps>(options);
}

std::string unavailable_reason() {
    // Made once per process: each call would otherwise create a device (the conformance
    // suite asks before every test).
    static const std::string reason = [] {
        try {
            VulkanOps probe(VulkanOptions{});
            return std::string();
        } catch (const sp::Error &e) {
            return std::string(e.what());
        }
    }();
    return reason;
}

std::string device_description(const sdw::nn::Ops &ops) {
    const auto *vulkan = dynamic_cast<const VulkanOps *>(&ops);
    return vulkan != nullptr ? vulkan->description() : std::string();
}

KernelForm kernel_form(const sdw::nn::Ops &ops) {
    const auto *vulkan = dynamic_cast<const VulkanOps *>(&ops);
    if (vulkan == nullptr) return KernelForm::Auto;
    return vulkan->uses_strip_kernels() ? KernelForm::Strip : KernelForm::Tiled;
}


}  // namespace sdw::vulkan
