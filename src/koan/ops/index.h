// Indexing ops: pick, place and mask elements by integer index tensors (int64) or bool masks.
//
//   Tensor rows = koan::index_select(x, 0, koan::tensor({2, 0}));        // x[[2, 0]]
//   Tensor g = koan::gather(logp, 1, target.unsqueeze(1));               // per-row pick
//   Tensor y = koan::index(x, {i, j});                                   // x[i, j] (advanced)
//   koan::index_put_(x, {mask}, koan::scalar_tensor(0.f, x.dtype()));   // x[mask] = 0
//   Tensor z = koan::masked_fill(x, x.lt(0), 0.0);
//
// Indices out of range throw koan::IndexError naming the op, the index and the dim size.
// Gradients flow to the float inputs (never to indices or masks) and are differentiable again.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan {

// x with dim restricted to the rows in `index` (1-D or 0-d int64), in that order.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[i][j][k] = x[i][index[i][j][k]][k] (dim 1); index has x's number of dims.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of x with out[i][index[i][j][k]][k] = src[i][j][k] (dim 1).  Duplicate destinations
// keep the last write in index order.
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, Scalar value);
// Same, summing into x (deterministic at any thread count).
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// A copy of x with src's slices along dim added at rows `index` (1-D int64): index_add_.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, Scalar alpha = 1);
// x with value where mask (bool, broadcastable to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);
// The elements of x where mask is true (both broadcast), as a 1-D tensor in row-major order.
Tensor masked_select(const Tensor& x, const Tensor& mask);

// Advanced indexing x[i0, i1, ...] over leading dims: int64 index tensors broadcast together to
// a shape B and the result is B + x.shape[k:] (negative indices count from the end).  A single
// bool tensor selects like masked_select over x's leading mask.dim() dims.
Tensor index(const Tensor& x, const std::vector<Tensor>& indices);
// Out of place x[indices] = values (values broadcast to the indexed shape); with `accumulate`,
// x[indices] += values summing duplicates.
Tensor index_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values,
                 bool accumulate = false);
// In place: writes into x's storage and bumps its version counter.
Tensor& index_put_(Tensor& x, const std::vector<Tensor>& indices, const Tensor& values,
                   bool accumulate = false);

// indices.shape + {num_classes}, int64, 1 at each index.  num_classes = -1 uses max + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);

}  // namespace koan
