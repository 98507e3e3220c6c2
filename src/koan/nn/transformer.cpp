#include "koan/nn/transformer.h"

#include "koan/ops/binary.h"
#include "koan/ops/dropout.h"
#include "koan/ops/norm.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::nn {

namespace detail {
EncoderNorm::EncoderNorm(int64_t d, double eps, DType dtype) : Module("LayerNorm"), d_(d), eps_(eps) {
  weight = register_parameter("weight", ones({d}, {.dtype = dtype}));
  bias = register_parameter("bias", zeros({d}, {.dtype = dtype}));
}
Tensor EncoderNorm::forward(const Tensor& x) { return layer_norm(x, {d_}, weight, bias, eps_); }
std::string EncoderNorm::repr() const { return str("LayerNorm((", d_, ",), eps=", eps_, ")"); }
}  // namespace detail

TransformerEncoderLayer::TransformerEncoderLayer(TransformerEncoderLayerOptions o)
    : Module("TransformerEncoderLayer"), opts_(o) {
  KOAN_CHECK(o.activation == "relu" || o.activation == "gelu", ValueError,
             "TransformerEncoderLayer: activation must be \"relu\" or \"gelu\", got \"", o.activation, "\"");
  KOAN_CHECK(o.dropout >= 0 && o.dropout < 1, ValueError, "TransformerEncoderLayer: dropout must be in [0, 1), got ",
             o.dropout);
  // PyTorch's registration order, so named_parameters() lists the same keys in the same order.
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(MultiheadAttentionOptions{
                                               .embed_dim = o.d_model, .num_heads = o.nhead, .dropout = o.dropout,
                                               .batch_first = o.batch_first, .dtype = o.dtype}));
  linear1 = register_module("linear1", std::make_shared<Linear>(LinearOptions{
                                           .in = o.d_model, .out = o.dim_feedforward, .dtype = o.dtype}));
  linear2 = register_module("linear2", std::make_shared<Linear>(LinearOptions{
                                           .in = o.dim_feedforward, .out = o.d_model, .dtype = o.dtype}));
  norm1 = register_module("norm1", std::make_shared<detail::EncoderNorm>(o.d_model, o.layer_norm_eps, o.dtype));
  norm2 = register_module("norm2", std::make_shared<detail::EncoderNorm>(o.d_model, o.layer_norm_eps, o.dtype));
}

Tensor TransformerEncoderLayer::feed_forward(const Tensor& x) {
  const bool tr = is_training();
  Tensor h = linear1->forward(x);
  h = opts_.activation == "relu" ? relu(h) : gelu(h);
  h = linear2->forward(dropout(h, opts_.dropout, tr));
  return dropout(h, opts_.dropout, tr);
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask, bool is_causal) {
  const bool tr = is_training();
  auto attend = [&](const Tensor& x) {
    Tensor a = self_attn->forward(x, x, x, src_key_padding_mask, false, src_mask, true, is_causal).first;
    return dropout(a, opts_.dropout, tr);
  };
  Tensor x = src;
  if (opts_.norm_first) {
    x = add(x, attend(norm1->forward(x)));
    return add(x, feed_forward(norm2->forward(x)));
  }
  x = norm1->forward(add(x, attend(x)));
  return norm2->forward(add(x, feed_forward(x)));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) { return forward(src, Tensor()); }

std::shared_ptr<Module> TransformerEncoderLayer::clone() const {
  auto c = std::make_shared<TransformerEncoderLayer>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string TransformerEncoderLayer::repr() const {
  return str("TransformerEncoderLayer(d_model=", opts_.d_model, ", nhead=", opts_.nhead,
             ", dim_feedforward=", opts_.dim_feedforward, ", dropout=", opts_.dropout, ", activation=",
             opts_.activation, opts_.batch_first ? ", batch_first=true" : "",
             opts_.norm_first ? ", norm_first=true" : "", ")");
}

}  // namespace koan::nn
