#include "koan/nn/attention.h"

#include <limits>

#include "koan/nn/init.h"
#include "koan/ops/attention.h"
#include "koan/ops/binary.h"
#include "koan/ops/index.h"
#include "koan/ops/join.h"
#include "koan/ops/linalg.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

namespace koan::nn {

MultiheadAttention::MultiheadAttention(MultiheadAttentionOptions o) : Module("MultiheadAttention"), opts_(o) {
  KOAN_CHECK(o.embed_dim > 0 && o.num_heads > 0 && o.embed_dim % o.num_heads == 0, ValueError,
             "MultiheadAttention: embed_dim (", o.embed_dim, ") must be positive and divisible by num_heads (",
             o.num_heads, ")");
  KOAN_CHECK(o.dropout >= 0 && o.dropout < 1, ValueError, "MultiheadAttention: dropout must be in [0, 1), got ",
             o.dropout);
  // PyTorch: xavier_uniform_ in_proj_weight, zero biases, out_proj keeps Linear's weight init.
  Tensor w = empty({3 * o.embed_dim, o.embed_dim}, {.dtype = o.dtype});
  init::xavier_uniform_(w);
  in_proj_weight = register_parameter("in_proj_weight", w);
  if (o.bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * o.embed_dim}, {.dtype = o.dtype}));
  out_proj = register_module("out_proj", std::make_shared<Linear>(LinearOptions{
                                             .in = o.embed_dim, .out = o.embed_dim, .bias = o.bias, .dtype = o.dtype}));
  if (o.bias) init::zeros_(out_proj->bias);
}

namespace {
// A bool mask (true = masked) as an additive float mask; float masks pass through.
Tensor additive(const Tensor& m, DType dt, const char* what) {
  KOAN_CHECK(m.dtype() == DType::Bool || m.dtype() == dt, DTypeError, "MultiheadAttention: ", what,
             " must be bool or ", name(dt), ", got ", name(m.dtype()));
  if (m.dtype() != DType::Bool) return m;
  return masked_fill(zeros(m.shape(), {.dtype = dt}), m, -std::numeric_limits<double>::infinity());
}
}  // namespace

std::pair<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                      const Tensor& key_padding_mask, bool need_weights,
                                                      const Tensor& attn_mask, bool average_attn_weights,
                                                      bool is_causal) {
  const int64_t E = opts_.embed_dim, nh = opts_.num_heads, hd = E / nh;
  KOAN_CHECK(query.defined() && key.defined() && value.defined(), ValueError,
             "MultiheadAttention: query, key and value must be defined");
  KOAN_CHECK((query.dim() == 3 || query.dim() == 2) && key.dim() == query.dim() && value.dim() == query.dim(),
             ShapeError, "MultiheadAttention: query, key, value must all be 3-D (batched) or 2-D, got ",
             query.shape(), ", ", key.shape(), ", ", value.shape());
  KOAN_CHECK(query.size(-1) == E && key.size(-1) == E && value.size(-1) == E, ShapeError,
             "MultiheadAttention: expected embed_dim ", E, " in the last dim, got ", query.shape(), ", ",
             key.shape(), ", ", value.shape());
  const bool batched = query.dim() == 3;
  // Work batch-first, (B, T, E): the Transformer's own layout, so its inputs and outputs need no
  // transposed copies, and a head split is a view (B, T, heads, hd) -> (B, heads, T, hd).
  auto to_bte = [&](const Tensor& t) {
    return !batched ? unsqueeze(t, 0) : opts_.batch_first ? t : transpose(t, 0, 1);
  };
  Tensor q = to_bte(query), k = to_bte(key), v = to_bte(value);
  const int64_t B = q.size(0), L = q.size(1), S = k.size(1);
  KOAN_CHECK(k.size(0) == B && v.size(0) == B && v.size(1) == S, ShapeError,
             "MultiheadAttention: key ", key.shape(), " and value ", value.shape(), " do not match query ",
             query.shape());
  // Projections: one GEMM for self-attention, three otherwise.
  if (query.is_same(key) && key.is_same(value)) {
    auto p = chunk(linear(q, in_proj_weight, in_proj_bias), 3, -1);
    q = p[0], k = p[1], v = p[2];
  } else {
    auto w = chunk(in_proj_weight, 3, 0);
    std::vector<Tensor> b(3);
    if (in_proj_bias.defined()) b = chunk(in_proj_bias, 3, 0);
    q = linear(q, w[0], b[0]), k = linear(k, w[1], b[1]), v = linear(v, w[2], b[2]);
  }
  // (B, T, E) -> (B, heads, T, head_dim)
  auto heads = [&](const Tensor& t, int64_t T) { return permute(reshape(t, {B, T, nh, hd}), {0, 2, 1, 3}); };
  q = heads(q, L), k = heads(k, S), v = heads(v, S);

  Tensor mask;
  const DType dt = q.dtype();
  // Causal alone goes to the attention op as a flag: its kernel skips the masked triangle.
  const bool causal_flag = is_causal && !attn_mask.defined() && !key_padding_mask.defined();
  if (attn_mask.defined()) {
    KOAN_CHECK((attn_mask.dim() == 2 && attn_mask.size(0) == L && attn_mask.size(1) == S) ||
                   (attn_mask.dim() == 3 && attn_mask.size(0) == B * nh && attn_mask.size(1) == L &&
                    attn_mask.size(2) == S),
               ShapeError, "MultiheadAttention: attn_mask must be (", L, ", ", S, ") or (", B * nh, ", ", L,
               ", ", S, "), got ", attn_mask.shape());
    mask = additive(attn_mask.dim() == 3 ? reshape(attn_mask, {B, nh, L, S}) : attn_mask, dt, "attn_mask");
  } else if (is_causal && !causal_flag) {
    Tensor future = gt(arange(S).view({1, S}), arange(L).view({L, 1}));
    mask = additive(future, dt, "causal mask");
  }
  if (key_padding_mask.defined()) {
    Shape want = batched ? Shape{B, S} : Shape{S};
    KOAN_CHECK(key_padding_mask.shape() == want, ShapeError, "MultiheadAttention: key_padding_mask must be ",
               want, ", got ", key_padding_mask.shape());
    Tensor kpm = additive(reshape(key_padding_mask, {B, 1, 1, S}), dt, "key_padding_mask");
    mask = mask.defined() ? add(mask, kpm) : kpm;
  }
  auto [o, w] = scaled_dot_product_attention_weights(q, k, v, mask, is_training() ? opts_.dropout : 0.0, causal_flag);
  Tensor out = out_proj->forward(reshape(permute(o, {0, 2, 1, 3}), {B, L, E}));
  out = !batched ? squeeze(out, 0) : opts_.batch_first ? out : transpose(out, 0, 1);
  Tensor weights;
  if (need_weights) {
    weights = average_attn_weights ? mean(w, {1}) : w;
    if (!batched) weights = squeeze(weights, 0);
  }
  return {out, weights};
}

Tensor MultiheadAttention::forward(const Tensor& x) { return forward(x, x, x, Tensor(), false).first; }

std::shared_ptr<Module> MultiheadAttention::clone() const {
  auto c = std::make_shared<MultiheadAttention>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string MultiheadAttention::repr() const {
  return str("MultiheadAttention(embed_dim=", opts_.embed_dim, ", num_heads=", opts_.num_heads,
             opts_.dropout > 0 ? str(", dropout=", opts_.dropout) : "", opts_.bias ? "" : ", bias=false",
             opts_.batch_first ? ", batch_first=true" : "", ")");
}

}  // namespace koan::nn
