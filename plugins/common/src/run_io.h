// The named inputs and outputs of one Component::run, checked against the component
// table of sdw/plugin_api.h: unknown names, missing inputs, wrong dtypes and output
// shapes are refused with INVALID_ARGUMENT naming the tensor.
#pragma once

#include <sdw/nn/component.h>
#include <sdw/nn/ops.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace sdw::nn {

Shape view_shape(const sdw_tensor_view &view);

// Throws ComponentError(CANCELLED) when the host asked to stop.
void check_cancelled(const RunOptions &options);

class RunIo {
public:
    RunIo(std::string component, const sdw_tensor_view *inputs, size_t input_count,
          sdw_tensor_view *outputs, size_t output_count,
          std::initializer_list<const char *> known_inputs,
          std::initializer_list<const char *> known_outputs);

    // nullptr when the host did not pass it.
    const sdw_tensor_view *find_input(const std::string &name) const;
    const sdw_tensor_view &input(const std::string &name) const;
    // nullptr when the host did not ask for it.
    sdw_tensor_view *find_output(const std::string &name) const;

    // The input's elements as float; it must be F32 of rank `rank`.
    std::vector<float> read_f32(const sdw_tensor_view &view, size_t rank) const;
    // The input's elements as int32; I32 (or I64, narrowed) of rank `rank`.
    std::vector<int32_t> read_ids(const sdw_tensor_view &view, size_t rank) const;

    // Fails unless `view` is F32 of exactly `expected` with a buffer of that size.
    void check_output(const sdw_tensor_view &view, const Shape &expected) const;
    // Copies `x` (of the shape check_output accepted) into the host buffer.
    void write(Ops &ops, const Tensor &x, sdw_tensor_view &view) const;
    void write(const std::vector<float> &values, sdw_tensor_view &view) const;

    [[noreturn]] void fail(const std::string &message) const;
    const std::string &component() const { return component_; }

private:
    std::string component_;
    std::vector<const sdw_tensor_view *> inputs_;
    std::vector<sdw_tensor_view *> outputs_;
};

}  // namespace sdw::nn
