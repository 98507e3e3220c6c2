// What ops/rnn.cpp (the cells) and ops/rnn_sequence.cpp (whole sequences) share.
#pragma once
#include <vector>

#include "koan/kernels/rnn.h"
#include "koan/ops/rnn.h"

namespace koan::ops_detail {

// The gate gradients of one step written with ops, so that under create_graph the backward is
// itself differentiable: gi, gh (B, G) the input and hidden projections with their biases, h and
// c the previous state, dh and dc the gradients of h' and c'.  Returns {dgi, dgh, dc_prev,
// dh_direct} as kernels::rnn_cell_backward defines them (undefined where the kind has none).
std::vector<Tensor> rnn_gate_grads_ops(kernels::CellKind kind, const Tensor& gi, const Tensor& gh, const Tensor& h,
                                       const Tensor& c, const Tensor& dh, const Tensor& dc);

inline kernels::CellKind cell_kind(RNNCellKind k) {
  return k == RNNCellKind::Tanh   ? kernels::CellKind::RnnTanh
         : k == RNNCellKind::Relu ? kernels::CellKind::RnnRelu
         : k == RNNCellKind::LSTM ? kernels::CellKind::Lstm
                                  : kernels::CellKind::Gru;
}

}  // namespace koan::ops_detail
