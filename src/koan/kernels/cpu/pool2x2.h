// One plane of 2x2 max pooling with stride 2 and its backward, with uint8 "taps" (the argmax's
// place in its window: 0 1 / 2 3).  kernels/cpu/pool.cpp runs them plane by plane for max_pool2d;
// the fused convolution + ReLU + pooling of kernels/cpu/conv.cpp runs them on each sample's
// convolution output while it is still in cache.  Internal to the CPU kernels.
#pragma once
#include <cstdint>

namespace koan::kernels::pool2x2 {

// out (oh x ow) and taps from the plane x (h x w), 2 * oh <= h, 2 * ow <= w: the max of each
// window, the first tap on ties, NaN wins (max_pool2d's rule).
template <class T>
void forward_plane(const T* x, int64_t h, int64_t w, int64_t oh, int64_t ow, T* out, uint8_t* taps);

// gx (h x w), every element written once: gy at each window's tap, 0 elsewhere (the rest of the
// window, and the last row / column that an odd size leaves out).
template <class T>
void backward_plane(const T* gy, const uint8_t* taps, int64_t h, int64_t w, int64_t oh, int64_t ow, T* gx);

}  // namespace koan::kernels::pool2x2
