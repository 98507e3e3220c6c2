// Attention as a composition of matmul, masked_softmax (scale, mask and softmax in one op, the
// causal triangle skipped) and dropout: each has its own backward rule, so the gradient and
// create_graph come for free.
#include "koan/ops/attention.h"

#include <cmath>

#include "koan/ops/dropout.h"
#include "koan/ops/linalg.h"
#include "koan/ops/shape.h"
#include "koan/ops/softmax.h"

namespace koan {

std::pair<Tensor, Tensor> scaled_dot_product_attention_weights(const Tensor& q, const Tensor& k,
                                                               const Tensor& v, const Tensor& attn_mask,
                                                               double dropout_p, bool is_causal,
                                                               std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  KOAN_CHECK(q.defined() && k.defined() && v.defined(), ValueError, op, ": q, k and v must be defined");
  KOAN_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, ShapeError, op,
             ": q, k, v need at least 2 dims (..., L, E), got ", q.shape(), ", ", k.shape(), ", ", v.shape());
  KOAN_CHECK(is_floating(q.dtype()) && k.dtype() == q.dtype() && v.dtype() == q.dtype(), DTypeError, op,
             ": q, k, v must share one floating dtype, got ", name(q.dtype()), ", ", name(k.dtype()), ", ",
             name(v.dtype()));
  KOAN_CHECK(q.size(-1) == k.size(-1), ShapeError, op, ": q ", q.shape(), " and k ", k.shape(),
             " must have the same embedding size (last dim)");
  KOAN_CHECK(k.size(-2) == v.size(-2), ShapeError, op, ": k ", k.shape(), " and v ", v.shape(),
             " must have the same sequence length (dim -2)");
  KOAN_CHECK(!(is_causal && attn_mask.defined()), ValueError, op,
             ": pass either attn_mask or is_causal, not both");
  KOAN_CHECK(dropout_p >= 0 && dropout_p < 1, ValueError, op, ": dropout_p must be in [0, 1), got ", dropout_p);
  KOAN_CHECK(!attn_mask.defined() || attn_mask.dtype() == DType::Bool || attn_mask.dtype() == q.dtype(),
             DTypeError, op, ": attn_mask must be bool or of the query's dtype ", name(q.dtype()), ", got ",
             name(attn_mask.dtype()));
  double sc = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  Tensor w = masked_softmax(matmul(q, transpose(k, -2, -1)), attn_mask, sc, is_causal);
  if (dropout_p > 0) w = dropout(w, dropout_p, true);
  return {matmul(w, v), w};
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                    double dropout_p, bool is_causal, std::optional<double> scale) {
  return scaled_dot_product_attention_weights(q, k, v, attn_mask, dropout_p, is_causal, scale).first;
}

}  // namespace koan
