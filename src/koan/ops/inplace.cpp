#include "koan/ops/inplace.h"

#include "koan/kernels/elementwise.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"

namespace koan {
using namespace ops_detail;

namespace ops_detail {
Tensor& apply_inplace(Tensor& self, const char* op, const std::function<Tensor(const Tensor&)>& f,
                      const std::vector<const Tensor*>& others) {
  check_inplace(self, op);
  bool track = GradMode::enabled() && self.requires_grad();
  for (const Tensor* o : others) track |= GradMode::enabled() && o->defined() && o->requires_grad();
  if (!track) {
    Tensor r;
    {
      NoGradGuard g;
      r = f(self);
    }
    KOAN_CHECK(r.shape() == self.shape(), ShapeError, op, ": result shape ", r.shape(),
               " does not match the in-place target's shape ", self.shape(), " (in-place ops cannot broadcast the target)");
    KOAN_CHECK(is_floating(self.dtype()) || !is_floating(r.dtype()), DTypeError, op, ": result type ",
               name(r.dtype()), " can't be cast to the in-place target's dtype ", name(self.dtype()));
    if (!r.is_same(self)) kernels::copy(r, self);
    self.bump_version();
    return self;
  }
  // Compute from a copy of the old value, so the new node's saved tensors are not the storage
  // we are about to overwrite; then take over the result's history.
  Tensor r = f(clone(self));
  KOAN_CHECK(r.shape() == self.shape(), ShapeError, op, ": result shape ", r.shape(),
             " does not match the in-place target's shape ", self.shape());
  kernels::copy(detach(r), self);
  self.bump_version();
  TensorImpl* s = self.impl();
  s->grad_fn = r.grad_fn();
  s->output_nr = r.impl()->output_nr;
  s->requires_grad = r.requires_grad();
  if (s->grad_fn && s->output_nr < s->grad_fn->outputs.size())
    s->grad_fn->outputs[s->output_nr].tensor = self.impl_ptr();
  return self;
}
}  // namespace ops_detail

namespace {
// Fast path: no autograd involved, the kernel writes straight into self.
bool direct(const Tensor& self, const Tensor& other) {
  return !(GradMode::enabled() && (self.requires_grad() || other.requires_grad())) &&
         other.dtype() == self.dtype() && broadcast_shapes(self.shape(), other.shape(), "in-place") == self.shape();
}
Tensor& binary_inplace(Tensor& self, const Tensor& other, kernels::BinaryOp op, double alpha,
                       const char* name, const std::function<Tensor(const Tensor&)>& f) {
  if (direct(self, other) && (op != kernels::BinaryOp::Div || is_floating(self.dtype()))) {
    check_inplace(self, name);
    kernels::binary(op, self, alias_with_layout(other, koan::expand(other.layout(), self.shape())), self, alpha);
    self.bump_version();
    return self;
  }
  return apply_inplace(self, name, f, {&other});
}
}  // namespace

Tensor& add_(Tensor& self, const Tensor& other, Scalar alpha) {
  return binary_inplace(self, other, kernels::BinaryOp::Add, alpha.to_double(), "add_",
                        [&](const Tensor& s) { return add(s, other, alpha); });
}
Tensor& add_(Tensor& self, Scalar other) { return add_(self, scalar_tensor(other, result_type(self, other))); }
Tensor& sub_(Tensor& self, const Tensor& other, Scalar alpha) {
  return binary_inplace(self, other, kernels::BinaryOp::Sub, alpha.to_double(), "sub_",
                        [&](const Tensor& s) { return sub(s, other, alpha); });
}
Tensor& sub_(Tensor& self, Scalar other) { return sub_(self, scalar_tensor(other, result_type(self, other))); }
Tensor& mul_(Tensor& self, const Tensor& other) {
  return binary_inplace(self, other, kernels::BinaryOp::Mul, 1, "mul_",
                        [&](const Tensor& s) { return mul(s, other); });
}
Tensor& mul_(Tensor& self, Scalar other) { return mul_(self, scalar_tensor(other, result_type(self, other))); }
Tensor& div_(Tensor& self, const Tensor& other) {
  return binary_inplace(self, other, kernels::BinaryOp::Div, 1, "div_",
                        [&](const Tensor& s) { return div(s, other); });
}
Tensor& div_(Tensor& self, Scalar other) {
  return div_(self, scalar_tensor(other, is_floating(self.dtype()) ? self.dtype() : kDefaultFloat));
}

Tensor& zero_(Tensor& self) { return fill_(self, 0); }

Tensor& fill_(Tensor& self, Scalar value) {
  if (!(GradMode::enabled() && self.requires_grad())) {
    check_inplace(self, "fill_");
    kernels::fill(self, value);
    self.bump_version();
    return self;
  }
  return apply_inplace(self, "fill_", [&](const Tensor& s) { return add(mul(s, 0.0), value.to_double()); });
}

Tensor& copy_(Tensor& self, const Tensor& src) {
  broadcast_shapes(self.shape(), src.shape(), "copy_");
  if (!(GradMode::enabled() && (self.requires_grad() || src.requires_grad()))) {
    check_inplace(self, "copy_");
    kernels::copy(alias_with_layout(src, koan::expand(src.layout(), self.shape())), self);
    self.bump_version();
    return self;
  }
  return apply_inplace(self, "copy_", [&](const Tensor& s) {
    return add(mul(s, 0.0), to(expand(src, s.shape()), s.dtype()));
  }, {&src});
}

Tensor& clamp_(Tensor& self, std::optional<double> min, std::optional<double> max) {
  return apply_inplace(self, "clamp_", [&](const Tensor& s) { return clamp(s, min, max); });
}
Tensor& relu_(Tensor& self) {
  return apply_inplace(self, "relu_", [](const Tensor& s) { return relu(s); });
}
Tensor& masked_fill_(Tensor& self, const Tensor& mask, Scalar value) {
  return apply_inplace(self, "masked_fill_", [&](const Tensor& s) { return where(mask, full_like(s, value), s); });
}

}  // namespace koan
