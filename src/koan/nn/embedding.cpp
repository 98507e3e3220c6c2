#include "koan/nn/embedding.h"

#include "koan/ops/embedding.h"
#include "koan/ops/inplace.h"
#include "koan/tensor/creation.h"

namespace koan::nn {

Embedding::Embedding(EmbeddingOptions o) : Module("Embedding"), opts_(o) {
  KOAN_CHECK(o.num_embeddings > 0 && o.embedding_dim > 0, ValueError,
             "Embedding: num_embeddings and embedding_dim must be positive, got ", o.num_embeddings, " and ",
             o.embedding_dim);
  if (o.padding_idx) {
    int64_t p = *o.padding_idx;
    KOAN_CHECK(p >= -o.num_embeddings && p < o.num_embeddings, ValueError, "Embedding: padding_idx ", p,
               " must be within num_embeddings ", o.num_embeddings);
    opts_.padding_idx = p < 0 ? p + o.num_embeddings : p;
  }
  Tensor w = empty({o.num_embeddings, o.embedding_dim}, {.dtype = o.dtype});
  normal_(w, 0, 1);
  if (opts_.padding_idx) {
    Tensor row = w.select(0, *opts_.padding_idx);
    zero_(row);
  }
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(indices, weight, opts_.padding_idx); }

std::shared_ptr<Module> Embedding::clone() const {
  auto c = std::make_shared<Embedding>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

std::string Embedding::repr() const {
  return str("Embedding(num_embeddings=", opts_.num_embeddings, ", embedding_dim=", opts_.embedding_dim,
             opts_.padding_idx ? str(", padding_idx=", *opts_.padding_idx) : std::string(), ")");
}

}  // namespace koan::nn
