#include "koan/ops/pad.h"

#include <algorithm>

#include "koan/kernels/elementwise.h"
#include "koan/kernels/flip.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/join.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

namespace {

// Constant padding; negative pads crop.  Its backward is the opposite padding of the gradient
// (crop what was added, zero-fill what was cropped), so it is differentiable again.
Tensor pad_constant(const Tensor& x, const std::vector<int64_t>& pads, double value) {
  int64_t n = static_cast<int64_t>(pads.size()) / 2;
  Shape out_shape = x.shape();
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = x.dim() - 1 - i;
    out_shape[d] += pads[2 * i] + pads[2 * i + 1];
    KOAN_CHECK(out_shape[d] >= 0, ShapeError, "pad: pads ", pads, " make dim ", d, " of input shape ",
               x.shape(), " negative (", out_shape[d], ")");
  }
  Tensor out = full(out_shape, value, {.dtype = x.dtype()});
  // The part of x that survives, and where it lands in out.
  Layout src = x.layout(), dst = out.layout();
  bool empty = false;
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = x.dim() - 1 - i, before = pads[2 * i], after = pads[2 * i + 1];
    int64_t in_start = std::max<int64_t>(-before, 0);
    int64_t len = x.shape()[d] - in_start - std::max<int64_t>(-after, 0);
    if (len <= 0) {
      empty = true;
      break;
    }
    src = koan::narrow(src, d, in_start, len);
    dst = koan::narrow(dst, d, std::max<int64_t>(before, 0), len);
  }
  if (!empty) kernels::copy(alias_with_layout(x, src), alias_with_layout(out, dst));
  if (autograd::needs_grad({&x})) {
    std::vector<int64_t> inv(pads.size());
    for (size_t i = 0; i < pads.size(); ++i) inv[i] = -pads[i];
    autograd::record("ConstantPadBackward", {x}, {out},
                     [inv](FunctionNode&, Grads& g) { return Grads{pad_constant(g[0], inv, 0)}; });
  }
  return out;
}

// Reflect and replicate, one dim at a time, as cats of (flipped / expanded) slices: their
// backward rules come from those ops.
Tensor pad_edges(const Tensor& x, const std::vector<int64_t>& pads, bool reflect) {
  const char* mode = reflect ? "reflect" : "replicate";
  Tensor y = x;
  int64_t n = static_cast<int64_t>(pads.size()) / 2;
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = x.dim() - 1 - i, before = pads[2 * i], after = pads[2 * i + 1];
    int64_t size = y.shape()[d];
    KOAN_CHECK(before >= 0 && after >= 0, ValueError, "pad: ", mode,
               " padding needs non-negative pads, got ", pads);
    if (reflect)
      KOAN_CHECK(before < size && after < size, ValueError, "pad: reflect padding ", pads,
                 " must be smaller than the padded dim ", d, " of input shape ", x.shape());
    else
      KOAN_CHECK(size > 0 || (before == 0 && after == 0), ValueError,
                 "pad: cannot replicate-pad the empty dim ", d, " of input shape ", x.shape());
    if (before == 0 && after == 0) continue;
    std::vector<Tensor> parts;
    auto edge = [&](int64_t start, int64_t count) {
      Shape s = y.shape();
      s[d] = count;
      return expand(narrow(y, d, start, 1), s);
    };
    if (before > 0) parts.push_back(reflect ? flip(narrow(y, d, 1, before), {d}) : edge(0, before));
    parts.push_back(y);
    if (after > 0)
      parts.push_back(reflect ? flip(narrow(y, d, size - 1 - after, after), {d}) : edge(size - 1, after));
    y = cat(parts, d);
  }
  return y;
}

// The lower-triangle mask (j - i <= diagonal) of the last two dims, as bool (rows, cols).
Tensor tri_mask(const Tensor& x, int64_t diagonal, bool lower, const char* op) {
  KOAN_CHECK(x.defined(), ValueError, op, ": input is undefined");
  KOAN_CHECK(x.dim() >= 2, ShapeError, op, ": input must have at least 2 dims, got shape ", x.shape());
  int64_t rows = x.shape()[x.dim() - 2], cols = x.shape()[x.dim() - 1];
  Tensor i = unsqueeze(arange(rows, DType::Int64), 1);
  Tensor j = unsqueeze(arange(cols, DType::Int64), 0);
  Tensor diff = sub(j, i);
  return lower ? le(diff, scalar_tensor(diagonal, DType::Int64))
               : ge(diff, scalar_tensor(diagonal, DType::Int64));
}

}  // namespace

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, std::string_view mode, double value) {
  KOAN_CHECK(x.defined(), ValueError, "pad: input is undefined");
  KOAN_CHECK(pads.size() % 2 == 0, ValueError, "pad: pads must come in (before, after) pairs, got ",
             pads);
  KOAN_CHECK(static_cast<int64_t>(pads.size()) / 2 <= x.dim(), ShapeError, "pad: pads ", pads,
             " name more dims than the input has (shape ", x.shape(), ")");
  if (mode == "constant") return pad_constant(x, pads, value);
  if (mode == "reflect") return pad_edges(x, pads, true);
  if (mode == "replicate") return pad_edges(x, pads, false);
  KOAN_CHECK(false, ValueError, "pad: unknown mode \"", mode,
             "\" (expected constant, reflect or replicate)");
  return {};
}

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  KOAN_CHECK(x.defined(), ValueError, "flip: input is undefined");
  std::vector<int64_t> wrapped;
  std::vector<bool> seen(std::max<int64_t>(x.dim(), 1), false);
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, x.dim(), "flip");
    KOAN_CHECK(!seen[w], ValueError, "flip: dim ", w, " appears more than once in ", dims);
    seen[w] = true;
    if (x.dim() > 0) wrapped.push_back(w);
  }
  Tensor out = new_output(x.shape(), x.dtype());
  kernels::flip(x, out, wrapped);
  if (autograd::needs_grad({&x}))
    autograd::record("FlipBackward", {x}, {out},
                     [wrapped](FunctionNode&, Grads& g) { return Grads{flip(g[0], wrapped)}; });
  return out;
}

Tensor tril(const Tensor& x, int64_t diagonal) {
  return where(tri_mask(x, diagonal, true, "tril"), x, Scalar(0));
}

Tensor triu(const Tensor& x, int64_t diagonal) {
  return where(tri_mask(x, diagonal, false, "triu"), x, Scalar(0));
}

}  // namespace koan
