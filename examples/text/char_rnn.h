// A character-level recurrent language model: embedding -> LSTM or GRU -> linear to logits.
//
//   text::CharRNN m({.cell = "lstm", .vocab = 83, .embed = 64, .hidden = 256});
//   Tensor logits = m.forward(x);                      // x int64 (B, T) -> (B, T, 83)
//   auto [logits, state] = m.step(x, state);           // carrying (h, c) across calls
#pragma once
#include <memory>
#include <string>
#include <utility>

#include "koan/nn/embedding.h"
#include "koan/nn/linear.h"
#include "koan/nn/rnn.h"
#include "text/char_model.h"

namespace text {

struct CharRNNOptions {
  std::string cell = "lstm";  // or "gru"
  int64_t vocab = 0;
  int64_t embed = 64;
  int64_t hidden = 256;
  int64_t layers = 1;
  double dropout = 0;  // between stacked layers
};

class CharRNN : public CharModel {
 public:
  explicit CharRNN(CharRNNOptions o);
  koan::Tensor forward(const koan::Tensor& tokens) override;
  // One call of the recurrence from `state` (undefined tensors: zeros); returns the logits and
  // the state after the last character (for GRU, state.c stays undefined).
  std::pair<koan::Tensor, koan::nn::LSTMState> step(const koan::Tensor& tokens, const koan::nn::LSTMState& state);
  int64_t vocab_size() const override { return opts_.vocab; }
  std::vector<int64_t> generate(const std::vector<int64_t>& prime, int64_t n, double temperature,
                                koan::Generator& gen, int64_t context = 128) override;
  std::string repr() const override;
  const CharRNNOptions& options() const { return opts_; }

  std::shared_ptr<koan::nn::Embedding> embedding;
  std::shared_ptr<koan::nn::LSTM> lstm;  // one of lstm / gru is set
  std::shared_ptr<koan::nn::GRU> gru;
  std::shared_ptr<koan::nn::Linear> head;

 private:
  CharRNNOptions opts_;
};

}  // namespace text
