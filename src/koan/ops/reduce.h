// Reductions over any set of dims, with keepdim.
//
//   Tensor s = koan::sum(x, {0, 2}, /*keepdim=*/true);
//   auto [values, indices] = koan::max(x, 1);
#pragma once
#include <optional>
#include <utility>

#include "koan/tensor/tensor.h"

namespace koan {

// Sum of all elements; integer and bool inputs sum in int64 (as torch.sum).
Tensor sum(const Tensor& x);
// Empty `dims` reduces nothing for sum over a list (use sum(x) for all), like torch.sum(x, []).
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Largest / smallest element (0-d); gradient goes to the extreme elements, split evenly on ties.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
// (values, indices) along dim; the gradient flows to the selected index.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

namespace ops_detail {
// Sorted, unique, wrapped dims; empty input means "all dims".
std::vector<int64_t> reduce_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);
// x's shape with `dims` set to 1 (keepdim) or removed.
Shape reduced_shape(const Shape& s, const std::vector<int64_t>& dims, bool keepdim);
}  // namespace ops_detail

}  // namespace koan
