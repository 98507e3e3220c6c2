#include "koan/ops/dropout.h"

#include <cmath>

#include "koan/kernels/norm.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  KOAN_CHECK(x.defined(), ValueError, "dropout: undefined input");
  KOAN_CHECK(p >= 0 && p <= 1, ValueError, "dropout: p must be in [0, 1], got ", p);
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, "dropout: needs a floating input, got ", name(x.dtype()));
  if (!training || p == 0 || x.numel() == 0) return x;
  Tensor out = new_output(x.shape(), x.dtype()), mask = new_output(x.shape(), x.dtype());
  kernels::dropout(dense(x), p, gen ? *gen : default_generator(), out, mask);
  if (autograd::needs_grad({&x})) {
    // mask holds 0 or 1/(1-p): the gradient is g * mask, a plain product (differentiable again).
    autograd::record("DropoutBackward", {x}, {out},
                     [sm = SavedTensor(mask, false)](FunctionNode& self, Grads& g) {
                       return Grads{mul(g[0], sm.unpack(self.self()))};
                     });
  }
  return out;
}

}  // namespace koan
