// One Transformer encoder block as torch.nn.TransformerEncoderLayer: self-attention and a
// feed-forward net, each with a residual connection and LayerNorm (after, or before with
// norm_first).  Parameter names match PyTorch's state_dict (self_attn.in_proj_weight,
// linear1.weight, norm1.weight, ...).
//
//   nn::TransformerEncoderLayer enc({.d_model = 64, .nhead = 4, .dim_feedforward = 256,
//                                    .batch_first = true, .norm_first = true});
//   Tensor y = enc.forward(x);                                   // (B, L, 64)
//   Tensor z = enc.forward(x, Tensor(), padding, /*is_causal=*/true);
#pragma once
#include <string>

#include "koan/nn/attention.h"
#include "koan/nn/linear.h"

namespace koan::nn {

struct TransformerEncoderLayerOptions {
  int64_t d_model = 0;
  int64_t nhead = 1;
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";  // or "gelu"
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
  DType dtype = kDefaultFloat;
};

namespace detail {
// LayerNorm's parameters (weight = 1, bias = 0) over the last dim, for the encoder's norm1/norm2.
class EncoderNorm : public Module {
 public:
  EncoderNorm(int64_t d, double eps, DType dtype);
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;
  Tensor weight, bias;

 private:
  int64_t d_;
  double eps_;
};
}  // namespace detail

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(TransformerEncoderLayerOptions o);
  // src (L, B, d_model) or (B, L, d_model) with batch_first; masks as nn::MultiheadAttention
  // (bool true = do not attend).
  Tensor forward(const Tensor& src, const Tensor& src_mask, const Tensor& src_key_padding_mask = Tensor(),
                 bool is_causal = false);
  Tensor forward(const Tensor& src) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const TransformerEncoderLayerOptions& options() const { return opts_; }

  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<detail::EncoderNorm> norm1, norm2;

 private:
  Tensor feed_forward(const Tensor& x);
  TransformerEncoderLayerOptions opts_;
};

}  // namespace koan::nn
