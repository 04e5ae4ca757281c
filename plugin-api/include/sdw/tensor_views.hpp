/*
 * sdw/tensor_views.hpp — building the ABI's tensor views and component
 * descriptions in C++.
 *
 * Whoever calls a plugin (the sd-worker host, a test, a tool, a third party's
 * own harness) has to hand it sdw_tensor_view and sdw_component_desc structs
 * whose struct_size, ndim, shape and byte_size agree. This header fills them
 * in one place. It is header-only C++20, depends on sdw/plugin_api.h and the
 * standard library alone, and is installed with the plugin API package
 * (find_package(sdw_plugin_api), target sdw::plugin_api). A plugin may use it
 * too, e.g. to hand tensors to a library it wraps; it does not need it.
 *
 * ---------------------------------------------------------------------------
 * Example: loading a component and running it
 * ---------------------------------------------------------------------------
 *   #include <sdw/tensor_views.hpp>
 *   namespace sp = sdw::plugin;
 *
 *   sp::ComponentDescription vae("vae_decoder", config_text);
 *   vae.add_weight("decoder.conv_in.weight", SDW_DTYPE_F16, {512, 4, 3, 3}, mapped_bytes);
 *   vae.add_weight(sp::OwnedTensor("decoder.conv_in.bias", SDW_DTYPE_F32, {512}));
 *   api->component_load(ctx, &vae.desc(), &component, err);
 *
 *   const std::vector<float> latents = ...;                  // [1, 4, 8, 8]
 *   const sdw_tensor_view in = sp::make_view("latents", SDW_DTYPE_F32, {1, 4, 8, 8},
 *                                            latents.data());
 *   sp::OwnedTensor image("image", SDW_DTYPE_F32, {1, 3, 64, 64});   // zeros
 *   sdw_tensor_view out = image.view();
 *   ... sdw_run_args with {&in, 1} and {&out, 1}; then read image.f32() ...
 *
 * ---------------------------------------------------------------------------
 * Ownership
 * ---------------------------------------------------------------------------
 *   - make_view never owns anything: `name` and `data` must outlive the view.
 *   - OwnedTensor owns its name, shape and bytes. A view of it (view()) points
 *     into the tensor and is valid while the tensor lives and is neither moved,
 *     assigned to, nor destroyed (moving may relocate the name's characters).
 *   - ComponentDescription owns its kind, its config text, every weight's name
 *     and the weights added as OwnedTensor; the data of weights added by
 *     pointer or view stays the caller's and must outlive every use of desc().
 *     desc() returns a reference to a member that add_weight keeps current, so
 *     the reference is valid while the object lives (moves and copies re-point
 *     the new object's own desc()).
 *
 * ---------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------
 * Malformed requests (more than SDW_MAX_DIMS dimensions, a negative dimension,
 * an unknown dtype, a size that overflows 64 bits, values that do not fill the
 * shape, typed access that does not fit the dtype, a weight name added twice)
 * throw std::invalid_argument whose message names the tensor. Inside a plugin
 * that uses plugin_api.hpp, the boundary reports them as SDW_STATUS_INTERNAL.
 *
 * Nothing here is thread-safe beyond the standard library's guarantees: one
 * object, one thread at a time.
 */
#ifndef SDW_TENSOR_VIEWS_HPP
#define SDW_TENSOR_VIEWS_HPP

#include <sdw/plugin_api.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sdw::plugin {

namespace detail {

inline std::string tensor_label(const char *name) {
    return std::string("tensor '") + (name != nullptr ? name : "<unnamed>") + "'";
}

inline std::string dims_text(std::span<const int64_t> shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i != 0) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + "]";
}

inline std::string dtype_text(sdw_dtype dtype) {
    static constexpr const char *names[] = {"F32", "F16", "BF16", "I32", "I64", "U8"};
    const auto index = static_cast<size_t>(dtype);
    return index < std::size(names) ? names[index] : "dtype " + std::to_string(index);
}

// Elements * element size of `shape`, refusing what no view can describe.
inline uint64_t checked_byte_size(const char *name, sdw_dtype dtype,
                                  std::span<const int64_t> shape) {
    if (shape.size() > SDW_MAX_DIMS) {
        throw std::invalid_argument(tensor_label(name) + ": " + std::to_string(shape.size()) +
                                    " dimensions, a view has at most " +
                                    std::to_string(SDW_MAX_DIMS));
    }
    const uint64_t element_size = sdw_dtype_size(dtype);
    if (element_size == 0) {
        throw std::invalid_argument(tensor_label(name) + ": unknown " + dtype_text(dtype));
    }
    uint64_t bytes = element_size;
    for (int64_t dim : shape) {
        if (dim < 0) {
            throw std::invalid_argument(tensor_label(name) + ": shape " + dims_text(shape) +
                                        " has a negative dimension");
        }
        const auto n = static_cast<uint64_t>(dim);
        if (n != 0 && bytes > std::numeric_limits<uint64_t>::max() / n) {
            throw std::invalid_argument(tensor_label(name) + ": shape " + dims_text(shape) +
                                        " is too large");
        }
        bytes *= n;
    }
    return bytes;
}

// Whether elements of type T may be read from a tensor of `dtype` (uint16_t
// stands for the raw bits of F16 and BF16).
template <typename T>
constexpr bool element_fits(sdw_dtype dtype) noexcept {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, float>) return dtype == SDW_DTYPE_F32;
    else if constexpr (std::is_same_v<U, int32_t>) return dtype == SDW_DTYPE_I32;
    else if constexpr (std::is_same_v<U, int64_t>) return dtype == SDW_DTYPE_I64;
    else if constexpr (std::is_same_v<U, uint8_t>) return dtype == SDW_DTYPE_U8;
    else if constexpr (std::is_same_v<U, uint16_t>)
        return dtype == SDW_DTYPE_F16 || dtype == SDW_DTYPE_BF16;
    else static_assert(sizeof(U) == 0, "no sdw_dtype has this element type");
}

}  // namespace detail

// The dtype whose elements are T: float F32, int32_t I32, int64_t I64, uint8_t U8.
// (F16 and BF16 have no C++ element type here; read their bits as uint16_t.)
template <typename T>
constexpr sdw_dtype dtype_of() noexcept {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, float>) return SDW_DTYPE_F32;
    else if constexpr (std::is_same_v<U, int32_t>) return SDW_DTYPE_I32;
    else if constexpr (std::is_same_v<U, int64_t>) return SDW_DTYPE_I64;
    else if constexpr (std::is_same_v<U, uint8_t>) return SDW_DTYPE_U8;
    else static_assert(sizeof(U) == 0, "no single sdw_dtype has this element type");
}

// ---------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------

// A view of `data` (not owned, may be NULL to announce a shape, as
// component_prepare takes) with struct_size, ndim, shape and byte_size
// (= element count * dtype size) filled in. `name` is not copied. Inputs and
// weights are const by contract; the pointer is stored non-const because the
// same struct carries outputs.
inline sdw_tensor_view make_view(const char *name, sdw_dtype dtype, std::span<const int64_t> shape,
                                 const void *data) {
    sdw_tensor_view view{};
    view.struct_size = sizeof(sdw_tensor_view);
    view.name = name;
    view.dtype = dtype;
    view.byte_size = detail::checked_byte_size(name, dtype, shape);
    view.ndim = static_cast<uint32_t>(shape.size());
    std::copy(shape.begin(), shape.end(), view.shape);
    view.data = const_cast<void *>(data);
    return view;
}

// make_view("input_ids", SDW_DTYPE_I32, {batch, 77}, ids.data()); {} is a scalar.
inline sdw_tensor_view make_view(const char *name, sdw_dtype dtype,
                                 std::initializer_list<int64_t> shape, const void *data) {
    return make_view(name, dtype, std::span<const int64_t>(shape.begin(), shape.size()), data);
}

// A component_load descriptor over `weights` (not copied: the array, its names
// and data must outlive the descriptor, as must `kind` and `config_json`).
inline sdw_component_desc make_component_desc(const char *kind, const char *config_json,
                                              std::span<const sdw_tensor_view> weights) noexcept {
    sdw_component_desc desc{};
    desc.struct_size = sizeof(sdw_component_desc);
    desc.kind = kind;
    desc.config_json = config_json;
    desc.weights = weights.data();
    desc.weight_count = weights.size();
    return desc;
}

// ---------------------------------------------------------------------------
// A named tensor that owns its bytes
// ---------------------------------------------------------------------------

class OwnedTensor {
public:
    // Zero-filled (all bits zero: 0.0 for the float dtypes).
    OwnedTensor(std::string name, sdw_dtype dtype, std::vector<int64_t> shape)
        : name_(std::move(name)), dtype_(dtype), shape_(std::move(shape)) {
        const uint64_t size = detail::checked_byte_size(name_.c_str(), dtype_, shape_);
        bytes_.resize(static_cast<size_t>(size));
    }

    // A copy of `values`, which must hold exactly the shape's element count; the
    // dtype follows T (see dtype_of). OwnedTensor("ids", {1, 3}, std::vector<int32_t>{...}).
    template <typename T>
    OwnedTensor(std::string name, std::vector<int64_t> shape, std::span<const T> values)
        : OwnedTensor(std::move(name), dtype_of<T>(), std::move(shape)) {
        if (values.size() != element_count()) {
            throw std::invalid_argument(detail::tensor_label(name_.c_str()) + ": " +
                                        std::to_string(values.size()) + " values for shape " +
                                        detail::dims_text(shape_) + " of " +
                                        std::to_string(element_count()) + " elements");
        }
        if (!values.empty()) std::memcpy(bytes_.data(), values.data(), values.size_bytes());
    }
    template <typename T>
    OwnedTensor(std::string name, std::vector<int64_t> shape, const std::vector<T> &values)
        : OwnedTensor(std::move(name), std::move(shape), std::span<const T>(values)) {}

    const std::string &name() const noexcept { return name_; }
    sdw_dtype dtype() const noexcept { return dtype_; }
    const std::vector<int64_t> &shape() const noexcept { return shape_; }
    size_t element_count() const noexcept { return bytes_.size() / sdw_dtype_size(dtype_); }
    size_t byte_size() const noexcept { return bytes_.size(); }

    std::span<std::byte> bytes() noexcept { return bytes_; }
    std::span<const std::byte> bytes() const noexcept { return bytes_; }

    // The elements as T; throws std::invalid_argument unless T fits the dtype
    // (float F32, int32_t I32, int64_t I64, uint8_t U8, uint16_t F16/BF16 bits).
    template <typename T>
    std::span<T> data_as() {
        check_fits<T>();
        return {reinterpret_cast<T *>(bytes_.data()), element_count()};
    }
    template <typename T>
    std::span<const T> data_as() const {
        check_fits<T>();
        return {reinterpret_cast<const T *>(bytes_.data()), element_count()};
    }
    std::span<float> f32() { return data_as<float>(); }
    std::span<const float> f32() const { return data_as<float>(); }
    std::span<int32_t> i32() { return data_as<int32_t>(); }
    std::span<const int32_t> i32() const { return data_as<int32_t>(); }

    // A view of this tensor (see Ownership above for how long it is valid). The
    // non-const overload is for outputs the callee writes; the const one for
    // inputs and weights, which the contract says the callee only reads.
    sdw_tensor_view view() noexcept { return make_owned_view(); }
    sdw_tensor_view view() const noexcept { return make_owned_view(); }

private:
    template <typename T>
    void check_fits() const {
        if (!detail::element_fits<T>(dtype_)) {
            throw std::invalid_argument(detail::tensor_label(name_.c_str()) + " holds " +
                                        detail::dtype_text(dtype_) +
                                        ", which the requested element type does not fit");
        }
    }

    // The shape was checked on construction, so nothing here can fail.
    sdw_tensor_view make_owned_view() const noexcept {
        sdw_tensor_view view{};
        view.struct_size = sizeof(sdw_tensor_view);
        view.name = name_.c_str();
        view.dtype = dtype_;
        view.ndim = static_cast<uint32_t>(shape_.size());
        std::copy(shape_.begin(), shape_.end(), view.shape);
        view.data = const_cast<std::byte *>(bytes_.data());
        view.byte_size = bytes_.size();
        return view;
    }

    std::string name_;
    sdw_dtype dtype_;
    std::vector<int64_t> shape_;
    std::vector<std::byte> bytes_;
};

// One view per tensor, in order (valid as OwnedTensor::view says).
inline std::vector<sdw_tensor_view> views_of(std::span<OwnedTensor> tensors) {
    std::vector<sdw_tensor_view> views;
    views.reserve(tensors.size());
    for (OwnedTensor &tensor : tensors) views.push_back(tensor.view());
    return views;
}

// ---------------------------------------------------------------------------
// A component description that owns what it can
// ---------------------------------------------------------------------------

class ComponentDescription {
public:
    // `kind` is an ABI component kind ("text_encoder", "unet", "vae_decoder",
    // "vae_encoder"); `config_json` the component's config.json text.
    ComponentDescription(std::string kind, std::string config_json)
        : kind_(std::move(kind)), config_json_(std::move(config_json)) {
        relink();
    }
    ComponentDescription(const ComponentDescription &other)
        : kind_(other.kind_), config_json_(other.config_json_), weights_(other.weights_),
          views_(other.views_) {
        relink();
    }
    ComponentDescription(ComponentDescription &&other) noexcept
        : kind_(std::move(other.kind_)), config_json_(std::move(other.config_json_)),
          weights_(std::move(other.weights_)), views_(std::move(other.views_)) {
        relink();
        other.forget_weights();
    }
    ComponentDescription &operator=(const ComponentDescription &other) {
        if (this != &other) *this = ComponentDescription(other);
        return *this;
    }
    ComponentDescription &operator=(ComponentDescription &&other) noexcept {
        if (this != &other) {
            kind_ = std::move(other.kind_);
            config_json_ = std::move(other.config_json_);
            weights_ = std::move(other.weights_);
            views_ = std::move(other.views_);
            relink();
            other.forget_weights();
        }
        return *this;
    }
    ~ComponentDescription() = default;

    // A weight whose data the caller owns (it must outlive every use of desc());
    // the name is copied.
    ComponentDescription &add_weight(std::string name, sdw_dtype dtype,
                                     std::span<const int64_t> shape, const void *data) {
        const sdw_tensor_view view = make_view(name.c_str(), dtype, shape, data);
        return add(std::move(name), std::nullopt, view);
    }
    ComponentDescription &add_weight(std::string name, sdw_dtype dtype,
                                     std::initializer_list<int64_t> shape, const void *data) {
        return add_weight(std::move(name), dtype,
                          std::span<const int64_t>(shape.begin(), shape.size()), data);
    }
    // A copy of `view` (for instance of a memory-mapped weight): the name is
    // copied, the data stays the caller's. A view whose ndim or byte_size does not
    // agree with its shape is refused rather than passed on.
    ComponentDescription &add_weight(const sdw_tensor_view &view) {
        if (view.ndim > SDW_MAX_DIMS) {
            throw std::invalid_argument(detail::tensor_label(view.name) + ": ndim " +
                                        std::to_string(view.ndim) + ", a view has at most " +
                                        std::to_string(SDW_MAX_DIMS));
        }
        std::string name = view.name != nullptr ? view.name : "";
        const sdw_tensor_view copy =
            make_view(name.c_str(), view.dtype, std::span<const int64_t>(view.shape, view.ndim),
                      view.data);
        if (copy.byte_size != view.byte_size) {
            throw std::invalid_argument(detail::tensor_label(view.name) + ": byte_size " +
                                        std::to_string(view.byte_size) + ", but its shape holds " +
                                        std::to_string(copy.byte_size) + " bytes");
        }
        return add(std::move(name), std::nullopt, copy);
    }
    // A weight the description owns from now on.
    ComponentDescription &add_weight(OwnedTensor tensor) {
        std::string name = tensor.name();
        const sdw_tensor_view view = tensor.view();
        return add(std::move(name), std::move(tensor), view);
    }

    const std::string &kind() const noexcept { return kind_; }
    const std::string &config_json() const noexcept { return config_json_; }
    std::span<const sdw_tensor_view> weights() const noexcept { return views_; }
    // By name; nullptr when absent.
    const sdw_tensor_view *find_weight(std::string_view name) const noexcept {
        for (const sdw_tensor_view &view : views_) {
            if (name == view.name) return &view;
        }
        return nullptr;
    }

    // What component_load takes. The reference is valid while this object lives;
    // add_weight updates the weights pointer and count it holds.
    const sdw_component_desc &desc() const noexcept { return desc_; }

private:
    struct Weight {
        std::string name;
        std::optional<OwnedTensor> owned;
    };

    ComponentDescription &add(std::string name, std::optional<OwnedTensor> owned,
                              const sdw_tensor_view &view) {
        if (find_weight(name) != nullptr) {
            throw std::invalid_argument(detail::tensor_label(name.c_str()) + ": added twice to " +
                                        kind_);
        }
        views_.reserve(views_.size() + 1);  // so that the push_back below cannot throw
        weights_.push_back({std::move(name), std::move(owned)});
        views_.push_back(view);
        relink();
        return *this;
    }

    // A moved-from description is left valid and empty of weights.
    void forget_weights() noexcept {
        weights_.clear();
        views_.clear();
        relink();
    }

    // Points every view's name (and owned data) at this object's storage, which
    // moves with the strings on copy, move and vector growth.
    void relink() noexcept {
        for (size_t i = 0; i < weights_.size(); ++i) {
            if (weights_[i].owned) {
                views_[i] = weights_[i].owned->view();
            } else {
                views_[i].name = weights_[i].name.c_str();
            }
        }
        desc_ = make_component_desc(kind_.c_str(), config_json_.c_str(), views_);
    }

    std::string kind_;
    std::string config_json_;
    std::vector<Weight> weights_;
    std::vector<sdw_tensor_view> views_;  // views_[i] describes weights_[i]
    sdw_component_desc desc_{};
};

}  // namespace sdw::plugin

#endif /* SDW_TENSOR_VIEWS_HPP */
