// 2-D pooling kernels on contiguous (planes, h, w) tensors, planes = n * c, parallel over planes.
//
//   kernels::PoolGeom g{.planes = n * c, .h = 28, .w = 28, .oh = 14, .ow = 14, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
//   kernels::max_pool2d(x, g, out, indices);
#pragma once
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::kernels {

struct PoolGeom {
  int64_t planes = 1, h = 1, w = 1, oh = 1, ow = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};

// out = the max over each window (padding never wins; NaN propagates); indices (int64) = the
// argmax as a flat position r * w + q in its plane, the first one on ties.  Where
// max_pool2d_has_taps(g) (2x2 windows, stride 2, no padding or dilation), indices may instead be
// uint8 "taps", the argmax's place in its window (0 1 / 2 3): an eighth of the memory traffic,
// for callers that only need the backward pass.
void max_pool2d(const Tensor& x, const PoolGeom& g, const Tensor& out, const Tensor& indices);
bool max_pool2d_has_taps(const PoolGeom& g);
// gx (planes, h, w) = 0, then gx[plane, indices] += gy: the gradient goes to the argmax.
// indices as max_pool2d wrote them (int64 positions or uint8 taps).
void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const PoolGeom& g, const Tensor& gx);

// Windows along one axis for averaging: output i averages input [begin[i], end[i]) and divides
// by count[i] (the row and column counts multiply).  avg_pool2d and adaptive_avg_pool2d both
// reduce to this.
struct AvgWindows {
  std::vector<int64_t> begin, end;
  std::vector<double> count;
};
// out[p, i, j] = sum of x[p, rows i, cols j] / (rows.count[i] * cols.count[j]).
void window_avg(const Tensor& x, const AvgWindows& rows, const AvgWindows& cols, const Tensor& out);
// Its adjoint: gx (planes, h, w) = 0, then each gy[p, i, j] / count spread over its window.
void window_avg_adjoint(const Tensor& gy, const AvgWindows& rows, const AvgWindows& cols, const Tensor& gx);

}  // namespace koan::kernels
