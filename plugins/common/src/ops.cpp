#include <sdw/nn/ops.h>

namespace sdw::nn {

int64_t shape_numel(const Shape &shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string shape_str(const Shape &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

const char *dtype_name(DType dtype) {
    switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    }
    return "?";
}

size_t dtype_size(DType dtype) {
    switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I32: return 4;
    }
    return 0;
}

bool is_float(DType dtype) { return dtype != DType::I32; }

namespace {

struct CallbackBoundary final : SegmentBoundary {
    explicit CallbackBoundary(const std::function<void()> &callback) : between(callback) {}
    void end_segment() override {
        if (between) between();
    }
    const std::function<void()> &between;
};

}  // namespace

const std::vector<Tensor> &EagerPlan::run(const std::function<void()> &between_segments) {
    // The previous outputs go first, so their memory serves this run.
    outputs_.clear();
    CallbackBoundary boundary(between_segments);
    outputs_ = forward_(boundary);
    return outputs_;
}

std::unique_ptr<Plan> Ops::plan(Forward forward) {
    return std::make_unique<EagerPlan>(std::move(forward));
}

}  // namespace sdw::nn
