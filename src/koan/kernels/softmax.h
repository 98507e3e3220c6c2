// Softmax and log-softmax along one dim, forward and backward, fused into one pass per row.
//
// Tensors are contiguous and viewed as [outer, n, inner] with `dim` the middle one, so the inner
// loops run along memory for any dim.  Floating dtypes only; sums accumulate in double.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

// out = softmax(in) or log_softmax(in) along dim (max-subtracted, so large logits are safe).
void softmax(const Tensor& in, int64_t dim, bool log, const Tensor& out);
// Input gradient from the output y and its gradient g:
//   softmax:      gx = y * (g - sum(g * y))
//   log_softmax:  gx = g - exp(y) * sum(g)
void softmax_backward(const Tensor& g, const Tensor& y, int64_t dim, bool log, const Tensor& gx);

}  // namespace koan::kernels
