#include "koan/ops/softmax.h"

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
    Tensor gc = contiguous(detach(g)), yc = contiguous(detach(y));
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
  kernels::softmax(contiguous(detach(x)), dim, log, out);
  if (autograd::needs_grad({&x})) {
    autograd::record(log ? "LogSoftmaxBackward" : "SoftmaxBackward", {x}, {out},
                     [sy = SavedTensor(out, true), dim, log](FunctionNode& self, Grads& g) {
                       return Grads{softmax_backward(g[0], sy.unpack(self.self()), dim, log)};
                     });
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true); }

}  // namespace koan
