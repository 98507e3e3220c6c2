// A small character-level Transformer language model (GPT-style decoder-only): token and
// learned positional embeddings, pre-norm blocks of causal self-attention and a feed-forward
// net, a final LayerNorm and a linear layer to logits.
//
//   text::CharTransformer m({.vocab = 83, .context = 128, .d_model = 128, .heads = 4, .layers = 4});
//   Tensor logits = m.forward(x);         // x int64 (B, T <= 128) -> (B, T, 83); position t sees 0..t
//
// Each block is nn::TransformerEncoderLayer with norm_first and is_causal:
//   x = x + Attention(LayerNorm(x)),  x = x + FeedForward(LayerNorm(x)).
#pragma once
#include <memory>

#include "koan/nn/container.h"
#include "koan/nn/embedding.h"
#include "koan/nn/linear.h"
#include "koan/nn/norm.h"
#include "koan/nn/transformer.h"
#include "text/char_model.h"

namespace text {

struct CharTransformerOptions {
  int64_t vocab = 0;
  int64_t context = 128;   // the longest input (positions learned)
  int64_t d_model = 128;
  int64_t heads = 4;
  int64_t layers = 4;
  int64_t feedforward = 0;  // 0: 4 * d_model
  double dropout = 0;
  std::string activation = "gelu";
};

class CharTransformer : public CharModel {
 public:
  explicit CharTransformer(CharTransformerOptions o);
  koan::Tensor forward(const koan::Tensor& tokens) override;
  int64_t vocab_size() const override { return opts_.vocab; }
  std::string repr() const override;
  const CharTransformerOptions& options() const { return opts_; }

  std::shared_ptr<koan::nn::Embedding> token_embedding;
  koan::Tensor position_embedding;  // (context, d_model)
  std::shared_ptr<koan::nn::ModuleList> blocks;
  std::shared_ptr<koan::nn::LayerNorm> final_norm;
  std::shared_ptr<koan::nn::Linear> head;

 private:
  CharTransformerOptions opts_;
};

}  // namespace text
