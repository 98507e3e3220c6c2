#include "text/char_rnn.h"

#include "koan/autograd/grad_mode.h"
#include "koan/core/error.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"
#include "text/char_corpus.h"

using namespace koan;

namespace text {

CharRNN::CharRNN(CharRNNOptions o) : CharModel("CharRNN"), opts_(std::move(o)) {
  KOAN_CHECK(opts_.cell == "lstm" || opts_.cell == "gru", ValueError, "CharRNN: cell must be \"lstm\" or \"gru\", got \"",
             opts_.cell, "\"");
  KOAN_CHECK(opts_.vocab > 0 && opts_.embed > 0 && opts_.hidden > 0 && opts_.layers > 0, ValueError,
             "CharRNN: vocab ", opts_.vocab, ", embed ", opts_.embed, ", hidden ", opts_.hidden, ", layers ",
             opts_.layers, " must all be positive");
  embedding = register_module("embedding", std::make_shared<nn::Embedding>(nn::EmbeddingOptions{
                                               .num_embeddings = opts_.vocab, .embedding_dim = opts_.embed}));
  nn::LSTMOptions r{.input_size = opts_.embed, .hidden_size = opts_.hidden, .num_layers = opts_.layers,
                    .batch_first = true, .dropout = opts_.dropout};
  if (opts_.cell == "lstm")
    lstm = register_module("rnn", std::make_shared<nn::LSTM>(r));
  else
    gru = register_module("rnn", std::make_shared<nn::GRU>(r));
  head = register_module("head", std::make_shared<nn::Linear>(nn::LinearOptions{.in = opts_.hidden, .out = opts_.vocab}));
}

std::pair<Tensor, nn::LSTMState> CharRNN::step(const Tensor& tokens, const nn::LSTMState& state) {
  KOAN_CHECK(tokens.dim() == 2, ShapeError, "CharRNN: expected token ids (B, T), got ", tokens.shape());
  Tensor e = embedding->forward(tokens);
  if (lstm) {
    auto [y, s] = lstm->forward(e, state);
    return {head->forward(y), s};
  }
  auto [y, h] = gru->forward(e, state.h);
  return {head->forward(y), nn::LSTMState{h, Tensor()}};
}

Tensor CharRNN::forward(const Tensor& tokens) { return step(tokens, {}).first; }

std::vector<int64_t> CharRNN::generate(const std::vector<int64_t>& prime, int64_t n, double temperature,
                                       Generator& gen, int64_t /*context*/) {
  KOAN_CHECK(!prime.empty(), ValueError, "generate: the prime text is empty");
  const bool was_training = is_training();
  eval();
  NoGradGuard no_grad;
  // Read the prime once, then feed each drawn character back with the carried state.
  auto [logits, state] = step(from_vector(prime, Shape{1, static_cast<int64_t>(prime.size())}), {});
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t next = sample_index(select(select(logits, 0, 0), 0, logits.size(1) - 1), temperature, gen);
    out.push_back(next);
    std::tie(logits, state) = step(from_vector(std::vector<int64_t>{next}, Shape{1, 1}), state);
  }
  train(was_training);
  return out;
}

std::string CharRNN::repr() const {
  return koan::str("CharRNN(", opts_.cell, ", vocab=", opts_.vocab, ", embed=", opts_.embed, ", hidden=", opts_.hidden,
                   ", layers=", opts_.layers, ")");
}

}  // namespace text
