#include "koan/ops/scan.h"

#include "koan/kernels/scan.h"
#include "koan/ops/common.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

namespace {

// cumsum from the front, or (reverse) from the back; each is the other's backward.
Tensor cumsum_impl(const Tensor& x, int64_t dim, bool reverse) {
  KOAN_CHECK(x.defined(), ValueError, "cumsum: undefined tensor");
  dim = wrap_dim(dim, x.dim(), "cumsum");
  Tensor out = new_output(x.shape(), is_floating(x.dtype()) ? x.dtype() : DType::Int64);
  kernels::cumsum(dense(x), dim, reverse, out);
  if (autograd::needs_grad({&x})) {
    autograd::record("CumsumBackward", {x}, {out}, [dim, reverse](FunctionNode&, Grads& g) {
      return Grads{cumsum_impl(g[0], dim, !reverse)};
    });
  }
  return out;
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) { return cumsum_impl(x, dim, false); }

}  // namespace koan
