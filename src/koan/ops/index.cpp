#include "koan/ops/index.h"

#include "koan/kernels/elementwise.h"
#include "koan/kernels/index.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/inplace.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

namespace {

void check_index_dtype(const Tensor& index, const char* op) {
  KOAN_CHECK(index.defined(), ValueError, op, ": index is an undefined tensor");
  KOAN_CHECK(index.dtype() == DType::Int64, DTypeError, op, ": index must be int64, got ",
             name(index.dtype()));
}

void check_same_dtype(const Tensor& x, const Tensor& src, const char* op) {
  KOAN_CHECK(x.dtype() == src.dtype(), DTypeError, op, ": self (", name(x.dtype()), ") and src (",
             name(src.dtype()), ") must have the same dtype");
}

// A 1-D (or 0-d) index along `dim`, as a tensor of `shape` that walks it along dim only.
Tensor expand_along(const Tensor& index, const Shape& shape, int64_t dim) {
  Strides st(shape.size(), 0);
  st[dim] = index.dim() == 0 ? 0 : index.strides()[0];
  return alias_with_layout(index, Layout{shape, st, index.offset()});
}

Tensor fresh_copy(const Tensor& x) {
  Tensor out = new_output(x.shape(), x.dtype());
  kernels::copy(x, out);
  return out;
}

// Checks of gather/scatter: index has x's dims and fits inside x off `dim` (and inside src).
int64_t check_scatter_shapes(const Tensor& x, int64_t dim, const Tensor& index, const Tensor* src,
                             const char* op) {
  check_index_dtype(index, op);
  KOAN_CHECK(x.dim() >= 1, ShapeError, op, ": self must have at least 1 dim, got a 0-d tensor");
  dim = wrap_dim(dim, x.dim(), op);
  KOAN_CHECK(index.dim() == x.dim(), ShapeError, op, ": index ", index.shape(), " must have as many dims as self ",
             x.shape());
  if (src) {
    check_same_dtype(x, *src, op);
    KOAN_CHECK(src->dim() == x.dim(), ShapeError, op, ": src ", src->shape(), " must have as many dims as self ",
               x.shape());
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    KOAN_CHECK(d == dim || index.shape()[d] <= x.shape()[d], ShapeError, op, ": index ", index.shape(),
               " is larger than self ", x.shape(), " in dim ", d, " (only dim ", dim, " may differ)");
    KOAN_CHECK(!src || index.shape()[d] <= src->shape()[d], ShapeError, op, ": index ", index.shape(),
               " is larger than src ", src->shape(), " in dim ", d);
  }
  return dim;
}

// src cut down to index's shape (a view, so its gradient lands in the right place).
Tensor fit_to(const Tensor& src, const Shape& shape) {
  Tensor s = src;
  for (int64_t d = 0; d < s.dim(); ++d)
    if (s.shape()[d] != shape[d]) s = narrow(s, d, 0, shape[d]);
  return s;
}

Tensor scatter_impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src_in,
                    kernels::ScatterMode mode, const char* op) {
  dim = check_scatter_shapes(x, dim, index, &src_in, op);
  Tensor src = fit_to(src_in, index.shape());
  Tensor out = fresh_copy(x);
  kernels::scatter(out, dim, index, src, mode, op);
  if (autograd::needs_grad({&x, &src})) {
    bool add = mode == kernels::ScatterMode::Add;
    autograd::record(add ? "ScatterAddBackward" : "ScatterBackward", {x, src}, {out},
                     [dim, add, si = SavedTensor(index, false)](FunctionNode& self, Grads& g) {
                       Tensor idx = si.unpack(self.self());
                       return Grads{add ? g[0] : scatter(g[0], dim, idx, 0.0), gather(g[0], dim, idx)};
                     });
  }
  return out;
}

// Indices of x[indices]: a single bool mask becomes one int64 index per mask dim.
std::vector<Tensor> resolve_indices(const Tensor& x, const std::vector<Tensor>& indices, const char* op) {
  KOAN_CHECK(x.defined(), ValueError, op, ": self is an undefined tensor");
  KOAN_CHECK(!indices.empty(), ValueError, op, ": needs at least one index tensor");
  for (auto& t : indices) KOAN_CHECK(t.defined(), ValueError, op, ": an index is an undefined tensor");
  std::vector<Tensor> idx = indices;
  if (idx.size() == 1 && idx[0].dtype() == DType::Bool) {
    const Tensor& m = idx[0];
    KOAN_CHECK(m.dim() >= 1 && m.dim() <= x.dim(), IndexError, op, ": mask ", m.shape(),
               " must have between 1 and ", x.dim(), " dims to index self ", x.shape());
    for (int64_t d = 0; d < m.dim(); ++d)
      KOAN_CHECK(m.shape()[d] == x.shape()[d], IndexError, op, ": mask ", m.shape(), " does not match self ",
                 x.shape(), " in dim ", d);
    idx = kernels::nonzero(m);
  }
  for (auto& t : idx)
    KOAN_CHECK(t.dtype() == DType::Int64, DTypeError, op,
               ": indices must be int64 tensors (or a single bool mask), got ", name(t.dtype()));
  KOAN_CHECK(static_cast<int64_t>(idx.size()) <= x.dim(), IndexError, op, ": too many indices (",
             idx.size(), ") for self of shape ", x.shape());
  return idx;
}

Shape broadcast_all(const std::vector<Tensor>& idx, const char* op) {
  Shape b = idx[0].shape();
  for (size_t j = 1; j < idx.size(); ++j) b = broadcast_shapes(b, idx[j].shape(), op);
  return b;
}

std::vector<Tensor> expand_all(const std::vector<Tensor>& idx, const Shape& b) {
  std::vector<Tensor> r;
  for (auto& t : idx) r.push_back(alias_with_layout(t, koan::expand(t.layout(), b)));
  return r;
}

// B + x.shape[k:]: the shape x[indices] has.
Shape indexed_shape(const Tensor& x, const Shape& b, size_t k) {
  Shape s = b;
  s.insert(s.end(), x.shape().begin() + k, x.shape().end());
  return s;
}

// Indices resolved, values checked and expanded to the indexed shape: ready for the kernel.
struct PutArgs {
  std::vector<Tensor> idx, idx_e;
  Tensor values_e;
};
PutArgs prepare_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values, const char* op) {
  PutArgs a;
  a.idx = resolve_indices(x, indices, op);
  KOAN_CHECK(values.defined(), ValueError, op, ": values is an undefined tensor");
  check_same_dtype(x, values, op);
  Shape b = broadcast_all(a.idx, op);
  Shape target = indexed_shape(x, b, a.idx.size());
  KOAN_CHECK(broadcast_shapes(values.shape(), target, op) == target, ShapeError, op, ": values ",
             values.shape(), " cannot be broadcast to the indexed shape ", target);
  a.idx_e = expand_all(a.idx, b);
  a.values_e = alias_with_layout(values, koan::expand(values.layout(), target));
  return a;
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_index_dtype(index, "index_select");
  KOAN_CHECK(index.dim() <= 1, ShapeError, "index_select: index must be 0-d or 1-D, got shape ", index.shape());
  KOAN_CHECK(x.dim() >= 1, ShapeError, "index_select: self must have at least 1 dim, got a 0-d tensor");
  dim = wrap_dim(dim, x.dim(), "index_select");
  Shape shape = x.shape();
  shape[dim] = index.numel();
  Tensor out = new_output(shape, x.dtype());
  kernels::gather(x, dim, expand_along(index, shape, dim), out, "index_select");
  if (autograd::needs_grad({&x})) {
    Shape in = x.shape();
    autograd::record("IndexSelectBackward", {x}, {out},
                     [in, dim, si = SavedTensor(index, false)](FunctionNode& self, Grads& g) {
                       return Grads{index_add(zeros(in, {.dtype = g[0].dtype()}), dim, si.unpack(self.self()), g[0])};
                     });
  }
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = check_scatter_shapes(x, dim, index, nullptr, "gather");
  Tensor out = new_output(index.shape(), x.dtype());
  kernels::gather(x, dim, index, out, "gather");
  if (autograd::needs_grad({&x})) {
    Shape in = x.shape();
    autograd::record("GatherBackward", {x}, {out},
                     [in, dim, si = SavedTensor(index, false)](FunctionNode& self, Grads& g) {
                       return Grads{scatter_add(zeros(in, {.dtype = g[0].dtype()}), dim, si.unpack(self.self()), g[0])};
                     });
  }
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_impl(x, dim, index, src, kernels::ScatterMode::Assign, "scatter");
}
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, Scalar value) {
  check_index_dtype(index, "scatter");
  return scatter(x, dim, index, full(index.shape(), value, {.dtype = x.dtype()}));
}
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_impl(x, dim, index, src, kernels::ScatterMode::Add, "scatter_add");
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src_in, Scalar alpha) {
  const char* op = "index_add";
  check_index_dtype(index, op);
  KOAN_CHECK(index.dim() <= 1, ShapeError, op, ": index must be 0-d or 1-D, got shape ", index.shape());
  KOAN_CHECK(x.dim() >= 1, ShapeError, op, ": self must have at least 1 dim, got a 0-d tensor");
  check_same_dtype(x, src_in, op);
  dim = wrap_dim(dim, x.dim(), op);
  Shape want = x.shape();
  want[dim] = index.numel();
  KOAN_CHECK(src_in.shape() == want, ShapeError, op, ": src ", src_in.shape(), " must have shape ", want,
             " (self ", x.shape(), " with dim ", dim, " of the index's length ", index.numel(), ")");
  Tensor src = alpha.to_double() == 1 ? src_in : mul(src_in, alpha);
  Tensor out = fresh_copy(x);
  kernels::scatter(out, dim, expand_along(index, want, dim), src, kernels::ScatterMode::Add, op);
  if (autograd::needs_grad({&x, &src})) {
    autograd::record("IndexAddBackward", {x, src}, {out},
                     [dim, si = SavedTensor(index, false)](FunctionNode& self, Grads& g) {
                       return Grads{g[0], index_select(g[0], dim, si.unpack(self.self()))};
                     });
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  KOAN_CHECK(mask.defined() && mask.dtype() == DType::Bool, DTypeError, "masked_fill: mask must be bool, got ",
             mask.defined() ? name(mask.dtype()) : "an undefined tensor");
  KOAN_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(), ShapeError,
             "masked_fill: mask ", mask.shape(), " cannot be broadcast to self ", x.shape());
  // where's backward zeroes the gradient at the filled positions.
  return where(mask, scalar_tensor(value, x.dtype()), x);
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  KOAN_CHECK(mask.defined() && mask.dtype() == DType::Bool, DTypeError, "masked_select: mask must be bool, got ",
             mask.defined() ? name(mask.dtype()) : "an undefined tensor");
  Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  Tensor m = alias_with_layout(mask, koan::expand(mask.layout(), shape));
  return index(reshape(broadcast_to(x, shape), {-1}), {reshape(m, {-1})});
}

Tensor index(const Tensor& x, const std::vector<Tensor>& indices) {
  const char* op = "index";
  std::vector<Tensor> idx = resolve_indices(x, indices, op);
  Shape b = broadcast_all(idx, op);
  size_t k = idx.size();
  Shape lead(x.shape().begin(), x.shape().begin() + k);
  Tensor flat = new_output(b, DType::Int64);
  kernels::linear_index(expand_all(idx, b), lead, flat, op);
  Shape rows{numel(lead)};
  rows.insert(rows.end(), x.shape().begin() + k, x.shape().end());
  Tensor picked = index_select(reshape(x, rows), 0, reshape(flat, {-1}));
  return reshape(picked, indexed_shape(x, b, k));
}

Tensor index_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  PutArgs a = prepare_put(x, indices, values, "index_put");
  Tensor out = fresh_copy(x);
  kernels::index_put(out, a.idx_e, a.values_e, accumulate, "index_put");
  if (autograd::needs_grad({&x, &values})) {
    std::vector<SavedTensor> saved;
    for (auto& t : a.idx) saved.emplace_back(t, false);
    Shape vs = values.shape();
    autograd::record("IndexPutBackward", {x, values}, {out},
                     [saved, accumulate, vs](FunctionNode& self, Grads& g) {
                       std::vector<Tensor> idx;
                       for (auto& s : saved) idx.push_back(s.unpack(self.self()));
                       Tensor gx = accumulate ? g[0]
                                              : index_put(g[0], idx, scalar_tensor(0, g[0].dtype()), false);
                       return Grads{gx, sum_to(index(g[0], idx), vs)};
                     });
  }
  return out;
}

Tensor& index_put_(Tensor& x, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  if (!(GradMode::enabled() && (x.requires_grad() || (values.defined() && values.requires_grad())))) {
    check_inplace(x, "index_put_");
    PutArgs a = prepare_put(x, indices, values, "index_put_");
    // values may alias x (x[i] = x[j]): read from a copy so no write lands before its read.
    Tensor v = a.values_e;
    if (v.storage()->data() == x.storage()->data()) v = fresh_copy(v);
    kernels::index_put(x, a.idx_e, v, accumulate, "index_put_");
    x.bump_version();
    return x;
  }
  return apply_inplace(
      x, "index_put_", [&](const Tensor& s) { return index_put(s, indices, values, accumulate); }, {&values});
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  check_index_dtype(indices, "one_hot");
  if (num_classes < 0) {
    KOAN_CHECK(num_classes == -1, ValueError, "one_hot: num_classes must be -1 (infer) or >= 0, got ", num_classes);
    KOAN_CHECK(indices.numel() > 0, ValueError,
               "one_hot: cannot infer num_classes from an empty tensor; pass num_classes");
    num_classes = max(indices).item<int64_t>() + 1;
  }
  kernels::check_index_range(indices, num_classes, "one_hot", indices.dim(), false);
  Tensor hit = eq(unsqueeze(detach(indices), -1), arange(num_classes));
  return to(hit, DType::Int64);
}

}  // namespace koan
