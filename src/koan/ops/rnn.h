// Recurrent cells: one time step of an Elman RNN, an LSTM or a GRU, each one op with its own
// backward rule (PyTorch's math, gate orders and weight layouts).
//
//   Tensor h1 = koan::rnn_tanh_cell(x, h0, w_ih, w_hh, b_ih, b_hh);      // x (B, I), h (B, H)
//   auto [h, c] = koan::lstm_cell(x, {h0, c0}, w_ih, w_hh, b_ih, b_hh);  // w_ih (4H, I): i f g o
//   Tensor h2 = koan::gru_cell(x, h0, w_ih, w_hh, b_ih, b_hh);           // w_ih (3H, I): r z n
//
// Unbatched inputs (x of shape (I), h of shape (H)) give unbatched results.  An undefined h (or c)
// means zeros; undefined biases mean none.
//
// Layers (nn::LSTM...) run a sequence as one GEMM for all the input projections, then the whole
// time loop as one node (the recurrent GEMM and the gate math fused per step; in the backward,
// the weight gradient as one GEMM over all steps):
//
//   Tensor gx = koan::linear(x_seq, w_ih, b_ih);                // (T, B, G): one GEMM
//   auto r = koan::rnn_sequence(RNNCellKind::LSTM, gx, h0, c0, w_hh, b_hh);  // {y, h_n, c_n}
//
// or, one node per step (what rnn_sequence's double backward re-runs):
//
//   auto steps = koan::unbind(gx, 0);                          // views, one autograd node
//   auto hc = koan::rnn_cell_step(RNNCellKind::LSTM, steps[t], h, c, w_hh, b_hh);
#pragma once
#include <utility>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan {

// h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
Tensor rnn_tanh_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());
// h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)
Tensor rnn_relu_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());
// (h', c'): gates i f g o = split(x W_ih^T + b_ih + h W_hh^T + b_hh); c' = sig(f) c + sig(i) tanh(g);
// h' = sig(o) tanh(c').
std::pair<Tensor, Tensor> lstm_cell(const Tensor& x, const std::pair<Tensor, Tensor>& hc,
                                    const Tensor& w_ih, const Tensor& w_hh,
                                    const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());
// h' = (1 - z) n + z h with r, z = sig(W_ir x + b_ir + W_hr h + b_hr), sig(...) and
// n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());

enum class RNNCellKind { Tanh, Relu, LSTM, GRU };

// One step of a layer whose input projection gx = x W_ih^T + b_ih (B, G) was computed ahead
// (any shape with B * G elements and h's batch, e.g. a (1, B, G) slice).  Returns {h'} or, for
// the LSTM, {h', c'}.  The same node type as the cells above, minus the input GEMM.
std::vector<Tensor> rnn_cell_step(RNNCellKind kind, const Tensor& gx, const Tensor& h, const Tensor& c,
                                  const Tensor& w_hh, const Tensor& b_hh = Tensor());

// A whole sequence through one layer and direction: gx (T, B, G) the input projections
// x W_ih^T + b_ih, h0 and c0 (B, H) or undefined (zeros; c0 for the LSTM only), w_hh (G, H),
// b_hh (G) or undefined.  `reverse` runs t = T-1 .. 0 (the backward direction of a
// bidirectional layer).  Returns {y (T, B, H) in time order, h_n} or, for the LSTM,
// {y, h_n, c_n}: the same values as rnn_cell_step applied step by step.
std::vector<Tensor> rnn_sequence(RNNCellKind kind, const Tensor& gx, const Tensor& h0, const Tensor& c0,
                                 const Tensor& w_hh, const Tensor& b_hh = Tensor(), bool reverse = false);

// The slices x.select(dim, i) for every i, as one autograd node: its backward stacks the slice
// gradients (zeros for unused ones) in O(size), where one select per step would embed each step's
// gradient into zeros of the whole sequence (O(size^2)).  Here because recurrent layers need it.
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);

}  // namespace koan
