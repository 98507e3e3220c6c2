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

// A whole sequence through one layer and direction (kernels/cpu/rnn_sequence.cpp): the time loop
// with the recurrent GEMM and the gate math fused per step, and the backward through time.
// Shapes: gx (T, B, G) input projections (b_ih included), h0 and c0 (B, H) (c0 LSTM only),
// w_hh (G, H), b_hh (G) or undefined; everything contiguous.  `reverse` runs t = T-1 .. 0.
// Each step cuts the hidden units into panels of a fixed width (not the thread count), and a
// panel's GEMM and gate math run together on one thread: one parallel region per step, and the
// same result at any thread count.
//
// Forward writes y (T, B, H) (h_t in time order), cs (T, B, H) (c_t, LSTM) and ws (T, B, W).
void rnn_sequence_forward(CellKind kind, bool reverse, const Tensor& gx, const Tensor& h0, const Tensor& c0,
                          const Tensor& w_hh, const Tensor& b_hh, const Tensor& y, const Tensor& cs,
                          const Tensor& ws);

// Backward from dy (T, B, H), dh_n (B, H) and dc_n (B, H; LSTM), each undefined = zero, and the
// forward's y, cs, ws.  Writes dgi (T, B, G) (the gradient of gx) and, where defined: dgh
// (T, B, G; GRU, where it differs from dgi, else pass undefined), dh0, dc0 (B, H), dw_hh (G, H)
// = sum_t dgh_t^T h_{t-1} as one GEMM over all steps, and db_hh (G).
void rnn_sequence_backward(CellKind kind, bool reverse, const Tensor& dy, const Tensor& dh_n,
                           const Tensor& dc_n, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                           const Tensor& y, const Tensor& cs, const Tensor& ws, const Tensor& dgi,
                           const Tensor& dgh, const Tensor& dh0, const Tensor& dc0, const Tensor& dw_hh,
                           const Tensor& db_hh);

}  // namespace koan::kernels
