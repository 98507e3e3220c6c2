#include "recommender/sparse_embedding.h"

#include <cmath>
#include <vector>

#include "koan/autograd/grad_mode.h"
#include "koan/ops/embedding.h"
#include "koan/ops/index.h"
#include "koan/ops/inplace.h"
#include "koan/ops/operators.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

namespace koan::examples {

SparseEmbedding::SparseEmbedding(int64_t num_embeddings, int64_t dim, double init_std, Generator& gen) {
  KOAN_CHECK(num_embeddings > 0 && dim > 0 && init_std >= 0, ValueError, "SparseEmbedding: num_embeddings ",
             num_embeddings, " and dim ", dim, " must be positive and init_std ", init_std, " non-negative");
  weight = zeros({num_embeddings, dim});
  if (init_std > 0) normal_(weight, 0, init_std, &gen);
  exp_avg_ = zeros({num_embeddings, dim});
  exp_avg_sq_ = zeros({num_embeddings, dim});
}

Tensor SparseEmbedding::forward(const Tensor& ids) {
  KOAN_CHECK(ids.defined() && ids.dtype() == DType::Int64, DTypeError, "SparseEmbedding: ids must be int64");
  const int64_t V = weight.size(0);
  // The distinct ids in first-seen order, and each id's position among them.
  Tensor flat = contiguous(reshape(ids, {-1}));
  const int64_t* p = flat.data_ptr<int64_t>();
  std::vector<int64_t> slot(V, -1), distinct, local(flat.numel());
  for (int64_t k = 0; k < flat.numel(); ++k) {
    KOAN_CHECK(p[k] >= 0 && p[k] < V, IndexError, "SparseEmbedding: id ", p[k], " at position ", k,
               " is out of range for ", V, " rows");
    if (slot[p[k]] < 0) {
      slot[p[k]] = static_cast<int64_t>(distinct.size());
      distinct.push_back(p[k]);
    }
    local[k] = slot[p[k]];
  }
  row_ids_ = from_vector(distinct);
  rows_ = index_select(weight, 0, row_ids_).requires_grad_();  // a copy: the leaf autograd sees
  return embedding(reshape(from_vector(local), ids.shape()), rows_);
}

Tensor SparseEmbedding::lookup(const Tensor& ids) const {
  NoGradGuard no_grad;
  return embedding(ids, weight);
}

void SparseEmbedding::step(const SparseAdamOptions& o) {
  if (!rows_.defined() || !rows_.grad().defined()) {
    rows_ = row_ids_ = Tensor();
    return;
  }
  NoGradGuard no_grad;
  ++step_;
  const double t = static_cast<double>(step_);
  Tensor g = rows_.grad();
  Tensor m = index_select(exp_avg_, 0, row_ids_) * o.beta1 + g * (1 - o.beta1);
  Tensor v = index_select(exp_avg_sq_, 0, row_ids_) * o.beta2 + g * g * (1 - o.beta2);
  // torch.optim.SparseAdam's arrangement of the bias corrections (eps added to the raw √v).
  const double step_size = o.lr * std::sqrt(1 - std::pow(o.beta2, t)) / (1 - std::pow(o.beta1, t));
  Tensor w = rows_.detach() - m / (sqrt(v) + o.eps) * step_size;
  index_put_(exp_avg_, {row_ids_}, m);
  index_put_(exp_avg_sq_, {row_ids_}, v);
  index_put_(weight, {row_ids_}, w);
  rows_ = row_ids_ = Tensor();
}

}  // namespace koan::examples
