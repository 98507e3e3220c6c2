// Embedding layer: a learnable (num_embeddings, embedding_dim) table looked up by integer ids,
// initialised N(0, 1) with the padding row zeroed, as torch.nn.Embedding.
//
//   nn::Embedding emb({.num_embeddings = 10000, .embedding_dim = 128, .padding_idx = 0});
//   Tensor e = emb.forward(tokens);   // tokens int64 (B, T) -> (B, T, 128)
#pragma once
#include <optional>

#include "koan/nn/module.h"

namespace koan::nn {

struct EmbeddingOptions {
  int64_t num_embeddings = 0;
  int64_t embedding_dim = 0;
  // A row that stays zero and gets no gradient; negative counts from the end.
  std::optional<int64_t> padding_idx = std::nullopt;
  DType dtype = kDefaultFloat;
};

class Embedding : public Module {
 public:
  explicit Embedding(EmbeddingOptions o);
  Tensor forward(const Tensor& indices) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const EmbeddingOptions& options() const { return opts_; }  // padding_idx already wrapped

  Tensor weight;  // (num_embeddings, embedding_dim)

 private:
  EmbeddingOptions opts_;
};

}  // namespace koan::nn
