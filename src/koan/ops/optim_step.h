// Fused in-place optimizer updates: one pass over a parameter, its gradient and its state.
// Optimizers call these for their common case (dense, contiguous, one dtype) and keep their
// op-by-op rule for everything else; the two follow the same maths (kernels/optim_step.h).
//
//   kernels::AdamStep a{.lr = 1e-3, .step = ++st.step};
//   if (!fused_adam_step_(p, grad, st["exp_avg"], st["exp_avg_sq"], Tensor(), a)) { ...op by op... }
//
// Not differentiable: they run under NoGradGuard, as every optimizer update does.
#pragma once
#include "koan/kernels/optim_step.h"
#include "koan/tensor/tensor.h"

namespace koan {

using kernels::AdamStep;
using kernels::SgdStep;

// Returns false, writing nothing, when the tensors are not all contiguous, floating, of one
// dtype and one shape; otherwise updates p, m, v (and vmax when defined: amsgrad) in place.
bool fused_adam_step_(Tensor& p, const Tensor& grad, Tensor& m, Tensor& v, Tensor& vmax, const AdamStep& a);
// Likewise for SGD; buf undefined means no momentum.
bool fused_sgd_step_(Tensor& p, const Tensor& grad, Tensor& buf, const SgdStep& s);

}  // namespace koan
