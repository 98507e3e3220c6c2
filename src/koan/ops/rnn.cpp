#include "koan/ops/rnn.h"

#include "koan/kernels/matmul.h"
#include "koan/kernels/rnn.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/join.h"
#include "koan/ops/linalg.h"
#include "koan/ops/reduce.h"
#include "koan/ops/rnn_internal.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"

namespace koan {

namespace ops_detail {

// The gates are recomputed from the (saved) inputs rather than read from the forward's
// workspace, which has no history.
std::vector<Tensor> rnn_gate_grads_ops(kernels::CellKind kind, const Tensor& gi, const Tensor& gh, const Tensor& h,
                                       const Tensor& c, const Tensor& dh, const Tensor& dc) {
  using kernels::CellKind;
  switch (kind) {
    case CellKind::RnnTanh: {
      Tensor y = tanh(add(gi, gh));
      Tensor d = mul(dh, rsub(square(y), 1));
      return {d, d, Tensor(), Tensor()};
    }
    case CellKind::RnnRelu: {
      Tensor pre = add(gi, gh);
      Tensor d = where(gt(pre, 0), dh, 0);
      return {d, d, Tensor(), Tensor()};
    }
    case CellKind::Lstm: {
      auto p = chunk(add(gi, gh), 4, 1);
      Tensor i = sigmoid(p[0]), f = sigmoid(p[1]), g = tanh(p[2]), o = sigmoid(p[3]);
      Tensor tc = tanh(add(mul(f, c), mul(i, g)));
      Tensor dct = add(dc, mul(mul(dh, o), rsub(square(tc), 1)));
      Tensor di = mul(mul(dct, g), mul(i, rsub(i, 1)));
      Tensor df = mul(mul(dct, c), mul(f, rsub(f, 1)));
      Tensor dg = mul(mul(dct, i), rsub(square(g), 1));
      Tensor dout = mul(mul(dh, tc), mul(o, rsub(o, 1)));
      Tensor d = cat({di, df, dg, dout}, 1);
      return {d, d, mul(dct, f), Tensor()};
    }
    case CellKind::Gru: {
      auto xi = chunk(gi, 3, 1), xh = chunk(gh, 3, 1);
      Tensor r = sigmoid(add(xi[0], xh[0])), z = sigmoid(add(xi[1], xh[1]));
      Tensor n = tanh(add(xi[2], mul(r, xh[2])));
      Tensor dn = mul(mul(dh, rsub(z, 1)), rsub(square(n), 1));
      Tensor dz = mul(mul(dh, sub(h, n)), mul(z, rsub(z, 1)));
      Tensor dr = mul(mul(dn, xh[2]), mul(r, rsub(r, 1)));
      return {cat({dr, dz, dn}, 1), cat({dr, dz, mul(dn, r)}, 1), Tensor(), mul(dh, z)};
    }
  }
  return {};
}

}  // namespace ops_detail

using namespace ops_detail;
using kernels::CellKind;

namespace {

const char* node_name(CellKind k) {
  switch (k) {
    case CellKind::RnnTanh: return "RnnTanhCellBackward";
    case CellKind::RnnRelu: return "RnnReluCellBackward";
    case CellKind::Lstm: return "LstmCellBackward";
    case CellKind::Gru: return "GruCellBackward";
  }
  return "";
}

// out (M, N) (+)= a (M, K) @ b (K, N) on plain data (no autograd): a and b may be transposed views.
void gemm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate = false) {
  kernels::bmm(unsqueeze(a, 0), unsqueeze(b, 0), unsqueeze(out, 0), accumulate);
}

// The inputs of one cell node, in the order of its next edges.
enum Slot { kX, kH, kC, kWih, kWhh, kBih, kBhh, kSlots };

struct CellShape {
  int64_t B, H, G;
};

// Checks shapes and dtypes; returns the sizes.  x is the raw input when w_ih is defined, else
// the precomputed input projection.
CellShape check_cell(const char* op, CellKind kind, const Tensor& x, const Tensor& h, const Tensor& c,
                     const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  KOAN_CHECK(x.defined() && w_hh.defined(), ValueError, op, ": input and w_hh must be defined");
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, op, ": needs a floating dtype, got ", name(x.dtype()));
  for (const Tensor* t : {&h, &c, &w_ih, &w_hh, &b_ih, &b_hh})
    KOAN_CHECK(!t->defined() || t->dtype() == x.dtype(), DTypeError, op,
               ": all tensors must have the input's dtype ", name(x.dtype()), ", got ", name(t->dtype()));
  const int64_t gates = kernels::cell_gates(kind);
  KOAN_CHECK(w_hh.dim() == 2 && w_hh.size(0) % gates == 0 && w_hh.size(0) == gates * w_hh.size(1),
             ShapeError, op, ": w_hh must be (", gates, " * hidden, hidden), got ", w_hh.shape());
  CellShape s{0, w_hh.size(1), w_hh.size(0)};
  if (w_ih.defined()) {
    KOAN_CHECK(x.dim() == 2, ShapeError, op, ": input must be (batch, input_size), got ", x.shape());
    KOAN_CHECK(w_ih.dim() == 2 && w_ih.size(0) == s.G && w_ih.size(1) == x.size(1), ShapeError, op,
               ": w_ih must be (", s.G, ", ", x.size(1), ") for input ", x.shape(), " and w_hh ",
               w_hh.shape(), ", got ", w_ih.shape());
    s.B = x.size(0);
  } else {
    KOAN_CHECK(h.defined() && h.dim() == 2, ShapeError, op, ": h must be (batch, hidden), got ",
               h.defined() ? str(h.shape()) : "undefined");
    s.B = h.size(0);
    KOAN_CHECK(x.numel() == s.B * s.G, ShapeError, op, ": input projection ", x.shape(), " must hold ",
               "batch * ", s.G, " = ", s.B * s.G, " elements");
  }
  for (const Tensor* t : {&h, &c})
    KOAN_CHECK(!t->defined() || (t->dim() == 2 && t->size(0) == s.B && t->size(1) == s.H), ShapeError,
               op, ": state must be (", s.B, ", ", s.H, "), got ", t->shape());
  for (const Tensor* t : {&b_ih, &b_hh})
    KOAN_CHECK(!t->defined() || (t->dim() == 1 && t->size(0) == s.G), ShapeError, op,
               ": biases must be (", s.G, "), got ", t->shape());
  return s;
}

// One cell node.  Outputs {h'} or {h', c'} (LSTM).
std::vector<Tensor> cell_op(const char* op, CellKind kind, const Tensor& x, Tensor h, Tensor c,
                            const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  CellShape s = check_cell(op, kind, x, h, c, w_ih, w_hh, b_ih, b_hh);
  const DType dt = x.dtype();
  const bool lstm = kind == CellKind::Lstm;
  if (!h.defined()) h = zeros({s.B, s.H}, {.dtype = dt});
  if (lstm && !c.defined()) c = zeros({s.B, s.H}, {.dtype = dt});
  if (!lstm) c = Tensor();

  Tensor xd = dense(x), hd = dense(h), cd = dense(c), bid = dense(b_ih), bhd = dense(b_hh);
  Tensor gi;
  if (w_ih.defined()) {
    gi = new_output({s.B, s.G}, dt);
    gemm(xd, t(detach(w_ih)), gi);
  } else {
    gi = reshape(xd, {s.B, s.G});
  }
  Tensor gh = new_output({s.B, s.G}, dt);
  gemm(hd, t(detach(w_hh)), gh);
  Tensor h_out = new_output({s.B, s.H}, dt);
  Tensor c_out = lstm ? new_output({s.B, s.H}, dt) : Tensor();
  Tensor ws = new_output({s.B, kernels::cell_workspace(kind) * s.H}, dt);
  kernels::rnn_cell_forward(kind, gi, gh, bid, bhd, hd, cd, h_out, c_out, ws);
  std::vector<Tensor> outs = lstm ? std::vector<Tensor>{h_out, c_out} : std::vector<Tensor>{h_out};

  std::vector<Tensor> in{x, h, c, w_ih, w_hh, b_ih, b_hh};
  if (!autograd::needs_grad(in)) return outs;
  std::vector<bool> need(kSlots), has(kSlots);
  std::vector<SavedTensor> saved(kSlots);
  for (int k = 0; k < kSlots; ++k) {
    has[k] = in[k].defined();
    need[k] = has[k] && in[k].requires_grad();
    if (has[k]) saved[k] = SavedTensor(in[k], false);
  }
  Shape x_shape = x.shape();
  autograd::record(node_name(kind), in, outs,
      [kind, s, need, has, saved, ws, x_shape](FunctionNode& self, Grads& g) mutable {
        auto me = self.self();
        std::vector<Tensor> v(kSlots);
        for (int k = 0; k < kSlots; ++k)
          if (has[k]) v[k] = saved[k].unpack(me);
        const bool in_gates = !has[kWih];  // x is the input projection already
        const bool lstm = kind == CellKind::Lstm;
        Tensor dh = reshape(g[0], {s.B, s.H});
        Tensor dc = lstm ? g[1] : Tensor();
        Tensor dgi, dgh, dc_prev, dh_direct;
        bool recorded = GradMode::enabled() &&
                        (autograd::needs_grad(v) || autograd::needs_grad({&dh, &dc}));
        if (!recorded) {
          // First-order backward: the fused kernel, then plain GEMMs.
          Tensor dhc = dense(dh), dcc = lstm ? dense(dc) : Tensor();
          dgi = new_output({s.B, s.G}, dh.dtype());
          dgh = kind == CellKind::Gru ? new_output({s.B, s.G}, dh.dtype()) : dgi;
          if (lstm && need[kC]) dc_prev = new_output({s.B, s.H}, dh.dtype());
          if (kind == CellKind::Gru) dh_direct = new_output({s.B, s.H}, dh.dtype());
          kernels::rnn_cell_backward(kind, dhc, dcc, ws, lstm ? dense(v[kC]) : Tensor(),
                                     kind == CellKind::Gru ? dense(v[kH]) : Tensor(),
                                     dgi, dgh, dc_prev, dh_direct);
          Grads r(kSlots);
          if (need[kX]) {
            if (in_gates) {
              r[kX] = reshape(dgi, x_shape);
            } else {
              r[kX] = new_output({s.B, v[kWih].size(1)}, dh.dtype());
              gemm(dgi, detach(v[kWih]), r[kX]);
            }
          }
          if (need[kH]) {
            if (dh_direct.defined()) {
              gemm(dgh, detach(v[kWhh]), dh_direct, /*accumulate=*/true);
              r[kH] = dh_direct;
            } else {
              r[kH] = new_output({s.B, s.H}, dh.dtype());
              gemm(dgh, detach(v[kWhh]), r[kH]);
            }
          }
          r[kC] = dc_prev;
          if (need[kWih]) {
            r[kWih] = new_output(v[kWih].shape(), dh.dtype());
            gemm(t(dgi), detach(v[kX]), r[kWih]);
          }
          if (need[kWhh]) {
            r[kWhh] = new_output(v[kWhh].shape(), dh.dtype());
            gemm(t(dgh), detach(v[kH]), r[kWhh]);
          }
          if (need[kBih]) r[kBih] = sum(dgi, {0});
          if (need[kBhh]) r[kBhh] = sum(dgh, {0});
          return r;
        }
        // Under create_graph: the same rule with ops on the saved inputs.
        Tensor gi = in_gates ? reshape(v[kX], {s.B, s.G}) : linear(v[kX], v[kWih], v[kBih]);
        Tensor gh = linear(v[kH], v[kWhh], v[kBhh]);
        auto d = rnn_gate_grads_ops(kind, gi, gh, v[kH], v[kC], dh, dc);
        dgi = d[0];
        dgh = d[1];
        Grads r(kSlots);
        if (need[kX]) r[kX] = in_gates ? reshape(dgi, x_shape) : matmul(dgi, v[kWih]);
        if (need[kH]) {
          r[kH] = matmul(dgh, v[kWhh]);
          if (d[3].defined()) r[kH] = add(r[kH], d[3]);
        }
        if (need[kC]) r[kC] = d[2];
        if (need[kWih]) r[kWih] = matmul(t(dgi), v[kX]);
        if (need[kWhh]) r[kWhh] = matmul(t(dgh), v[kH]);
        if (need[kBih]) r[kBih] = sum(dgi, {0});
        if (need[kBhh]) r[kBhh] = sum(dgh, {0});
        return r;
      });
  return outs;
}

// The public cells: unbatched inputs become a batch of one, and back.
std::vector<Tensor> cell_public(const char* op, CellKind kind, const Tensor& x, const Tensor& h,
                                const Tensor& c, const Tensor& w_ih, const Tensor& w_hh,
                                const Tensor& b_ih, const Tensor& b_hh) {
  KOAN_CHECK(x.defined() && w_ih.defined(), ValueError, op, ": input and w_ih must be defined");
  KOAN_CHECK(x.dim() == 1 || x.dim() == 2, ShapeError, op, ": input must be (batch, input_size) or ",
             "(input_size), got ", x.shape());
  if (x.dim() == 2) return cell_op(op, kind, x, h, c, w_ih, w_hh, b_ih, b_hh);
  for (const Tensor* s : {&h, &c})
    KOAN_CHECK(!s->defined() || s->dim() == 1, ShapeError, op, ": an unbatched input ", x.shape(),
               " needs an unbatched (hidden) state, got ", s->shape());
  auto u = [](const Tensor& t) { return t.defined() ? unsqueeze(t, 0) : Tensor(); };
  auto r = cell_op(op, kind, u(x), u(h), u(c), w_ih, w_hh, b_ih, b_hh);
  for (auto& t : r) t = squeeze(t, 0);
  return r;
}

}  // namespace

Tensor rnn_tanh_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih, const Tensor& b_hh) {
  return cell_public("rnn_tanh_cell", CellKind::RnnTanh, x, h, Tensor(), w_ih, w_hh, b_ih, b_hh)[0];
}

Tensor rnn_relu_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih, const Tensor& b_hh) {
  return cell_public("rnn_relu_cell", CellKind::RnnRelu, x, h, Tensor(), w_ih, w_hh, b_ih, b_hh)[0];
}

std::pair<Tensor, Tensor> lstm_cell(const Tensor& x, const std::pair<Tensor, Tensor>& hc,
                                    const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                                    const Tensor& b_hh) {
  auto r = cell_public("lstm_cell", CellKind::Lstm, x, hc.first, hc.second, w_ih, w_hh, b_ih, b_hh);
  return {r[0], r[1]};
}

Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih, const Tensor& b_hh) {
  return cell_public("gru_cell", CellKind::Gru, x, h, Tensor(), w_ih, w_hh, b_ih, b_hh)[0];
}

std::vector<Tensor> rnn_cell_step(RNNCellKind kind, const Tensor& gx, const Tensor& h, const Tensor& c,
                                  const Tensor& w_hh, const Tensor& b_hh) {
  return cell_op("rnn_cell_step", cell_kind(kind), gx, h, c, Tensor(), w_hh, Tensor(), b_hh);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  KOAN_CHECK(x.defined(), ValueError, "unbind: undefined tensor");
  KOAN_CHECK(x.dim() > 0, ShapeError, "unbind: cannot unbind a 0-d tensor");
  int64_t d = wrap_dim(dim, x.dim(), "unbind");
  std::vector<Tensor> outs;
  for (int64_t i = 0; i < x.size(d); ++i) outs.push_back(alias_with_layout(x, koan::select(x.layout(), d, i)));
  if (!outs.empty() && autograd::needs_grad({&x}))
    autograd::record("UnbindBackward", {x}, outs, [d](FunctionNode&, Grads& g) { return Grads{stack(g, d)}; });
  return outs;
}

}  // namespace koan
