// Default bodies of the Ops members appended after the first version of the
// interface: correct on every backend through host memory, overridden where speed
// matters.
#include <sdw/nn/ops.h>

#include <stdexcept>
#include <vector>

namespace sdw::nn {

Tensor Ops::pad2d(const Tensor &x, int top, int bottom, int left, int right) {
    if (x.shape.size() != 4 || top < 0 || bottom < 0 || left < 0 || right < 0)
        throw std::invalid_argument("pad2d: expected NCHW and non-negative padding, got " +
                                    shape_str(x.shape));
    const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
    const int64_t out_h = h + top + bottom, out_w = w + left + right;
    std::vector<float> in(static_cast<size_t>(x.numel()));
    to_host(x, in.data());
    std::vector<float> out(static_cast<size_t>(planes * out_h * out_w), 0.0f);
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t y = 0; y < h; ++y) {
            const float *src = in.data() + (p * h + y) * w;
            float *dst = out.data() + (p * out_h + y + top) * out_w + left;
            std::copy(src, src + w, dst);
        }
    return from_host(out.data(), {x.dim(0), x.dim(1), out_h, out_w});
}

}  // namespace sdw::nn
