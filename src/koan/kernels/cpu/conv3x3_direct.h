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

// Up to this many input channels automatic takes these tiles for the plain convolution too.
// Measured at batch 64 with bench_cnn_layers (BM_ConvForward, BM_ConvBackward with the input
// gradient; im2col -> direct, ms, 1 / 2 threads, two rounds):
//   1 channel, 28 x 28 -> 32:  forward 0.84-1.01 -> 0.84-0.87 / 0.48-0.51 -> 0.43-0.48,
//                              backward 1.74-2.02 -> 1.14-1.39 / 1.10 -> 0.64-0.84;
//   3 channels, 28 x 28 -> 32: forward 1.06-1.53 -> 1.13-1.28 / 0.68-0.81 -> 0.73-1.05,
//                              backward 3.05 -> 2.71 / 1.99 -> 1.44;
//   7 channels, 13 x 13 -> 64: forward 0.81-0.97 -> 1.04-1.08 / 0.44-0.51 -> 0.61-0.78,
//                              backward 1.92 -> 3.01 / 1.31 -> 1.39.
// im2col's products are deep enough from 3 channels on; with no pooling to fuse, the tiles gain
// only where they are very shallow.
inline constexpr int64_t kMaxPlainChannels = 2;

// The plain convolution with the same tiles covering every output (the last tile row or column
// half outside for odd sizes): y = conv(x, w) + b, then the ReLU when relu, as
// winograd::conv_forward.  Each tile's four outputs are written to the output plane.
template <class T>
void conv_forward(const T* x, const T* w, const T* b, const ConvGeom& g, bool relu, T* y);

// Its backward, as winograd::conv_backward: gy masked by relu_out > 0 where relu_out is not null;
// gw always, gx and gb where not null.  Every output of a tile has a gradient here, so the weight
// gradient takes four multiply-adds per kernel position, and the input gradient sums up to four
// weights per patch position.
template <class T>
void conv_backward(const T* gy, const T* relu_out, const T* x, const T* w, const ConvGeom& g, T* gx, T* gw, T* gb);

}  // namespace koan::kernels::direct3x3
