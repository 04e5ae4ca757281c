#include "pipeline/float_tensor.h"

#include <stdexcept>

namespace sdw {

FloatTensor repeat_batch(const FloatTensor &t, int64_t copies) {
    FloatTensor out;
    out.shape = t.shape;
    out.shape[0] *= copies;
    out.data.reserve(t.numel() * copies);
    for (int64_t c = 0; c < copies; ++c) out.data.insert(out.data.end(), t.data.begin(), t.data.end());
    return out;
}

FloatTensor concat_batch(const FloatTensor &a, const FloatTensor &b) {
    if (a.shape.size() != b.shape.size() || a.item_size() != b.item_size())
        throw std::invalid_argument("concat_batch: " + shape_string(a.shape) + " vs " +
                                    shape_string(b.shape));
    FloatTensor out;
    out.shape = a.shape;
    out.shape[0] += b.shape[0];
    out.data = a.data;
    out.data.insert(out.data.end(), b.data.begin(), b.data.end());
    return out;
}

FloatTensor concat_channels(const std::vector<const FloatTensor *> &parts) {
    const FloatTensor &first = *parts.at(0);
    const int64_t n = first.shape.at(0), h = first.shape.at(2), w = first.shape.at(3);
    int64_t channels = 0;
    for (const FloatTensor *p : parts) {
        if (p->shape.size() != 4 || p->shape[0] != n || p->shape[2] != h || p->shape[3] != w)
            throw std::invalid_argument("concat_channels: " + shape_string(first.shape) + " vs " +
                                        shape_string(p->shape));
        channels += p->shape[1];
    }
    FloatTensor out({n, channels, h, w});
    float *dst = out.data.data();
    for (int64_t b = 0; b < n; ++b) {
        for (const FloatTensor *p : parts) {
            const size_t item = p->item_size();
            const float *src = p->data.data() + b * item;
            dst = std::copy(src, src + item, dst);
        }
    }
    return out;
}

std::string shape_string(const std::vector<int64_t> &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace sdw
