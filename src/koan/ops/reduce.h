// Reductions over any set of dims, with keepdim.
//
//   Tensor s = koan::sum(x, {0, 2}, /*keepdim=*/true);
//   auto [values, indices] = koan::max(x, 1);
//   Tensor v = koan::var(x, {1}, /*correction=*/0);        // population variance per row
//   Tensor n = koan::norm(x, 2, {-1}, /*keepdim=*/true);    // row lengths
//
// A dims list names each dim once (negative dims count from the end); an empty list means
// every dim.
#pragma once
#include <optional>
#include <utility>

#include "koan/tensor/tensor.h"

namespace koan {

// Sum of all elements; integer and bool inputs sum in int64 (as torch.sum).
Tensor sum(const Tensor& x);
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
// Largest / smallest values over dims (no indices); gradient split evenly among ties (torch.amax).
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// Product; integer and bool inputs multiply in int64.  The gradient is exact also where the
// input holds zeros (the product of the other elements, not out / x).
Tensor prod(const Tensor& x);
Tensor prod(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

// Variance and standard deviation: sum((x - mean)^2) / (N - correction).  correction = 1 is the
// unbiased estimate (torch's default), 0 the population one.  Floating inputs only.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1, bool keepdim = false);

// log(sum(exp(x))) over dims, computed as m + log(sum(exp(x - m))) with m the max, so it
// neither overflows nor underflows.  Integer inputs compute in the default float dtype.
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

// Vector p-norm over dims (torch.linalg.vector_norm): p = 2 (default), 1, any p > 0,
// +-infinity (max / min of |x|), 0 (count of non-zeros).  Floating inputs only.
Tensor norm(const Tensor& x, double p = 2, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// Whether any / all elements are non-zero; bool result, no gradient.
Tensor any(const Tensor& x);
Tensor any(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor all(const Tensor& x);
Tensor all(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

namespace ops_detail {
// Sorted, unique, wrapped dims; empty input means "all dims".
std::vector<int64_t> reduce_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);
// x's shape with `dims` set to 1 (keepdim) or removed.
Shape reduced_shape(const Shape& s, const std::vector<int64_t>& dims, bool keepdim);
}  // namespace ops_detail

}  // namespace koan
