#include "koan/ops/embedding.h"

#include "koan/kernels/index.h"
#include "koan/kernels/norm.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/index.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding_idx) {
  const char* op = "embedding";
  KOAN_CHECK(indices.defined() && weight.defined(), ValueError, "embedding: undefined indices or weight");
  KOAN_CHECK(indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32, DTypeError,
             "embedding: indices must be int64 or int32, got ", name(indices.dtype()));
  KOAN_CHECK(weight.dim() == 2, ShapeError, "embedding: weight ", weight.shape(),
             " must be 2-D (num_embeddings, embedding_dim)");
  KOAN_CHECK(is_floating(weight.dtype()), DTypeError, "embedding: weight must be floating, got ",
             name(weight.dtype()));
  const int64_t V = weight.size(0), D = weight.size(1);
  int64_t pad = -1;
  if (padding_idx) {
    KOAN_CHECK(*padding_idx >= -V && *padding_idx < V, ValueError, "embedding: padding_idx ", *padding_idx,
               " must be within num_embeddings ", V);
    pad = *padding_idx < 0 ? *padding_idx + V : *padding_idx;
  }
  const int64_t n = indices.numel();
  Tensor idx = contiguous(reshape(detach(indices).to(DType::Int64), {n}));
  kernels::check_index_range(idx, V, op, 0, /*allow_negative=*/false);
  Shape os = indices.shape();
  os.push_back(D);
  Tensor out = new_output(os, weight.dtype());
  kernels::embedding(detach(weight), idx, out);
  if (autograd::needs_grad({&weight})) {
    autograd::record(
        "EmbeddingBackward", {weight}, {out},
        [si = SavedTensor(idx, false), pad, V, D, n](FunctionNode& self, Grads& g) {
          Tensor G = g[0], I = si.unpack(self.self());
          if (!autograd::needs_grad({&G})) {
            Tensor gw = zeros({V, D}, {.dtype = G.dtype()});
            kernels::embedding_backward(contiguous(reshape(detach(G), {n, D})), I, pad, gw);
            return Grads{gw};
          }
          // With ops for create_graph: a scatter-add of the used rows, padding rows masked out.
          Tensor G2 = reshape(G, {n, D});
          if (pad >= 0) G2 = masked_fill(G2, unsqueeze(eq(I, pad), 1), 0.0);
          return Grads{index_add(zeros({V, D}, {.dtype = G.dtype()}), 0, I, G2)};
        });
  }
  return out;
}

}  // namespace koan
