// Embedding lookup: rows of a (num_embeddings, dim) table picked by integer indices.
//
//   Tensor table = koan::randn({1000, 64}).requires_grad_();
//   Tensor tokens = koan::tensor({{3, 0, 7}, {1, 1, 0}});      // int64 (batch, seq)
//   Tensor e = koan::embedding(tokens, table, /*padding_idx=*/0);   // (2, 3, 64)
#pragma once
#include <optional>

#include "koan/tensor/tensor.h"

namespace koan {

// out = weight[indices] with shape indices.shape + (dim).  indices int64 or int32, each in
// [0, num_embeddings) (others throw IndexError).  The weight's gradient is nonzero only on the
// rows the batch used (repeated indices sum); the padding_idx row (negative counts from the end)
// gets none.
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace koan
