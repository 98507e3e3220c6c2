// Fused optimizer updates: one pass over a parameter and its state instead of a chain of tensor
// ops (Adam's unfused step reads and writes about ten parameter-sized tensors).
//
//   kernels::AdamStep a{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .step = 1};
//   kernels::adam_step(p, grad, exp_avg, exp_avg_sq, Tensor(), a);
//
// All tensors contiguous, one shape, one floating dtype (the caller checks).  The maths is the
// unfused rule's, element by element, in the tensors' dtype: results match it to rounding.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

struct AdamStep {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled = false;  // AdamW: p *= 1 - lr * wd; otherwise Adam: g += wd * p
  bool maximize = false;
  int64_t step = 1;  // t, counted from 1, for the bias corrections
};
// g = ±grad (+ wd p);  m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²;  v̂ = max(v̂, v) when vmax is
// defined (amsgrad), else v;  p -= lr/(1-β1^t) · m / (√v̂ / √(1-β2^t) + ε).
void adam_step(const Tensor& p, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor& vmax,
               const AdamStep& a);

struct SgdStep {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool first = false;  // the buffer is new: it takes d as it is (torch.optim's clone)
};
// d = ±grad (+ wd p);  with a buffer: buf = first ? d : μ buf + (1-dampening) d, and
// d = nesterov ? d + μ buf : buf;  p -= lr d.  buf undefined means no momentum.
void sgd_step(const Tensor& p, const Tensor& grad, const Tensor& buf, const SgdStep& s);

}  // namespace koan::kernels
