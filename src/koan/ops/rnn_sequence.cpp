// rnn_sequence: a whole sequence through one recurrent layer and direction as one node.  The
// forward and the first-order backward are kernels::rnn_sequence_* (the time loop fused per step,
// the weight gradient as one GEMM over all steps); under create_graph the backward re-runs the
// sequence with the differentiable per-step cells and writes backpropagation through time with
// ops, so it can be differentiated again.
#include "koan/kernels/rnn.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/join.h"
#include "koan/ops/linalg.h"
#include "koan/ops/reduce.h"
#include "koan/ops/rnn.h"
#include "koan/ops/rnn_internal.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;
using kernels::CellKind;

namespace {

enum Slot { kGx, kH0, kC0, kWhh, kBhh, kSlots };

const char* node_name(CellKind k) {
  switch (k) {
    case CellKind::RnnTanh: return "RnnTanhSequenceBackward";
    case CellKind::RnnRelu: return "RnnReluSequenceBackward";
    case CellKind::Lstm: return "LstmSequenceBackward";
    case CellKind::Gru: return "GruSequenceBackward";
  }
  return "";
}

struct SeqShape {
  int64_t S, B, H, G;
};

SeqShape check_sequence(CellKind kind, const Tensor& gx, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                        const Tensor& b_hh) {
  const char* op = "rnn_sequence";
  KOAN_CHECK(gx.defined() && w_hh.defined(), ValueError, op, ": gx and w_hh must be defined");
  KOAN_CHECK(is_floating(gx.dtype()), DTypeError, op, ": needs a floating dtype, got ", name(gx.dtype()));
  for (const Tensor* t : {&h0, &c0, &w_hh, &b_hh})
    KOAN_CHECK(!t->defined() || t->dtype() == gx.dtype(), DTypeError, op, ": all tensors must have gx's dtype ",
               name(gx.dtype()), ", got ", name(t->dtype()));
  const int64_t gates = kernels::cell_gates(kind);
  KOAN_CHECK(w_hh.dim() == 2 && w_hh.size(1) > 0 && w_hh.size(0) == gates * w_hh.size(1), ShapeError, op,
             ": w_hh must be (", gates, " * hidden, hidden), got ", w_hh.shape());
  SeqShape s{0, 0, w_hh.size(1), w_hh.size(0)};
  KOAN_CHECK(gx.dim() == 3 && gx.size(2) == s.G && gx.size(0) > 0, ShapeError, op,
             ": gx must be (steps > 0, batch, ", s.G, ") for w_hh ", w_hh.shape(), ", got ", gx.shape());
  s.S = gx.size(0);
  s.B = gx.size(1);
  for (const Tensor* t : {&h0, &c0})
    KOAN_CHECK(!t->defined() || (t->shape() == Shape{s.B, s.H}), ShapeError, op, ": state must be (", s.B, ", ", s.H,
               "), got ", t->shape());
  KOAN_CHECK(!c0.defined() || kind == CellKind::Lstm, ValueError, op, ": only the LSTM has a cell state");
  KOAN_CHECK(!b_hh.defined() || (b_hh.shape() == Shape{s.G}), ShapeError, op, ": b_hh must be (", s.G, "), got ",
             b_hh.shape());
  return s;
}

// Backpropagation through time written with ops (the create_graph path).  v: the saved inputs
// (h0, c0 made zeros when absent); g: the output gradients.  Returns one gradient per slot.
Grads sequence_grads_ops(CellKind kind, RNNCellKind pub, bool reverse, const SeqShape& s, const std::vector<Tensor>& v,
                         const Grads& g) {
  const bool lstm = kind == CellKind::Lstm;
  // The states before each step, recomputed with history.
  auto steps = unbind(v[kGx], 0);
  std::vector<Tensor> hprev(s.S), cprev(s.S);
  Tensor h = v[kH0], c = v[kC0];
  for (int64_t i = 0; i < s.S; ++i) {
    const int64_t t = reverse ? s.S - 1 - i : i;
    hprev[t] = h;
    cprev[t] = c;
    auto r = rnn_cell_step(pub, steps[t], h, c, v[kWhh], v[kBhh]);
    h = r[0];
    if (lstm) c = r[1];
  }
  auto zero = [&] { return zeros({s.B, s.H}, {.dtype = v[kGx].dtype()}); };
  Tensor dh = g[1].defined() ? g[1] : zero();
  Tensor dc = lstm ? (g[2].defined() ? g[2] : zero()) : Tensor();
  std::vector<Tensor> dgx(s.S);
  Tensor dw, db;
  for (int64_t i = s.S - 1; i >= 0; --i) {
    const int64_t t = reverse ? s.S - 1 - i : i;
    if (g[0].defined()) dh = add(dh, select(g[0], 0, t));
    Tensor gh = linear(hprev[t], v[kWhh], v[kBhh]);
    auto d = rnn_gate_grads_ops(kind, steps[t], gh, hprev[t], cprev[t], dh, dc);
    dgx[t] = d[0];
    Tensor dw_t = matmul(koan::t(d[1]), hprev[t]), db_t = sum(d[1], {0});
    dw = dw.defined() ? add(dw, dw_t) : dw_t;
    db = db.defined() ? add(db, db_t) : db_t;
    dh = matmul(d[1], v[kWhh]);
    if (d[3].defined()) dh = add(dh, d[3]);
    dc = d[2];
  }
  return {stack(dgx, 0), dh, dc, dw, db};
}

}  // namespace

std::vector<Tensor> rnn_sequence(RNNCellKind pub, const Tensor& gx, const Tensor& h0, const Tensor& c0,
                                 const Tensor& w_hh, const Tensor& b_hh, bool reverse) {
  const CellKind kind = cell_kind(pub);
  const SeqShape s = check_sequence(kind, gx, h0, c0, w_hh, b_hh);
  const bool lstm = kind == CellKind::Lstm;
  const DType dt = gx.dtype();
  // Absent states are zeros; they stay out of the graph.
  Tensor h0d = h0.defined() ? dense(h0) : zeros({s.B, s.H}, {.dtype = dt});
  Tensor c0d = !lstm ? Tensor() : c0.defined() ? dense(c0) : zeros({s.B, s.H}, {.dtype = dt});
  Tensor whh = dense(w_hh);
  Tensor y = new_output({s.S, s.B, s.H}, dt);
  Tensor cs = lstm ? new_output({s.S, s.B, s.H}, dt) : Tensor();
  Tensor ws = new_output({s.S, s.B, kernels::cell_workspace(kind) * s.H}, dt);
  kernels::rnn_sequence_forward(kind, reverse, dense(gx), h0d, c0d, whh, dense(b_hh), y, cs, ws);
  const int64_t t_last = reverse ? 0 : s.S - 1;
  std::vector<Tensor> outs{y, clone(select(y, 0, t_last))};
  if (lstm) outs.push_back(clone(select(cs, 0, t_last)));

  std::vector<Tensor> in{gx, h0, lstm ? c0 : Tensor(), w_hh, b_hh};
  if (!autograd::needs_grad(in)) return outs;
  std::vector<bool> need(kSlots);
  std::vector<SavedTensor> saved(kSlots);
  for (int k = 0; k < kSlots; ++k) {
    need[k] = in[k].defined() && in[k].requires_grad();
    if (in[k].defined()) saved[k] = SavedTensor(in[k], false);
  }
  const Shape gx_shape = gx.shape();
  autograd::record(node_name(kind), in, outs,
      [kind, pub, reverse, s, need, saved, h0d, c0d, cs, ws, y_saved = SavedTensor(y, true),
       gx_shape](FunctionNode& self, Grads& g) mutable {
        auto me = self.self();
        std::vector<Tensor> v(kSlots);
        for (int k = 0; k < kSlots; ++k)
          if (saved[k].defined()) v[k] = saved[k].unpack(me);
        const bool lstm = kind == CellKind::Lstm, gru = kind == CellKind::Gru;
        while (g.size() < 3) g.push_back(Tensor());
        const bool recorded = GradMode::enabled() && (autograd::needs_grad(v) || autograd::needs_grad(g));
        if (recorded) {
          if (!v[kH0].defined()) v[kH0] = h0d;
          if (lstm && !v[kC0].defined()) v[kC0] = c0d;
          return sequence_grads_ops(kind, pub, reverse, s, v, g);
        }
        const DType dt = y_saved.unpack(me).dtype();
        auto out_if = [&](bool want, const Shape& shape) { return want ? new_output(shape, dt) : Tensor(); };
        Tensor dgi = new_output({s.S, s.B, s.G}, dt);
        Tensor dgh = gru ? new_output({s.S, s.B, s.G}, dt) : Tensor();
        Tensor dh0 = out_if(need[kH0], {s.B, s.H}), dc0 = out_if(need[kC0], {s.B, s.H});
        Tensor dw = out_if(need[kWhh], {s.G, s.H}), db = out_if(need[kBhh], {s.G});
        if (s.B == 0) {  // nothing flowed: the weights' gradients are zeros
          if (dw.defined()) dw = zeros({s.G, s.H}, {.dtype = dt});
          if (db.defined()) db = zeros({s.G}, {.dtype = dt});
        } else {
          // The states as saved (unpacking checks that they were not modified in place since).
          Tensor h0p = v[kH0].defined() ? dense(v[kH0]) : h0d;
          Tensor c0p = lstm && v[kC0].defined() ? dense(v[kC0]) : c0d;
          kernels::rnn_sequence_backward(kind, reverse, dense(g[0]), dense(g[1]), lstm ? dense(g[2]) : Tensor(),
                                         h0p, c0p, dense(v[kWhh]), y_saved.unpack(me), cs, ws,
                                         dgi, dgh, dh0, dc0, dw, db);
        }
        Grads r(kSlots);
        if (need[kGx]) r[kGx] = reshape(dgi, gx_shape);
        r[kH0] = dh0;
        r[kC0] = dc0;
        r[kWhh] = dw;
        r[kBhh] = db;
        return r;
      });
  return outs;
}

}  // namespace koan
