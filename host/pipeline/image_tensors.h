// Conversions between 8-bit images and the float tensors the networks see, with
// diffusers' VaeImageProcessor arithmetic (so that a PNG round trip of the
// reference's inputs gives the reference's tensors bit for bit).
#pragma once

#include "image/image.h"
#include "pipeline/float_tensor.h"

namespace sdw {

// RGB image -> [1, 3, H, W] in [-1, 1]: x / 255 then 2x - 1, in float32.
FloatTensor image_to_tensor(const Image &image);

// Grey mask -> [1, 1, H, W] binarized: 1 where value / 255 >= 0.5 (repaint), else 0.
FloatTensor mask_to_tensor(const Image &mask);

// image * (mask < 0.5): the part of the init image the inpainting UNet keeps.
FloatTensor masked_image(const FloatTensor &image, const FloatTensor &mask);

// torch.nn.functional.interpolate(mode="nearest") of an NCHW tensor to (h, w).
FloatTensor resize_nearest(const FloatTensor &x, int64_t h, int64_t w);

// Decoder output [B, 3, H, W] -> B RGB images: (x * 0.5 + 0.5) clamped to [0, 1],
// then round(x * 255) with ties to even, as numpy does.
std::vector<Image> tensor_to_images(const FloatTensor &decoded);

}  // namespace sdw
