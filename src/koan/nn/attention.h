// Multi-head attention as torch.nn.MultiheadAttention: same options, parameter names
// (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias), initialisation and masks.
//
//   nn::MultiheadAttention mha({.embed_dim = 64, .num_heads = 8, .batch_first = true});
//   auto [y, w] = mha.forward(x, x, x);                      // self-attention, w (B, L, S) averaged
//   auto [z, _] = mha.forward(q, k, v, pad, false, {}, true, /*is_causal=*/true);
//
// Masks follow torch.nn.MultiheadAttention (not SDPA): in key_padding_mask (B, S) and attn_mask
// ((L, S) or (B * num_heads, L, S)) a bool true means "do not attend"; float masks are added to
// the scores.  is_causal without attn_mask masks key j > query i.
#pragma once
#include <memory>
#include <utility>

#include "koan/nn/linear.h"
#include "koan/nn/module.h"

namespace koan::nn {

struct MultiheadAttentionOptions {
  int64_t embed_dim = 0;
  int64_t num_heads = 1;
  double dropout = 0;  // on the attention weights, in training only
  bool bias = true;
  bool batch_first = false;
  DType dtype = kDefaultFloat;
};

class MultiheadAttention : public Module {
 public:
  explicit MultiheadAttention(MultiheadAttentionOptions o);
  // Inputs (L, B, E) (or (B, L, E) with batch_first, or unbatched (L, E)).  Returns the output
  // and, with need_weights, the attention weights (B, L, S), averaged over heads unless
  // average_attn_weights is false ((B, num_heads, L, S)); otherwise an undefined Tensor.
  std::pair<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& key_padding_mask = Tensor(), bool need_weights = true,
                                    const Tensor& attn_mask = Tensor(), bool average_attn_weights = true,
                                    bool is_causal = false);
  // Self-attention, output only.
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const MultiheadAttentionOptions& options() const { return opts_; }

  Tensor in_proj_weight;  // (3E, E): rows for q, k, v
  Tensor in_proj_bias;    // (3E), undefined without bias
  std::shared_ptr<Linear> out_proj;

 private:
  MultiheadAttentionOptions opts_;
};

}  // namespace koan::nn
