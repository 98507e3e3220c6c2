#include "koan/ops/reduce.h"

#include <algorithm>

#include "koan/kernels/reduce.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;
using kernels::ReduceOp;

namespace ops_detail {
std::vector<int64_t> reduce_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
  std::vector<int64_t> r;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) r.push_back(d);
    return r;
  }
  for (int64_t d : dims) r.push_back(wrap_dim(d, ndim, op));
  std::sort(r.begin(), r.end());
  KOAN_CHECK(std::adjacent_find(r.begin(), r.end()) == r.end(), ValueError, op, ": dim appears ",
             "more than once in ", dims);
  if (ndim == 0) r.clear();
  return r;
}

Shape reduced_shape(const Shape& s, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    bool red = std::binary_search(dims.begin(), dims.end(), d);
    if (!red) out.push_back(s[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}
}  // namespace ops_detail

namespace {

// Runs a reduction kernel into keepdim form, then drops the reduced dims unless keepdim.
Tensor reduce_raw(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, DType out_dt) {
  Tensor out = new_output(reduced_shape(x.shape(), dims, true), out_dt);
  kernels::reduce(op, x, dims, out);
  return keepdim ? out : alias_with_layout(out, Layout::contiguous(reduced_shape(x.shape(), dims, false)));
}

DType sum_dtype(DType t) { return is_floating(t) ? t : DType::Int64; }

// Gradient of a reduction over `dims`: reshape back to keepdim form and broadcast.
Tensor unreduce(const Tensor& g, const Shape& in_shape, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor gk = keepdim ? g : reshape(g, reduced_shape(in_shape, dims, true));
  return expand(gk, in_shape);
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  auto dims = reduce_dims(dims_in, x.dim(), "sum");
  Tensor out = reduce_raw(ReduceOp::Sum, x, dims, keepdim, sum_dtype(x.dtype()));
  if (autograd::needs_grad({&x})) {
    Shape in = x.shape();
    autograd::record("SumBackward", {x}, {out}, [in, dims, keepdim](FunctionNode&, Grads& g) {
      return Grads{unreduce(g[0], in, dims, keepdim)};
    });
  }
  return out;
}
Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, "mean: needs a floating dtype, got ",
             name(x.dtype()), "; convert with to(DType::Float32) first");
  auto dims = reduce_dims(dims_in, x.dim(), "mean");
  int64_t n = 1;
  for (auto d : dims) n *= x.shape()[d];
  return div(sum(x, dims, keepdim), static_cast<double>(n));
}
Tensor mean(const Tensor& x) { return mean(x, {}, false); }

namespace {
// Gradient of a (values, indices) reduction: g placed at the selected index along dim, zero
// elsewhere.  Written as a one-hot mask so it is differentiable again.
Tensor index_grad_scatter(const Tensor& g, const Tensor& idx, const Shape& in, int64_t dim, bool keepdim) {
  if (in.empty()) return reshape(g, in);
  Tensor gk = keepdim ? g : unsqueeze(g, dim);
  Tensor ik = keepdim ? idx : unsqueeze(idx, dim);
  Shape pos_shape(in.size(), 1);
  pos_shape[dim] = in[dim];
  Tensor pos = reshape(arange(in[dim]), pos_shape);
  Tensor mask = to(eq(pos, ik), g.dtype());
  return mul(expand(gk, in), mask);
}

Tensor extreme_all(const Tensor& x, bool is_max) {
  KOAN_CHECK(x.numel() > 0, ValueError, is_max ? "max" : "min",
             ": cannot reduce an empty tensor (no identity); pass a dim or check the input");
  auto dims = reduce_dims({}, x.dim(), is_max ? "max" : "min");
  Tensor out = reduce_raw(is_max ? ReduceOp::Max : ReduceOp::Min, x, dims, false, x.dtype());
  if (autograd::needs_grad({&x})) {
    autograd::record(is_max ? "MaxBackward" : "MinBackward", {x}, {out},
                     [sx = SavedTensor(x, false), sy = SavedTensor(out, true)](FunctionNode& self, Grads& g) {
                       Tensor xv = sx.unpack(self.self()), yv = detach(sy.unpack(self.self()));
                       Tensor mask = to(eq(detach(xv), yv), g[0].dtype());
                       return Grads{mul(div(mask, sum(mask)), g[0])};
                     });
  }
  return out;
}

std::pair<Tensor, Tensor> extreme_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_max) {
  const char* name = is_max ? "max" : "min";
  dim = wrap_dim(dim, x.dim(), name);
  Tensor xx = x.dim() == 0 ? reshape(x, {1}) : x;
  KOAN_CHECK(xx.shape()[dim] > 0, ValueError, name, ": cannot reduce dim ", dim, " of size 0");
  Shape ks = reduced_shape(xx.shape(), {dim}, true);
  Tensor values = new_output(ks, x.dtype()), indices = new_output(ks, DType::Int64);
  kernels::reduce_with_index(is_max, xx, dim, values, indices);
  Shape os = x.dim() == 0 ? Shape{} : reduced_shape(xx.shape(), {dim}, keepdim);
  values = alias_with_layout(values, Layout::contiguous(os));
  indices = alias_with_layout(indices, Layout::contiguous(os));
  values.impl()->view_base.reset();
  indices.impl()->view_base.reset();
  if (autograd::needs_grad({&x})) {
    Shape in = x.shape();
    autograd::record(is_max ? "MaxBackward" : "MinBackward", {x}, {values},
                     [in, dim, keepdim, idx = indices](FunctionNode&, Grads& g) {
                       return Grads{index_grad_scatter(g[0], idx, in, dim, keepdim)};
                     });
  }
  return {values, indices};
}
}  // namespace

Tensor max(const Tensor& x) { return extreme_all(x, true); }
Tensor min(const Tensor& x) { return extreme_all(x, false); }
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, true); }
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, false); }

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  if (!dim) return max(detach(reshape(x, {-1})), 0, false).second;
  return max(detach(x), *dim, keepdim).second;
}
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  if (!dim) return min(detach(reshape(x, {-1})), 0, false).second;
  return min(detach(x), *dim, keepdim).second;
}

}  // namespace koan
