// Softmax and log-softmax along a dim, each one op with its own backward rule.
//
//   Tensor p = koan::softmax(logits, -1);        // rows sum to 1
//   Tensor lp = koan::log_softmax(logits, -1);   // stable for large logits
//   Tensor w = koan::masked_softmax(scores, {}, 0.125, /*is_causal=*/true);  // attention weights
#pragma once
#include "koan/tensor/tensor.h"

namespace koan {

// exp(x - max) / sum(exp(x - max)) along dim.  Floating inputs only.
Tensor softmax(const Tensor& x, int64_t dim);
// x - max - log(sum(exp(x - max))) along dim.  Floating inputs only.
Tensor log_softmax(const Tensor& x, int64_t dim);

// Attention's softmax in one op: softmax(scale * x + mask) over the last dim.  `mask` broadcasts
// to x's shape and is either bool (true = attend; a masked key gets weight 0) or of x's dtype and
// added after scaling (its gradient is returned).  is_causal masks key j > query i, where the
// query is x's dim -2 (top-left aligned); it excludes `mask`, and the masked triangle costs
// nothing.  A row with every key masked (or at -inf) gives weights 0 and gradient 0, where
// torch.softmax gives NaN: a fully padded query then contributes nothing instead of poisoning the
// batch.
Tensor masked_softmax(const Tensor& x, const Tensor& mask = Tensor(), double scale = 1.0, bool is_causal = false);

}  // namespace koan
