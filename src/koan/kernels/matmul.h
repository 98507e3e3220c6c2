// Matrix products on oneDNN (float32) and OpenBLAS (float64).
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

// out[b] = a[b] @ b[b] for 3-D tensors (batch, rows, cols) of equal dtype and batch size.
// a and b may be transposed views (unit stride in either of the last two dims) or stride-0
// broadcast over the batch; anything else is copied to contiguous first.  out is contiguous.
// With accumulate, out += a @ b.
void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate = false);

// y (m, n) = x (m, k) w^T + bias: w is (n, k) as a Linear layer stores it, bias (n) or undefined.
// One GEMM, then the bias added to each row while it is in cache.  All contiguous, one floating
// dtype.
void linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y);
// linear's first-order backward for an output gradient g (m, n): gx (m, k) = g w and gw (n, k) =
// g^T x, each skipped when undefined.  All contiguous, one floating dtype.
void linear_backward(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& gx, const Tensor& gw);

}  // namespace koan::kernels
