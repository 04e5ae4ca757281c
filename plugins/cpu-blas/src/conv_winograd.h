// Winograd F(2x2, 3x3) for 3x3 stride-1 padding-1 convolutions (conv_winograd.cpp).
#pragma once

#include "kernels.h"

namespace sdw::cpu {

// Whether conv3x3_winograd handles this shape and is worth it on `threads` threads
// (enough channels and tiles; conv3x3_winograd itself takes any 3x3/1/1 shape).
bool winograd_applies(const Conv2dShape &s, int threads);

// As conv2d() for 3x3 kernels with stride 1 and padding 1.
void conv3x3_winograd(ThreadPool &pool, Scratch &scratch, const Conv2dShape &s, const float *x,
                      const float *w, const float *bias, float *y);

}  // namespace sdw::cpu
