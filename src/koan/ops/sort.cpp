#include "koan/ops/sort.h"

#include <string_view>

#include "koan/kernels/index.h"
#include "koan/ops/common.h"
#include "koan/ops/index.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

namespace {

// The first k of each row along dim in order; values' gradient is scattered back to the rows'
// source positions (the only thing the rule reads is indices).
std::pair<Tensor, Tensor> sorted_prefix(const Tensor& x_in, int64_t dim, int64_t k, bool descending,
                                        const char* op) {
  KOAN_CHECK(x_in.defined(), ValueError, op, ": input is an undefined tensor");
  const bool scalar = x_in.dim() == 0;
  Tensor x = scalar ? reshape(x_in, {1}) : x_in;
  dim = wrap_dim(dim, x.dim(), op);
  const int64_t n = x.shape()[dim];
  if (k < 0) k = n;
  KOAN_CHECK(k <= n, ValueError, op, ": k = ", k, " is out of range for dim ", dim, " with size ", n);
  Shape shape = x.shape();
  shape[dim] = k;
  Tensor values = new_output(shape, x.dtype()), indices = new_output(shape, DType::Int64);
  kernels::sort(x, dim, k, descending, values, indices);
  if (autograd::needs_grad({&x})) {
    Shape in = x.shape();
    autograd::record(op == std::string_view("topk") ? "TopkBackward" : "SortBackward", {x}, {values},
                     [in, dim, si = SavedTensor(indices, false)](FunctionNode& self, Grads& g) {
                       return Grads{scatter_add(zeros(in, {.dtype = g[0].dtype()}), dim, si.unpack(self.self()), g[0])};
                     });
  }
  if (scalar) return {reshape(values, Shape{}), reshape(indices, Shape{})};
  return {values, indices};
}

}  // namespace

std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  return sorted_prefix(x, dim, -1, descending, "sort");
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  return sorted_prefix(detach(x), dim, -1, descending, "argsort").second;
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool /*sorted*/) {
  KOAN_CHECK(k >= 0, ValueError, "topk: k must be >= 0, got ", k);
  return sorted_prefix(x, dim, k, largest, "topk");
}

}  // namespace koan
