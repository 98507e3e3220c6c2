#include "koan/ops/shape.h"

#include <functional>

#include "koan/kernels/elementwise.h"
#include "koan/ops/common.h"
#include "koan/ops/reduce.h"

namespace koan {
using namespace ops_detail;

namespace {
// A view op: alias with a new layout, and (if tracked) a backward rule.
template <class Backward>
Tensor make_view(const Tensor& x, Layout l, const char* name, Backward bw) {
  Tensor out = alias_with_layout(x, std::move(l));
  if (autograd::needs_grad({&x}))
    autograd::record(name, {x}, {out}, [bw](FunctionNode&, Grads& g) { return Grads{bw(g[0])}; });
  return out;
}
}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  Shape s = infer_size(shape, x.numel(), "view");
  auto l = try_view(x.layout(), s);
  KOAN_CHECK(l.has_value(), ShapeError, "view: size ", s, " is not compatible with input of shape ",
             x.shape(), " and strides ", x.strides(), "; use reshape (which copies) or contiguous()");
  Shape in = x.shape();
  return make_view(x, *l, "ViewBackward", [in](const Tensor& g) { return reshape(g, in); });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape s = infer_size(shape, x.numel(), "reshape");
  if (try_view(x.layout(), s)) return view(x, s);
  return view(contiguous(x), s);
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  return make_view(x, koan::transpose(x.layout(), d0, d1), "TransposeBackward",
                   [d0, d1](const Tensor& g) { return transpose(g, d0, d1); });
}

Tensor t(const Tensor& x) {
  KOAN_CHECK(x.dim() <= 2, ShapeError, "t: expects a tensor with <= 2 dims, got shape ", x.shape(),
             "; use transpose(d0, d1) or permute");
  return x.dim() < 2 ? x : transpose(x, 0, 1);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Layout l = koan::permute(x.layout(), dims);
  std::vector<int64_t> inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inv[wrap_dim(dims[i], x.dim(), "permute")] = static_cast<int64_t>(i);
  return make_view(x, std::move(l), "PermuteBackward", [inv](const Tensor& g) { return permute(g, inv); });
}

namespace {
// Backward of a view that picks a sub-block (narrow, slice, select): the gradient embedded in
// zeros of the input's shape at the same place.  Recorded itself, so it can be differentiated
// again: its own backward is the same view of the incoming gradient.
using LayoutFn = std::function<Layout(const Layout&)>;
using ViewFn = std::function<Tensor(const Tensor&)>;

Tensor embed(const Tensor& g, const Shape& in_shape, const LayoutFn& fn, const ViewFn& view_fn) {
  Tensor z = zeros(in_shape, {.dtype = g.dtype()});
  kernels::copy(g, alias_with_layout(z, fn(z.layout())));
  z.impl()->view_base.reset();
  if (autograd::needs_grad({&g}))
    autograd::record("EmbedBackward", {g}, {z},
                     [view_fn](FunctionNode&, Grads& gr) { return Grads{view_fn(gr[0])}; });
  return z;
}

Tensor pick_view(const Tensor& x, const char* name, LayoutFn fn, ViewFn view_fn) {
  Shape in = x.shape();
  return make_view(x, fn(x.layout()), name,
                   [in, fn, view_fn](const Tensor& g) { return embed(g, in, fn, view_fn); });
}
}  // namespace

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  // Validate and normalise once, so the captured functions cannot fail later.
  koan::narrow(x.layout(), dim, start, length);
  return pick_view(
      x, "NarrowBackward", [=](const Layout& l) { return koan::narrow(l, dim, start, length); },
      [=](const Tensor& g) { return narrow(g, dim, start, length); });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  koan::slice(x.layout(), dim, start, end, step);
  return pick_view(
      x, "SliceBackward", [=](const Layout& l) { return koan::slice(l, dim, start, end, step); },
      [=](const Tensor& g) { return slice(g, dim, start, end, step); });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  koan::select(x.layout(), dim, index);
  return pick_view(
      x, "SelectBackward", [=](const Layout& l) { return koan::select(l, dim, index); },
      [=](const Tensor& g) { return select(g, dim, index); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Layout l = koan::expand(x.layout(), shape);
  Shape in = x.shape();
  return make_view(x, std::move(l), "ExpandBackward", [in](const Tensor& g) { return sum_to(g, in); });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  broadcast_shapes(x.shape(), shape, "broadcast_to");
  return x.shape() == shape ? x : expand(x, shape);
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  Shape in = x.shape();
  return make_view(x, koan::squeeze(x.layout(), dim), "SqueezeBackward",
                   [in](const Tensor& g) { return reshape(g, in); });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  Shape in = x.shape();
  return make_view(x, koan::unsqueeze(x.layout(), dim), "UnsqueezeBackward",
                   [in](const Tensor& g) { return reshape(g, in); });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  KOAN_CHECK(s <= e, ValueError, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape out;
  for (int64_t d = 0; d < s; ++d) out.push_back(x.shape()[d]);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= x.shape()[d];
  out.push_back(n);
  for (int64_t d = e + 1; d < x.dim(); ++d) out.push_back(x.shape()[d]);
  return reshape(x, out);
}

Tensor unflatten(const Tensor& x, int64_t dim, const Shape& sizes) {
  dim = wrap_dim(dim, x.dim(), "unflatten");
  Shape inner = infer_size(sizes, x.shape()[dim], "unflatten");
  Shape out(x.shape().begin(), x.shape().begin() + dim);
  out.insert(out.end(), inner.begin(), inner.end());
  out.insert(out.end(), x.shape().begin() + dim + 1, x.shape().end());
  return view(x, out);
}

Tensor clone(const Tensor& x) {
  Tensor out = new_output(x.shape(), x.dtype());
  kernels::copy(x, out);
  if (autograd::needs_grad({&x}))
    autograd::record("CloneBackward", {x}, {out}, [](FunctionNode&, Grads& g) { return Grads{g[0]}; });
  return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }

Tensor detach(const Tensor& x) { return Tensor(x.storage(), x.layout(), x.dtype()); }

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = new_output(x.shape(), dtype);
  kernels::copy(x, out);
  if (is_floating(dtype) && autograd::needs_grad({&x})) {
    DType in = x.dtype();
    autograd::record("ToCopyBackward", {x}, {out},
                     [in](FunctionNode&, Grads& g) { return Grads{to(g[0], in)}; });
  }
  return out;
}

}  // namespace koan
