// Scans along a dim.
//
//   Tensor c = koan::cumsum(x, 1);   // c[i][j] = x[i][0] + ... + x[i][j]
#pragma once
#include "koan/tensor/tensor.h"

namespace koan {

// Running sum along dim; integer and bool inputs sum in int64 (as torch.cumsum).  The gradient
// is the running sum of the output gradient taken from the other end.
Tensor cumsum(const Tensor& x, int64_t dim);

}  // namespace koan
