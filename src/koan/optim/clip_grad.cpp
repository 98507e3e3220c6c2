#include "koan/optim/clip_grad.h"

#include <cmath>

#include "koan/autograd/grad_mode.h"
#include "koan/ops/binary.h"
#include "koan/ops/inplace.h"
#include "koan/ops/join.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::optim {

namespace {
std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> gs;
  for (auto& p : params)
    if (p.defined() && p.grad().defined()) gs.push_back(p.grad());
  return gs;
}

// The norm_type norm of all gradients together, as a 0-d tensor of their dtype.
Tensor total_norm(const std::vector<Tensor>& grads, double norm_type) {
  std::vector<Tensor> norms;
  for (auto& g : grads) norms.push_back(norm(detach(g), norm_type));
  if (norms.size() == 1) return norms[0];
  return norm(stack(norms), norm_type);  // max of maxima for infinity, as torch
}
}  // namespace

void clip_grad_value_(const std::vector<Tensor>& params, double value) {
  KOAN_CHECK(value >= 0, ValueError, "clip_grad_value_: clip value must be non-negative, got ", value);
  NoGradGuard ng;
  for (Tensor g : grads_of(params)) clamp_(g, -value, value);
}

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  NoGradGuard ng;
  std::vector<Tensor> grads = grads_of(params);
  if (grads.empty()) return 0.0;
  Tensor total = total_norm(grads, norm_type);
  double t = total.item<double>();
  KOAN_CHECK(!error_if_nonfinite || std::isfinite(t), ValueError, "clip_grad_norm_: the total norm of order ",
             norm_type, " of the gradients is ", t, ", so it cannot be clipped (error_if_nonfinite = true)");
  // Like torch, always multiply (by a coefficient clamped to 1), in the gradients' dtype.
  Tensor coef = clamp(div(scalar_tensor(max_norm, total.dtype()), add(total, 1e-6)), std::nullopt, 1.0);
  for (Tensor g : grads) mul_(g, coef);
  return t;
}

double normalize_grad_(const std::vector<Tensor>& params) {
  NoGradGuard ng;
  std::vector<Tensor> grads = grads_of(params);
  if (grads.empty()) return 0.0;
  Tensor total = total_norm(grads, 2.0);
  double t = total.item<double>();
  if (t > 0)
    for (Tensor g : grads) div_(g, total);
  return t;
}

}  // namespace koan::optim
