// Recurrent layers as torch.nn.RNN / LSTM / GRU: same options, parameter names
// (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse), initialisation
// U(-1/sqrt(hidden), 1/sqrt(hidden)), shapes and results.
//
//   nn::LSTM lstm({.input_size = 32, .hidden_size = 64, .num_layers = 2, .batch_first = true});
//   auto [y, state] = lstm.forward(x, {});          // x (B, T, 32) -> y (B, T, 64)
//   Tensor h_n = state.h, c_n = state.c;            // (num_layers * directions, B, 64)
//   nn::GRU gru({.input_size = 8, .hidden_size = 16, .bidirectional = true});
//   auto [out, h] = gru.forward(x_tbi, h0);         // h0 may be an undefined Tensor (zeros)
//
// Inputs are (T, B, I), or (B, T, I) with batch_first, or unbatched (T, I).  Each layer and
// direction projects the whole sequence's inputs in one GEMM, then runs the time loop as one op
// (rnn_sequence: the recurrent GEMM and the gate math fused per step).
#pragma once
#include <string>
#include <utility>

#include "koan/nn/module.h"
#include "koan/ops/rnn.h"

namespace koan::nn {

struct RNNOptions {
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  std::string nonlinearity = "tanh";  // or "relu"
  bool bias = true;
  bool batch_first = false;
  double dropout = 0;  // on the outputs of every layer but the last, in training only
  bool bidirectional = false;
  DType dtype = kDefaultFloat;
};

struct LSTMOptions {
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0;
  bool bidirectional = false;
  DType dtype = kDefaultFloat;
};
using GRUOptions = LSTMOptions;

// The shared machinery: parameters per layer and direction, and the time loop.
class RNNBase : public Module {
 public:
  RNNBase(std::string type, RNNCellKind kind, const RNNOptions& o);
  // Output only (state from zeros), for Sequential.
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;
  const RNNOptions& options() const { return opts_; }
  // The weights of layer l in direction d (0 forward, 1 reverse): w_ih, w_hh, b_ih, b_hh (the
  // biases undefined without bias).
  std::vector<Tensor> weights(int64_t layer, int64_t direction) const;

 protected:
  // Runs the stack: h0 / c0 are (layers * directions, B, H) or undefined.  Returns output, h_n, c_n.
  std::vector<Tensor> run(const Tensor& x, const Tensor& h0, const Tensor& c0);
  RNNCellKind kind_;
  RNNOptions opts_;
};

class RNN : public RNNBase {
 public:
  explicit RNN(const RNNOptions& o);
  using RNNBase::forward;
  // (output, h_n); h0 (layers * directions, B, H) or undefined for zeros.
  std::pair<Tensor, Tensor> forward(const Tensor& x, const Tensor& h0);
  std::shared_ptr<Module> clone() const override;
};

struct LSTMState {
  Tensor h, c;
};

class LSTM : public RNNBase {
 public:
  explicit LSTM(const LSTMOptions& o);
  using RNNBase::forward;
  // (output, (h_n, c_n)); state.h / state.c may be undefined (zeros).
  std::pair<Tensor, LSTMState> forward(const Tensor& x, const LSTMState& state);
  std::shared_ptr<Module> clone() const override;
  const LSTMOptions& lstm_options() const { return lopts_; }

 private:
  LSTMOptions lopts_;
};

class GRU : public RNNBase {
 public:
  explicit GRU(const GRUOptions& o);
  using RNNBase::forward;
  std::pair<Tensor, Tensor> forward(const Tensor& x, const Tensor& h0);
  std::shared_ptr<Module> clone() const override;

 private:
  GRUOptions gopts_;
};

}  // namespace koan::nn
