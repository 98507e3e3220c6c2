// The pointwise half of the recurrent cells (the GEMMs around them are kernels::bmm calls made by
// ops/rnn.cpp): gate activations and the new state in one pass, and the gate gradients in one
// pass back.
//
// Shapes (B batch, H hidden, G = gates * H with gates 1 (RNN), 4 (LSTM, order i f g o), 3 (GRU,
// order r z n)); every tensor contiguous and of one floating dtype:
//   gi, gh      (B, G)  input and hidden projections without biases (gi may already hold b_ih)
//   b_ih, b_hh  (G)     or undefined
//   h, c        (B, H)  previous hidden (GRU reads it) and cell state (LSTM reads it)
//   ws          (B, W)  workspace the backward reads: RNN W = H (the output), LSTM W = 5H
//                       (i f g o tanh(c')), GRU W = 4H (r z n, W_hn h + b_hn)
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

enum class CellKind { RnnTanh, RnnRelu, Lstm, Gru };

inline int64_t cell_gates(CellKind k) { return k == CellKind::Lstm ? 4 : k == CellKind::Gru ? 3 : 1; }
inline int64_t cell_workspace(CellKind k) { return k == CellKind::Lstm ? 5 : k == CellKind::Gru ? 4 : 1; }

// h_out (B, H) = the new hidden state; c_out (B, H) = the new cell state (LSTM only).
void rnn_cell_forward(CellKind kind, const Tensor& gi, const Tensor& gh, const Tensor& b_ih,
                      const Tensor& b_hh, const Tensor& h, const Tensor& c, const Tensor& h_out,
                      const Tensor& c_out, const Tensor& ws);

// From the output gradients dh (B, H) and dc (B, H; LSTM, may be undefined = zero):
//   dgi (B, G)  gradient of the input projection (and b_ih)
//   dgh (B, G)  gradient of the hidden projection (and b_hh); differs from dgi only for GRU
//   dc_prev     (B, H)  LSTM: gradient of the previous cell state
//   dh_direct   (B, H)  GRU: the part of dh_prev that bypasses W_hh (dh * z)
// Outputs that the kind does not produce may be undefined.
void rnn_cell_backward(CellKind kind, const Tensor& dh, const Tensor& dc, const Tensor& ws,
                       const Tensor& c, const Tensor& h, const Tensor& dgi, const Tensor& dgh,
                       const Tensor& dc_prev, const Tensor& dh_direct);

}  // namespace koan::kernels
