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
// Layers (nn::LSTM...) run a sequence as one GEMM for all the input projections, then one
// rnn_cell_step per time step, which does the recurrent GEMM and the gate math in one node:
//
//   Tensor gx = koan::linear(x_seq, w_ih, b_ih);                // (T, B, G): one GEMM
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

// The slices x.select(dim, i) for every i, as one autograd node: its backward stacks the slice
// gradients (zeros for unused ones) in O(size), where one select per step would embed each step's
// gradient into zeros of the whole sequence (O(size^2)).  Here because recurrent layers need it.
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);

}  // namespace koan
