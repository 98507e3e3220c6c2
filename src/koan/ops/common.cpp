#include "koan/ops/common.h"

#include "koan/autograd/grad_mode.h"
#include "koan/kernels/elementwise.h"
#include "koan/kernels/reduce.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"

namespace koan::ops_detail {

namespace {
int category(DType t) { return t == DType::Bool ? 0 : is_floating(t) ? 2 : 1; }
}  // namespace

Tensor dense(const Tensor& t) {
  if (!t.defined() || t.is_contiguous()) return t;
  NoGradGuard g;
  return contiguous(t);
}

DType result_type(const Tensor& a, const Tensor& b) {
  // A 0-d tensor only decides the dtype when it is of a higher category (torch's rule for
  // "wrapped numbers" and 0-d tensors): float32 tensor * float64 0-d -> float32.
  bool za = a.dim() == 0, zb = b.dim() == 0;
  if (za != zb) {
    const Tensor& dim_t = za ? b : a;
    const Tensor& zero_t = za ? a : b;
    if (category(zero_t.dtype()) <= category(dim_t.dtype())) return dim_t.dtype();
    return zero_t.dtype();
  }
  return promote_types(a.dtype(), b.dtype());
}

DType result_type(const Tensor& a, Scalar b) {
  int cb = b.kind() == DType::Bool ? 0 : b.is_floating() ? 2 : 1;
  if (cb <= category(a.dtype())) return a.dtype();
  return cb == 2 ? kDefaultFloat : DType::Int64;
}

Tensor cast(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  return to(t, dtype);
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const Shape& gs = grad.shape();
  size_t lead = gs.size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < gs.size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) dims.push_back(static_cast<int64_t>(i));
  Tensor s = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return reshape(s, shape);
}

void check_inplace(const Tensor& t, const char* op) {
  if (!GradMode::enabled()) return;
  KOAN_CHECK(!(t.is_leaf() && t.requires_grad()), AutogradError, op,
             ": a leaf tensor that requires grad is being used in an in-place operation; wrap the "
             "update in NoGradGuard (as optimizers do) or work on a clone()");
  KOAN_CHECK(!(t.requires_grad() && t.impl()->view_base), AutogradError, op,
             ": in-place modification of a view of a tensor that requires grad is not supported; "
             "use the out-of-place op");
}

}  // namespace koan::ops_detail
