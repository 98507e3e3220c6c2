// Sorting and top-k along one dim.  Values carry gradients (back to the positions they came
// from); indices are int64 and carry none.
//
//   auto [v, i] = koan::sort(x, -1, /*descending=*/true);
//   auto [top, where] = koan::topk(logits, 5);
//   Tensor order = koan::argsort(x, 0);
#pragma once
#include <utility>

#include "koan/tensor/tensor.h"

namespace koan {

// (values, indices) sorted along dim; stable: equal values keep their order.  NaN sorts as the
// largest value.
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The k largest (or smallest) along dim as (values, indices).  The result is always sorted
// (best first); `sorted = false` is accepted for PyTorch parity and gives the same result.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                               bool sorted = true);

}  // namespace koan
