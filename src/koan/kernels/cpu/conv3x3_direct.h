// Direct 3x3 convolution + ReLU + 2x2 max pooling for few input channels (the seed CNN's first
// layer: 1 channel).  Internal to the CPU kernels: conv.cpp calls it for the shapes Winograd
// supports (winograd.h) but with fewer than 8 input channels.
//
// With so few channels im2col's GEMM has a depth of 9 to 63 and runs far below the machine's
// peak (the first layer's forward at 32 GFLOP/s), and its 26x26 output plane is written and read
// back for the pooling.  Here each 2x2 output tile (= one pooling window) is computed in
// registers from its 4x4 input patch, 16 tiles per AVX-512 vector: 36 multiply-adds per input
// channel, then bias, ReLU and the pool.  The backward reads the same patches: each tile's
// gradient reaches only its tap, so the weight gradient takes, per kernel position, the patch
// value under the tap (three blends and a multiply-add), and the input gradient spreads the
// weights the same way.
#pragma once
#include <cstdint>

#include "koan/kernels/conv.h"

namespace koan::kernels::direct3x3 {

// out, taps = max_pool2d(relu(conv(x, w) + b), 2), as winograd::relu_pool_forward.
template <class T>
void relu_pool_forward(const T* x, const T* w, const T* b, const ConvGeom& g, T* out, uint8_t* taps);

// Its first-order backward, as winograd::relu_pool_backward: gw always, gx and gb where not null,
// summed in a fixed order of sample blocks.
template <class T>
void relu_pool_backward(const T* gout, const T* pooled, const uint8_t* taps, const T* x, const T* w,
                        const ConvGeom& g, T* gx, T* gw, T* gb);

}  // namespace koan::kernels::direct3x3
