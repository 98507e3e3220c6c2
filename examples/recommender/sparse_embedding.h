// An embedding table whose gradient and update touch only the rows a batch uses.
//
//   SparseEmbedding users(671, 64, /*init_std=*/0.01, gen);
//   Tensor e = users.forward(batch_users);    // (B, 64); records the batch's distinct rows
//   loss.backward();                          // the gradient lands on those rows only: (rows, 64)
//   users.step({.lr = 0.01});                 // lazy Adam on those rows; the others are untouched
//
// Why not nn::Embedding: koan's embedding backward returns a dense (num_embeddings, dim)
// gradient (zeros except the used rows), and every optimizer then updates every row, with Adam
// moving rows the batch never saw through their momentum.  Here forward() copies the batch's
// distinct rows into a small leaf tensor and looks the batch up in it, so autograd produces a
// (distinct rows, dim) gradient, and step() applies torch.optim.SparseAdam's rule to those rows
// only: per row, m = β1 m + (1 − β1) g, v = β2 v + (1 − β2) g², then
// w −= lr · √(1 − β2^t) / (1 − β1^t) · m / (√v + ε), with t the table's step count (PyTorch
// parity: tests/fixtures/projects/gen_sparse_adam.py).
#pragma once
#include <cstdint>

#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace koan::examples {

struct SparseAdamOptions {
  double lr = 1e-2;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
};

class SparseEmbedding {
 public:
  // Rows drawn from N(0, init_std²) (init_std = 0: zeros), float32.
  SparseEmbedding(int64_t num_embeddings, int64_t dim, double init_std, Generator& gen);

  // Training lookup: ids (any shape, int64) -> ids.shape + (dim), differentiable with respect to
  // the batch's distinct rows (rows()).  Replaces the previous batch's rows.
  Tensor forward(const Tensor& ids);
  // Inference lookup straight from the table (no graph).
  Tensor lookup(const Tensor& ids) const;
  // The lazy Adam step on the rows of the last forward(), using their gradient; a no-op when
  // they received none.  Clears them.
  void step(const SparseAdamOptions& o);

  Tensor weight;                                   // (num_embeddings, dim), no gradient
  const Tensor& rows() const { return rows_; }     // the last batch's distinct rows (leaf)
  const Tensor& row_ids() const { return row_ids_; }
  int64_t steps() const { return step_; }

 private:
  Tensor exp_avg_, exp_avg_sq_;  // Adam's moments, one row per embedding row
  Tensor rows_, row_ids_;
  int64_t step_ = 0;
};

}  // namespace koan::examples
