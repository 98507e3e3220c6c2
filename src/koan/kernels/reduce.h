// Reduction kernels over any set of dims.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

// SumSq, SumAbs, MaxAbs, MinAbs: the vector norms' accumulations (sum x^2, sum |x|, max |x|,
// min |x|), fused so a norm is one pass.
enum class ReduceOp { Sum, Prod, Max, Min, Any, All, SumSq, SumAbs, MaxAbs, MinAbs };

// out is contiguous and holds one element per kept index, in order: `in`'s shape with each
// reduced dim set to 1 (keepdim form) or removed -- the memory is the same.  Integer sums and
// products accumulate in int64, floats in double; Any/All write bool.  dims sorted, unique.  An
// empty reduction gives the identity (0, 1, -inf, +inf, false, true).
void reduce(ReduceOp op, const Tensor& in, const std::vector<int64_t>& dims, const Tensor& out);
// Max or min along one dim with the index of the first extreme (NaN counts as the extreme, as in
// PyTorch).  values and indices (int64) have keepdim shape.
void reduce_with_index(bool is_max, const Tensor& in, int64_t dim, const Tensor& values,
                       const Tensor& indices);
// Variance (or its square root) over dims: sum((x - mean)^2) / (N - correction), two passes in
// double.  Floating in and out of the same dtype; out laid out as for reduce().
void var(const Tensor& in, const std::vector<int64_t>& dims, double correction, bool take_sqrt,
         const Tensor& out);

}  // namespace koan::kernels
