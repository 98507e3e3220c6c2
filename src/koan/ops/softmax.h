// Softmax and log-softmax along a dim, each one op with its own backward rule.
//
//   Tensor p = koan::softmax(logits, -1);        // rows sum to 1
//   Tensor lp = koan::log_softmax(logits, -1);   // stable for large logits
#pragma once
#include "koan/tensor/tensor.h"

namespace koan {

// exp(x - max) / sum(exp(x - max)) along dim.  Floating inputs only.
Tensor softmax(const Tensor& x, int64_t dim);
// x - max - log(sum(exp(x - max))) along dim.  Floating inputs only.
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace koan
