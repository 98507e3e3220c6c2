#include "transformer/char_transformer.h"

#include "koan/autograd/grad_mode.h"
#include "koan/core/error.h"
#include "koan/ops/binary.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

using namespace koan;

namespace text {

CharTransformer::CharTransformer(CharTransformerOptions o) : CharModel("CharTransformer"), opts_(std::move(o)) {
  KOAN_CHECK(opts_.vocab > 0 && opts_.context > 0 && opts_.d_model > 0 && opts_.layers > 0, ValueError,
             "CharTransformer: vocab ", opts_.vocab, ", context ", opts_.context, ", d_model ", opts_.d_model,
             ", layers ", opts_.layers, " must all be positive");
  if (opts_.feedforward <= 0) opts_.feedforward = 4 * opts_.d_model;
  token_embedding = register_module("token_embedding", std::make_shared<nn::Embedding>(nn::EmbeddingOptions{
                                                           .num_embeddings = opts_.vocab, .embedding_dim = opts_.d_model}));
  position_embedding = register_parameter("position_embedding", zeros({opts_.context, opts_.d_model}));
  {
    // Small embeddings (std 0.02, as GPT-2) keep the residual stream's scale near the blocks'
    // outputs at the start; torch's N(0, 1) default would drown them.
    NoGradGuard g;
    normal_(token_embedding->weight, 0, 0.02);
    normal_(position_embedding, 0, 0.02);
  }
  blocks = register_module("blocks", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < opts_.layers; ++i)
    blocks->push_back(std::make_shared<nn::TransformerEncoderLayer>(nn::TransformerEncoderLayerOptions{
        .d_model = opts_.d_model, .nhead = opts_.heads, .dim_feedforward = opts_.feedforward,
        .dropout = opts_.dropout, .activation = opts_.activation, .batch_first = true, .norm_first = true}));
  final_norm = register_module("final_norm", std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = {opts_.d_model}}));
  head = register_module("head", std::make_shared<nn::Linear>(nn::LinearOptions{.in = opts_.d_model, .out = opts_.vocab}));
}

Tensor CharTransformer::forward(const Tensor& tokens) {
  KOAN_CHECK(tokens.dim() == 2, ShapeError, "CharTransformer: expected token ids (B, T), got ", tokens.shape());
  const int64_t T = tokens.size(1);
  KOAN_CHECK(T >= 1 && T <= opts_.context, ShapeError, "CharTransformer: ", T,
             " positions, but the model learned positions for 1..", opts_.context);
  Tensor x = add(token_embedding->forward(tokens), narrow(position_embedding, 0, 0, T));
  for (const auto& block : *blocks)
    x = std::static_pointer_cast<nn::TransformerEncoderLayer>(block)->forward(x, Tensor(), Tensor(), /*is_causal=*/true);
  return head->forward(final_norm->forward(x));
}

std::string CharTransformer::repr() const {
  return str("CharTransformer(vocab=", opts_.vocab, ", context=", opts_.context, ", d_model=", opts_.d_model,
             ", heads=", opts_.heads, ", layers=", opts_.layers, ", feedforward=", opts_.feedforward, ")");
}

}  // namespace text
