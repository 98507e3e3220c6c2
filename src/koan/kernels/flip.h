// Reversing copy: dst = src with the listed dims traversed backwards.  Layouts keep strides
// non-negative, so a flip cannot be a view; this kernel walks the source with negated strides.
#pragma once
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::kernels {

// dst (contiguous, src's shape and dtype) = src reversed along `dims` (wrapped, unique).
void flip(const Tensor& src, const Tensor& dst, const std::vector<int64_t>& dims);

}  // namespace koan::kernels
