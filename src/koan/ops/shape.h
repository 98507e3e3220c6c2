// Views and layout ops.  Views share storage with their input (no copy); their backward rules
// map the gradient back through the inverse layout change.
//
//   Tensor y = x.view({2, -1}).transpose(0, 1);
//   Tensor z = koan::cat({a, b}, 1);
#pragma once
#include <optional>

#include "koan/tensor/tensor.h"

namespace koan {

Tensor view(const Tensor& x, const Shape& shape);      // error when the strides cannot express it
Tensor reshape(const Tensor& x, const Shape& shape);   // a view when possible, else a copy
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor t(const Tensor& x);                             // 2-D transpose (0-d and 1-D unchanged)
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor unflatten(const Tensor& x, int64_t dim, const Shape& sizes);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor detach(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);

}  // namespace koan
