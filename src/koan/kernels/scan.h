// Scans (prefix sums) along one dim.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

// out[..., i, ...] = sum of in[..., j, ...] for j <= i (reverse: j >= i) along dim.  in and out
// contiguous of one shape; out is in's dtype for floats, int64 for integers and bool.  Floats
// accumulate in double, as PyTorch's CPU cumsum.
void cumsum(const Tensor& in, int64_t dim, bool reverse, const Tensor& out);

}  // namespace koan::kernels
