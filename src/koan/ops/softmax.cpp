#include "koan/ops/softmax.h"

#include <cmath>

#include "koan/kernels/masked_softmax.h"
#include "koan/kernels/softmax.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"

namespace koan {
using namespace ops_detail;

namespace {

// The input gradient from the output y and its gradient g.  A plain backward (nothing to record)
// takes the fused kernel; under create_graph the same rule is written with ops so it can be
// differentiated again.
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim, bool log) {
  if (!autograd::needs_grad({&g, &y})) {
    Tensor gc = dense(g), yc = dense(y);
    Tensor gx = new_output(y.shape(), y.dtype());
    kernels::softmax_backward(gc, yc, dim, log, gx);
    return gx;
  }
  if (log) return sub(g, mul(exp(y), sum(g, {dim}, true)));
  return mul(y, sub(g, sum(mul(g, y), {dim}, true)));
}

Tensor softmax_op(const Tensor& x, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  KOAN_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, op, ": needs a floating dtype, got ", name(x.dtype()),
             "; convert with to(DType::Float32) first");
  dim = wrap_dim(dim, x.dim(), op);
  Tensor out = new_output(x.shape(), x.dtype());
  kernels::softmax(dense(x), dim, log, out);
  if (autograd::needs_grad({&x})) {
    autograd::record(log ? "LogSoftmaxBackward" : "SoftmaxBackward", {x}, {out},
                     [sy = SavedTensor(out, true), dim, log](FunctionNode& self, Grads& g) {
                       return Grads{softmax_backward(g[0], sy.unpack(self.self()), dim, log)};
                     });
  }
  return out;
}

// Attention's softmax: y = softmax(scale * x + mask) over the last dim, masked keys 0.  The
// backward reads only y: a masked key has y = 0, so the mask is not needed again.
Tensor masked_softmax_backward(const Tensor& g, const Tensor& y, double scale, bool causal) {
  if (!autograd::needs_grad({&g, &y})) {
    Tensor gc = dense(g), yc = dense(y);
    Tensor gx = new_output(y.shape(), y.dtype());
    kernels::masked_softmax_backward(gc, yc, scale, causal, gx);
    return gx;
  }
  return mul(mul(y, sub(g, sum(mul(g, y), {-1}, true))), scale);
}

}  // namespace

Tensor masked_softmax(const Tensor& x, const Tensor& mask, double scale, bool is_causal) {
  const char* op = "masked_softmax";
  KOAN_CHECK(x.defined(), ValueError, op, ": undefined tensor");
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, op, ": needs a floating dtype, got ", name(x.dtype()));
  KOAN_CHECK(x.dim() >= (is_causal ? 2 : 1), ShapeError, op, ": scores ", x.shape(), " need ",
             is_causal ? "at least 2 dims (..., L, S) with is_causal" : "at least 1 dim");
  KOAN_CHECK(!(is_causal && mask.defined()), ValueError, op, ": pass either a mask or is_causal, not both");
  KOAN_CHECK(std::isfinite(scale), ValueError, op, ": scale must be finite, got ", scale);
  using kernels::SoftmaxMask;
  SoftmaxMask kind = is_causal ? SoftmaxMask::Causal : SoftmaxMask::None;
  Tensor m;  // the mask as a (broadcast) view of x's shape
  if (mask.defined()) {
    KOAN_CHECK(mask.dtype() == DType::Bool || mask.dtype() == x.dtype(), DTypeError, op,
               ": mask must be bool or of the scores' dtype ", name(x.dtype()), ", got ", name(mask.dtype()));
    KOAN_CHECK(broadcast_shapes(x.shape(), mask.shape(), op) == x.shape(), ShapeError, op, ": mask ", mask.shape(),
               " does not broadcast to the scores ", x.shape());
    kind = mask.dtype() == DType::Bool ? SoftmaxMask::Bool : SoftmaxMask::Additive;
    m = expand(detach(mask), x.shape());
  }
  Tensor out = new_output(x.shape(), x.dtype());
  kernels::masked_softmax(dense(x), scale, kind, m, out);
  const bool mask_grad = kind == SoftmaxMask::Additive && autograd::needs_grad({&mask});
  if (autograd::needs_grad({&x}) || mask_grad) {
    std::vector<Tensor> inputs{x};
    if (mask_grad) inputs.push_back(mask);
    autograd::record("MaskedSoftmaxBackward", inputs, {out},
                     [sy = SavedTensor(out, true), scale, is_causal, mask_grad,
                      mshape = mask.defined() ? mask.shape() : Shape{}](FunctionNode& self, Grads& g) {
                       Tensor y = sy.unpack(self.self());
                       if (!mask_grad) return Grads{masked_softmax_backward(g[0], y, scale, is_causal)};
                       // The additive mask enters unscaled: its gradient is x's divided by scale,
                       // computed directly (scale may be 0).
                       Tensor gz = masked_softmax_backward(g[0], y, 1.0, is_causal);
                       return Grads{mul(gz, scale), sum_to(gz, mshape)};
                     });
  }
  return out;
}

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true); }

}  // namespace koan
