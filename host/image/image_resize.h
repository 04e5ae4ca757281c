// Resampling an 8-bit image the way Pillow's Image.resize(size, Image.LANCZOS) does, for
// the AUTOMATIC1111-compatible img2img (a1111_api.h): A1111's "Just resize" and "Crop and
// resize" modes call exactly that, and the native API takes init images at their size only.
//
// The arithmetic is Pillow's (libImaging/Resample.c), so results are byte-equal to it:
// - the filter is sinc(x) * sinc(x / 3) on [-3, 3); when shrinking, its support is
//   stretched by the scale (in / out), so every input pixel contributes (antialiasing);
// - output pixel i samples around input coordinate (i + 0.5) * scale; the weights are
//   normalised to sum 1 and turned into 22-bit fixed point, rounded away from zero;
// - two separable passes, each rounding to 8 bits (values clamp to [0, 255]), in the
//   order Pillow 13 picks (image_resize.cpp); an axis whose size does not change is
//   not resampled at all.
// Channels are resampled independently (no alpha here: Image is RGB or grey).
//
// Errors: an inconsistent Image (pixels.size() != width * height * channels, a
// non-positive size) or a target size < 1 throws std::invalid_argument.
#pragma once

#include "image/image.h"

namespace sdw {

// The image stretched to width x height (aspect ratio not kept). Same size: a copy.
Image resize_lanczos(const Image &src, int width, int height);

// A1111 resize_mode 1 ("Crop and resize", modules/images.py resize_image): scaled with
// resize_lanczos to the smallest size that covers width x height at the source's
// aspect ratio (the other side computed with Python's floor division), then the centre
// cropped out at offset (scaled_w // 2 - width // 2, scaled_h // 2 - height // 2).
Image resize_crop_lanczos(const Image &src, int width, int height);

}  // namespace sdw
