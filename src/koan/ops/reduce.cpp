#include "koan/ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "koan/kernels/elementwise.h"
#include "koan/kernels/reduce.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"

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

// Runs a reduction kernel into a fresh output.  Keepdim or not, the kernel writes the same
// contiguous memory, so the output gets its final shape directly (no view of a temporary: a view
// would make in-place ops on the result wrongly refuse it).
Tensor reduce_raw(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, DType out_dt) {
  Tensor out = new_output(reduced_shape(x.shape(), dims, keepdim), out_dt);
  kernels::reduce(op, x, dims, out);
  return out;
}

int64_t reduced_numel(const Shape& s, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (auto d : dims) n *= s[d];
  return n;
}

// Refuses a reduction without identity (max, min, inf-norm) over an empty slice.
void check_nonempty(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  if (x.dim() == 0) return;
  for (auto d : dims)
    KOAN_CHECK(x.shape()[d] > 0, ValueError, op, ": cannot reduce dim ", d, " of size 0 in shape ",
               x.shape(), " (the reduction has no identity)");
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
  return div(sum(x, dims, keepdim), static_cast<double>(reduced_numel(x.shape(), dims)));
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


// ---- amax / amin

namespace {
Tensor extreme_dims(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim, bool is_max) {
  const char* op = is_max ? "amax" : "amin";
  auto dims = reduce_dims(dims_in, x.dim(), op);
  check_nonempty(x, dims, op);
  Tensor out = reduce_raw(is_max ? ReduceOp::Max : ReduceOp::Min, x, dims, keepdim, x.dtype());
  if (autograd::needs_grad({&x})) {
    autograd::record(is_max ? "AmaxBackward" : "AminBackward", {x}, {out},
                     [sx = SavedTensor(x, false), sy = SavedTensor(out, true), dims, keepdim](FunctionNode& self, Grads& g) {
                       Tensor xv = detach(sx.unpack(self.self()));
                       Tensor yk = unreduce(detach(sy.unpack(self.self())), xv.shape(), dims, keepdim);
                       Tensor mask = to(eq(xv, yk), g[0].dtype());
                       Tensor share = div(mask, sum(mask, dims, true));
                       return Grads{mul(unreduce(g[0], xv.shape(), dims, keepdim), share)};
                     });
  }
  return out;
}
}  // namespace

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) { return extreme_dims(x, dims, keepdim, true); }
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) { return extreme_dims(x, dims, keepdim, false); }

// ---- prod

namespace {
// d prod / d x_i = product of the other elements.  Without zeros that is out / x.  With zeros,
// out / x is 0/0, so the rule is built from the non-zero product P (zeros replaced by 1) and the
// number c_i of zeros among the *other* elements: the gradient is P / x_i when c_i = 0, zero
// otherwise.  For c_i = 1 that zero is written as (sum of the zero entries except x_i), whose
// value is 0 but whose derivative is 1 toward the other zero, so the second derivative (the
// product of all but two elements) is exact as well.
Tensor prod_backward(const Tensor& g, const Tensor& x, const Tensor& y, const std::vector<int64_t>& dims,
                     bool keepdim) {
  const Shape& in = x.shape();
  Tensor gu = unreduce(g, in, dims, keepdim);
  Tensor nz = ne(detach(x), 0);
  bool has_zero = !all(nz).item<bool>();
  if (!has_zero) return div(mul(gu, unreduce(y, in, dims, keepdim)), x);
  Tensor z = to(logical_not(nz), x.dtype());           // constant 0/1 mask of the zeros
  Tensor xs = where(nz, x, 1.0);                          // zeros replaced by 1
  Tensor others = div(prod(xs, dims, true), xs);          // product of the other non-zeros
  Tensor ci = sub(sum(z, dims, true), z);                 // zeros among the other elements
  Tensor zero_part = sub(sum(mul(x, z), dims, true), mul(x, z));
  Tensor factor = where(ne(ci, 0), where(eq(ci, 1), zero_part, 0.0), 1.0);
  return mul(mul(gu, others), factor);
}
}  // namespace

Tensor prod(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  auto dims = reduce_dims(dims_in, x.dim(), "prod");
  Tensor out = reduce_raw(ReduceOp::Prod, x, dims, keepdim, sum_dtype(x.dtype()));
  if (autograd::needs_grad({&x})) {
    autograd::record("ProdBackward", {x}, {out},
                     [sx = SavedTensor(x, false), sy = SavedTensor(out, true), dims, keepdim](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       return Grads{prod_backward(g[0], sx.unpack(me), sy.unpack(me), dims, keepdim)};
                     });
  }
  return out;
}
Tensor prod(const Tensor& x) { return prod(x, {}, false); }

// ---- var / std

namespace {
Tensor var_std(const Tensor& x, const std::vector<int64_t>& dims_in, double correction, bool keepdim, bool is_std) {
  const char* op = is_std ? "std" : "var";
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, op, ": needs a floating dtype, got ", name(x.dtype()),
             "; convert with to(DType::Float32) first");
  KOAN_CHECK(!std::isnan(correction), ValueError, op, ": correction is NaN");
  auto dims = reduce_dims(dims_in, x.dim(), op);
  Tensor out = new_output(reduced_shape(x.shape(), dims, keepdim), x.dtype());
  kernels::var(x, dims, correction, is_std, out);
  if (autograd::needs_grad({&x})) {
    double denom = std::max(0.0, static_cast<double>(reduced_numel(x.shape(), dims)) - correction);
    // var: 2 (x - mean) / denom;  std: (x - mean) / (denom * std).
    autograd::record(is_std ? "StdBackward" : "VarBackward", {x}, {out},
                     [sx = SavedTensor(x, false), sy = SavedTensor(is_std ? out : Tensor(), true), dims,
                      keepdim, denom, is_std](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       Tensor xv = sx.unpack(me);
                       Tensor d = sub(xv, mean(xv, dims, true));
                       Tensor gu = unreduce(g[0], xv.shape(), dims, keepdim);
                       if (!is_std) return Grads{mul(mul(gu, d), 2.0 / denom)};
                       Tensor yu = unreduce(sy.unpack(me), xv.shape(), dims, keepdim);
                       return Grads{div(mul(gu, d), mul(yu, denom))};
                     });
  }
  return out;
}
}  // namespace

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return var_std(x, dims, correction, keepdim, false);
}
Tensor std(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return var_std(x, dims, correction, keepdim, true);
}

// ---- logsumexp

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  Tensor xin = is_floating(x.dtype()) ? x : to(x, kDefaultFloat);
  auto dims = reduce_dims(dims_in, xin.dim(), "logsumexp");
  Tensor out;
  {
    NoGradGuard no_grad;
    Tensor xd = detach(xin);
    Tensor m = reduce_raw(ReduceOp::Max, xd, dims, true, xin.dtype());
    // An infinite max (all -inf, or a +inf) would make x - m NaN: shift by 0 there instead.
    m = where(ne(abs(m), std::numeric_limits<double>::infinity()), m, 0.0);
    Tensor s = reduce_raw(ReduceOp::Sum, exp(sub(xd, m)), dims, true, xin.dtype());
    out = add(log(s), m);
    if (!keepdim) {
      out = alias_with_layout(out, Layout::contiguous(reduced_shape(xin.shape(), dims, false)));
      out.impl()->view_base.reset();  // a fresh tensor, not a view of anything the user holds
    }
  }
  if (autograd::needs_grad({&xin})) {
    // d/dx = exp(x - out): the softmax over the reduced dims.
    autograd::record("LogsumexpBackward", {xin}, {out},
                     [sx = SavedTensor(xin, false), sy = SavedTensor(out, true), dims, keepdim](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       Tensor xv = sx.unpack(me);
                       Tensor yu = unreduce(sy.unpack(me), xv.shape(), dims, keepdim);
                       return Grads{mul(unreduce(g[0], xv.shape(), dims, keepdim), exp(sub(xv, yu)))};
                     });
  }
  return out;
}

// ---- norm

Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims_in, bool keepdim) {
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, "norm: needs a floating dtype, got ", name(x.dtype()),
             "; convert with to(DType::Float32) first");
  KOAN_CHECK(!std::isnan(p), ValueError, "norm: p is NaN");
  auto dims = reduce_dims(dims_in, x.dim(), "norm");
  const bool inf = std::isinf(p);
  if (inf) check_nonempty(x, dims, "norm");
  Tensor out;
  if (p == 2) {
    out = reduce_raw(ReduceOp::SumSq, x, dims, keepdim, x.dtype());
    kernels::unary(kernels::UnaryOp::Sqrt, out, out);
  } else if (p == 1) {
    out = reduce_raw(ReduceOp::SumAbs, x, dims, keepdim, x.dtype());
  } else if (inf) {
    out = reduce_raw(p > 0 ? ReduceOp::MaxAbs : ReduceOp::MinAbs, x, dims, keepdim, x.dtype());
  } else if (p == 0) {
    NoGradGuard no_grad;
    out = reduce_raw(ReduceOp::Sum, ne(detach(x), 0), dims, keepdim, x.dtype());
  } else {
    NoGradGuard no_grad;
    out = pow(reduce_raw(ReduceOp::Sum, pow(abs(detach(x)), p), dims, keepdim, x.dtype()), 1.0 / p);
  }
  if (autograd::needs_grad({&x})) {
    autograd::record("NormBackward", {x}, {out},
                     [sx = SavedTensor(x, false), sy = SavedTensor(out, true), dims, keepdim, p, inf](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       Tensor xv = sx.unpack(me);
                       const Shape& in = xv.shape();
                       Tensor gu = unreduce(g[0], in, dims, keepdim);
                       if (p == 0) return Grads{zeros_like(xv)};
                       if (p == 1) return Grads{mul(gu, sign(xv))};
                       Tensor yu = unreduce(sy.unpack(me), in, dims, keepdim);
                       if (inf) {  // to the extreme |x|, split evenly among ties
                         Tensor mask = to(eq(abs(detach(xv)), detach(yu)), xv.dtype());
                         Tensor share = div(mask, sum(mask, dims, true));
                         return Grads{mul(mul(gu, sign(xv)), share)};
                       }
                       // A zero norm means a zero slice: its gradient is 0 (as PyTorch), not 0/0.
                       Tensor ysafe = where(ne(detach(yu), 0), yu, 1.0);
                       if (p == 2) return Grads{div(mul(gu, xv), ysafe)};
                       // sign(x) |x|^(p-1) / norm^(p-1)
                       Tensor num = mul(sign(xv), pow(abs(xv), p - 1));
                       return Grads{mul(gu, div(num, pow(ysafe, p - 1)))};
                     });
  }
  return out;
}

// ---- any / all

Tensor any(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  return reduce_raw(ReduceOp::Any, x, reduce_dims(dims_in, x.dim(), "any"), keepdim, DType::Bool);
}
Tensor any(const Tensor& x) { return any(x, {}, false); }
Tensor all(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  return reduce_raw(ReduceOp::All, x, reduce_dims(dims_in, x.dim(), "all"), keepdim, DType::Bool);
}
Tensor all(const Tensor& x) { return all(x, {}, false); }

}  // namespace koan
