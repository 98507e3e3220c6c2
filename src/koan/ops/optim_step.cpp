#include "koan/ops/optim_step.h"

#include "koan/autograd/grad_mode.h"

namespace koan {
namespace {

// Dense tensors the fused kernel can walk with one index.
bool fusable(const Tensor& p, std::initializer_list<const Tensor*> others) {
  if (!is_floating(p.dtype()) || !p.is_contiguous() || GradMode::enabled()) return false;
  for (const Tensor* t : others)
    if (t->defined() && (t->dtype() != p.dtype() || t->shape() != p.shape() || !t->is_contiguous() ||
                         t->requires_grad()))
      return false;
  return true;
}

}  // namespace

bool fused_adam_step_(Tensor& p, const Tensor& grad, Tensor& m, Tensor& v, Tensor& vmax, const AdamStep& a) {
  if (!fusable(p, {&grad, &m, &v, &vmax}) || !m.defined() || !v.defined()) return false;
  kernels::adam_step(p, grad, m, v, vmax, a);
  for (Tensor* t : {&p, &m, &v, &vmax})
    if (t->defined()) t->bump_version();
  return true;
}

bool fused_sgd_step_(Tensor& p, const Tensor& grad, Tensor& buf, const SgdStep& s) {
  if (!fusable(p, {&grad, &buf})) return false;
  kernels::sgd_step(p, grad, buf, s);
  p.bump_version();
  if (buf.defined()) buf.bump_version();
  return true;
}

}  // namespace koan
