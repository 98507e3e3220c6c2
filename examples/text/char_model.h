// The interface the character language models share (the LSTM/GRU here, the Transformer in
// examples/transformer), so one training loop, one held-out measure and one sampler serve all.
//
//   std::shared_ptr<text::CharModel> m = std::make_shared<text::CharRNN>(opts);
//   Tensor logits = m->forward(x);                         // x int64 (B, T) -> (B, T, V)
//   double nats = m->heldout_nats(corpus.heldout, 128);    // mean -log p per character
//   auto ids = m->generate(corpus.encode("Call me "), 400, 0.8, gen);
#pragma once
#include <string>
#include <vector>

#include "koan/nn/module.h"
#include "koan/tensor/random.h"

namespace text {

class CharModel : public koan::nn::Module {
 public:
  using Module::Module;
  // tokens int64 (B, T) -> logits (B, T, V); every row starts from an empty context.
  koan::Tensor forward(const koan::Tensor& tokens) override = 0;
  virtual int64_t vocab_size() const = 0;
  // Mean -log p(ids[i + 1] | ids[s..i]) in nats over every i, with the stream cut into
  // consecutive windows of `context` characters, each read from an empty context (the way both
  // kinds of model are trained), `batch` windows per forward pass, in eval mode without a graph.
  virtual double heldout_nats(const std::vector<int64_t>& ids, int64_t context, int64_t batch = 64);
  // `n` characters drawn one by one after `prime` at the given temperature, each from the last
  // `context` characters (recurrent models override this to carry their state instead).
  virtual std::vector<int64_t> generate(const std::vector<int64_t>& prime, int64_t n, double temperature,
                                        koan::Generator& gen, int64_t context = 128);
};

}  // namespace text
