// Gradient clipping over a list of parameters (their .grad() is changed in place).
//
//   loss.backward();
//   double norm = optim::clip_grad_norm_(net->parameters(), /*max_norm=*/1.0);   // as torch
//   optim::clip_grad_value_(net->parameters(), 0.5);
//   opt.step();
//
// Parameters without a gradient are skipped.
#pragma once
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::optim {

// Clamps every gradient element to [-value, value].
void clip_grad_value_(const std::vector<Tensor>& params, double value);

// Scales all gradients by min(1, max_norm / (total + 1e-6)), where total is the norm_type norm of
// all gradients together (infinity: the largest |element|); returns total, the norm before
// clipping.  As torch.nn.utils.clip_grad_norm_, computed in the gradients' dtype.
// error_if_nonfinite: throw ValueError if total is NaN or infinite instead of scaling by it.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Scales all gradients to a global L2 norm of 1 (left alone if it is 0); returns the norm before.
double normalize_grad_(const std::vector<Tensor>& params);

}  // namespace koan::optim
