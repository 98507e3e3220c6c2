// Winograd F(2x2, 3x3) for the fused convolution + ReLU + 2x2 max pooling of kernels/conv.h, and
// for the plain convolution (conv_forward / conv_backward, tiles over every output).  Internal to
// the CPU kernels: conv.cpp calls it when applies(g), or when a test asks for it.
//
// A 2x2 block of convolution outputs is exactly one pooling window, so the pooled plane is the
// grid of Winograd tiles: tile (i, j) reads the 4x4 input patch at rows 2i - ph.., columns
// 2j - pw.., and its four outputs are pooled at once.  Per output the products cost 16 / 4
// multiply-adds per (o, c) pair instead of 9, and only the 2 * (oh / 2) x 2 * (ow / 2) outputs the
// pooling reads are computed (the seed CNN's second layer: 100 of 121), so each of the three
// products of a training step shrinks from 2.23 to 0.82 million multiply-adds per sample.  They run as 16
// independent GEMMs, one per point of the 4x4 transform space, over a chunk of samples' tiles.
//
// The backward passes are the exact adjoints of the forward's linear maps (transposed transforms,
// transposed GEMMs), so the gradients are those of the function computed, as with im2col.  Values
// differ from the im2col path by rounding only (F(2x2, 3x3)'s transforms have coefficients 1 and
// 1/2); tests compare the two at float32 and float64 tolerances, and gradcheck runs in float64.
#pragma once
#include <cstdint>

#include "koan/kernels/conv.h"

namespace koan::kernels::winograd {

// 3x3 kernel, unit stride and dilation, one group, and enough input channels (8) that the 16
// small GEMMs and the transforms beat the direct tiles and im2col (measured: docs/PERFORMANCE.md).
bool applies(const ConvGeom& g);
// The shapes it can compute at all (applies without the channel threshold); tests force it there.
bool supports(const ConvGeom& g);

// out, taps (n, o, oh / 2, ow / 2) = max_pool2d(relu(conv(x, w) + b), 2) with max_pool2d's taps
// (the first of equal values).  b may be null.  Where keep is not null (kept_size(g) elements),
// the transformed input V is left there for the backward, which then need not compute it again.
template <class T>
void relu_pool_forward(const T* x, const T* w, const T* b, const ConvGeom& g, T* out, uint8_t* taps, T* keep);

// Its first-order backward from the pooled gradient gout: gw always, gx and gb where not null.
// The gradient reaches the tap of each window whose pooled value is > 0 (the ReLU's mask there).
// kept: what the forward left in keep for this x, or null.  Summed in a fixed order of sample
// blocks, so the result does not depend on the thread count.
template <class T>
void relu_pool_backward(const T* gout, const T* pooled, const uint8_t* taps, const T* x, const T* w,
                        const ConvGeom& g, T* gx, T* gw, T* gb, const T* kept);

// Elements of the forward's keep buffer: V, 16 * c values per tile.
int64_t kept_size(const ConvGeom& g);

// The plain convolution with the same tiles covering every output (an odd last row or column
// from a half-used tile): y (n, o, oh, ow) = conv(x, w) + b, then max(y, 0) when relu.
template <class T>
void conv_forward(const T* x, const T* w, const T* b, const ConvGeom& g, bool relu, T* y);
// Its first-order backward from gy (n, o, oh, ow), masked by relu_out > 0 where relu_out is not
// null: gw always, gx and gb where not null.  Thread-count independent, as relu_pool_backward.
template <class T>
void conv_backward(const T* gy, const T* relu_out, const T* x, const T* w, const ConvGeom& g, T* gx, T* gw, T* gb);

}  // namespace koan::kernels::winograd
