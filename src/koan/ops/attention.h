// Scaled dot-product attention, as torch.nn.functional.scaled_dot_product_attention.
//
//   Tensor o = koan::scaled_dot_product_attention(q, k, v);                   // q (..., L, E)
//   Tensor c = koan::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
//   auto [o2, w] = koan::scaled_dot_product_attention_weights(q, k, v, mask); // w (..., L, S)
//
// softmax(q k^T * scale + mask) v with scale = 1 / sqrt(E) by default.  attn_mask is either bool
// (true = may attend, as PyTorch's SDPA) or a float mask of q's dtype that is added to the
// scores; it broadcasts to (..., L, S).  is_causal masks key j > query i (top-left aligned) and
// cannot be combined with attn_mask; its masked triangle costs nothing.  A query row with every
// key masked gets weights 0 and output 0, where PyTorch's math path gives NaN (masked_softmax in
// ops/softmax.h says why).
// dropout_p drops attention weights (scaled by 1 / (1 - p)); pass 0 in evaluation.
#pragma once
#include <optional>
#include <utility>

#include "koan/tensor/tensor.h"

namespace koan {

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0,
                                    bool is_causal = false, std::optional<double> scale = std::nullopt);
// The same, also returning the attention weights (after dropout), for need_weights.
std::pair<Tensor, Tensor> scaled_dot_product_attention_weights(
    const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask = Tensor(),
    double dropout_p = 0, bool is_causal = false, std::optional<double> scale = std::nullopt);

}  // namespace koan
