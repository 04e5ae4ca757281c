#include "run_io.h"

#include <algorithm>
#include <cstring>

namespace sdw::nn {

Shape view_shape(const sdw_tensor_view &view) {
    return Shape(view.shape, view.shape + std::min<uint32_t>(view.ndim, SDW_MAX_DIMS));
}

void check_cancelled(const RunOptions &options) {
    if (options.should_cancel && options.should_cancel())
        throw ComponentError(SDW_STATUS_CANCELLED, "cancelled");
}

namespace {

bool listed(std::initializer_list<const char *> names, const char *name) {
    return std::any_of(names.begin(), names.end(),
                       [&](const char *known) { return std::strcmp(known, name) == 0; });
}

std::string names_of(std::initializer_list<const char *> names) {
    std::string out;
    for (const char *name : names) out += (out.empty() ? "" : ", ") + std::string(name);
    return out;
}

}  // namespace

RunIo::RunIo(std::string component, const sdw_tensor_view *inputs, size_t input_count,
             sdw_tensor_view *outputs, size_t output_count,
             std::initializer_list<const char *> known_inputs,
             std::initializer_list<const char *> known_outputs)
    : component_(std::move(component)) {
    if ((input_count && !inputs) || (output_count && !outputs))
        fail("inputs or outputs is NULL");
    for (size_t i = 0; i < input_count; ++i) {
        const char *name = inputs[i].name;
        if (!name || !listed(known_inputs, name))
            fail("unknown input '" + std::string(name ? name : "(null)") + "' (known: " +
                 names_of(known_inputs) + ")");
        if (find_input(name)) fail("input " + std::string(name) + " given twice");
        inputs_.push_back(&inputs[i]);
    }
    for (size_t i = 0; i < output_count; ++i) {
        const char *name = outputs[i].name;
        if (!name || !listed(known_outputs, name))
            fail("unknown output '" + std::string(name ? name : "(null)") + "' (known: " +
                 names_of(known_outputs) + ")");
        if (find_output(name)) fail("output " + std::string(name) + " given twice");
        outputs_.push_back(&outputs[i]);
    }
    if (outputs_.empty()) fail("no outputs requested");
}

void RunIo::fail(const std::string &message) const {
    throw ComponentError(SDW_STATUS_INVALID_ARGUMENT, component_ + ": " + message);
}

const sdw_tensor_view *RunIo::find_input(const std::string &name) const {
    for (const sdw_tensor_view *view : inputs_)
        if (name == view->name) return view;
    return nullptr;
}

const sdw_tensor_view &RunIo::input(const std::string &name) const {
    const sdw_tensor_view *view = find_input(name);
    if (!view) fail("missing input " + name);
    return *view;
}

sdw_tensor_view *RunIo::find_output(const std::string &name) const {
    for (sdw_tensor_view *view : outputs_)
        if (name == view->name) return view;
    return nullptr;
}

std::vector<float> RunIo::read_f32(const sdw_tensor_view &view, size_t rank) const {
    const Shape shape = view_shape(view);
    if (view.dtype != SDW_DTYPE_F32 || shape.size() != rank)
        fail("input " + std::string(view.name) + " must be F32 of rank " + std::to_string(rank) +
             ", got rank " + std::to_string(view.ndim));
    const int64_t n = shape_numel(shape);
    if (n < 0 || view.byte_size != static_cast<uint64_t>(n) * 4 || (n > 0 && !view.data))
        fail("input " + std::string(view.name) + " has " + std::to_string(view.byte_size) +
             " bytes for shape " + shape_str(shape));
    std::vector<float> values(static_cast<size_t>(n));
    if (n) std::memcpy(values.data(), view.data, values.size() * sizeof(float));
    return values;
}

std::vector<int32_t> RunIo::read_ids(const sdw_tensor_view &view, size_t rank) const {
    const Shape shape = view_shape(view);
    const bool wide = view.dtype == SDW_DTYPE_I64;
    if ((view.dtype != SDW_DTYPE_I32 && !wide) || shape.size() != rank)
        fail("input " + std::string(view.name) + " must be I32 of rank " + std::to_string(rank));
    const int64_t n = shape_numel(shape);
    const uint64_t element = wide ? 8 : 4;
    if (n < 0 || view.byte_size != static_cast<uint64_t>(n) * element || (n > 0 && !view.data))
        fail("input " + std::string(view.name) + " has " + std::to_string(view.byte_size) +
             " bytes for shape " + shape_str(shape));
    std::vector<int32_t> ids(static_cast<size_t>(n));
    const auto *bytes = static_cast<const unsigned char *>(view.data);
    for (int64_t i = 0; i < n; ++i) {
        if (wide) {
            int64_t id;
            std::memcpy(&id, bytes + i * 8, 8);
            if (id < INT32_MIN || id > INT32_MAX) fail("input " + std::string(view.name) + " holds an id out of range");
            ids[static_cast<size_t>(i)] = static_cast<int32_t>(id);
        } else {
            std::memcpy(&ids[static_cast<size_t>(i)], bytes + i * 4, 4);
        }
    }
    return ids;
}

void RunIo::check_output(const sdw_tensor_view &view, const Shape &expected) const {
    const Shape shape = view_shape(view);
    if (view.dtype != SDW_DTYPE_F32 || shape != expected)
        fail("output " + std::string(view.name) + " must be F32 " + shape_str(expected) +
             ", got " + shape_str(shape));
    if (!view.data || view.byte_size != static_cast<uint64_t>(shape_numel(expected)) * 4)
        fail("output " + std::string(view.name) + " has a buffer of " +
             std::to_string(view.byte_size) + " bytes, expected " +
             std::to_string(shape_numel(expected) * 4));
}

void RunIo::write(Ops &ops, const Tensor &x, sdw_tensor_view &view) const {
    check_output(view, x.shape);
    ops.to_host(x, static_cast<float *>(view.data));
}

void RunIo::write(const std::vector<float> &values, sdw_tensor_view &view) const {
    if (values.size() * 4 != view.byte_size)
        fail("output " + std::string(view.name) + " has the wrong size");
    std::memcpy(view.data, values.data(), values.size() * sizeof(float));
}

}  // namespace sdw::nn
