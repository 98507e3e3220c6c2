// Reduction kernels over any set of dims.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

enum class ReduceOp { Sum, Prod, Max, Min, Any, All };

// out has `in`'s shape with each reduced dim set to 1 (keepdim form), out's dtype (sum of
// integers accumulates in int64; floats accumulate in double).  dims sorted, unique.
void reduce(ReduceOp op, const Tensor& in, const std::vector<int64_t>& dims, const Tensor& out);
// Max or min along one dim with the index of the first extreme (NaN counts as the extreme, as in
// PyTorch).  values and indices (int64) have keepdim shape.
void reduce_with_index(bool is_max, const Tensor& in, int64_t dim, const Tensor& values,
                       const Tensor& indices);

}  // namespace koan::kernels
