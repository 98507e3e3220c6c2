#include "koan/nn/rnn.h"

#include <cmath>

#include "koan/ops/dropout.h"
#include "koan/ops/join.h"
#include "koan/ops/linalg.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

namespace koan::nn {

namespace {

int64_t gates_of(RNNCellKind k) { return k == RNNCellKind::LSTM ? 4 : k == RNNCellKind::GRU ? 3 : 1; }

RNNOptions as_rnn_options(const LSTMOptions& o) {
  return {.input_size = o.input_size, .hidden_size = o.hidden_size, .num_layers = o.num_layers,
          .bias = o.bias, .batch_first = o.batch_first, .dropout = o.dropout,
          .bidirectional = o.bidirectional, .dtype = o.dtype};
}

RNNCellKind rnn_kind(const RNNOptions& o) {
  KOAN_CHECK(o.nonlinearity == "tanh" || o.nonlinearity == "relu", ValueError,
             "RNN: nonlinearity must be \"tanh\" or \"relu\", got \"", o.nonlinearity, "\"");
  return o.nonlinearity == "tanh" ? RNNCellKind::Tanh : RNNCellKind::Relu;
}

}  // namespace

RNNBase::RNNBase(std::string type, RNNCellKind kind, const RNNOptions& o)
    : Module(type), kind_(kind), opts_(o) {
  KOAN_CHECK(o.input_size > 0 && o.hidden_size > 0 && o.num_layers > 0, ValueError, type,
             ": input_size, hidden_size and num_layers must be positive, got ", o.input_size, ", ",
             o.hidden_size, ", ", o.num_layers);
  KOAN_CHECK(o.dropout >= 0 && o.dropout <= 1, ValueError, type, ": dropout must be in [0, 1], got ", o.dropout);
  // PyTorch's order: per layer, per direction, w_ih, w_hh, b_ih, b_hh; all U(-1/sqrt(H), 1/sqrt(H)).
  const int64_t D = o.bidirectional ? 2 : 1, G = gates_of(kind) * o.hidden_size;
  const double k = 1.0 / std::sqrt(static_cast<double>(o.hidden_size));
  for (int64_t l = 0; l < o.num_layers; ++l)
    for (int64_t d = 0; d < D; ++d) {
      std::string sfx = "_l" + std::to_string(l) + (d ? "_reverse" : "");
      int64_t in = l == 0 ? o.input_size : o.hidden_size * D;
      auto make = [&](const std::string& n, const Shape& s) {
        Tensor t = empty(s, {.dtype = o.dtype});
        uniform_(t, -k, k);
        register_parameter(n + sfx, t);
      };
      make("weight_ih", {G, in});
      make("weight_hh", {G, o.hidden_size});
      if (o.bias) {
        make("bias_ih", {G});
        make("bias_hh", {G});
      }
    }
}

std::vector<Tensor> RNNBase::weights(int64_t layer, int64_t direction) const {
  const int64_t D = opts_.bidirectional ? 2 : 1, per = opts_.bias ? 4 : 2;
  KOAN_CHECK(layer >= 0 && layer < opts_.num_layers && direction >= 0 && direction < D, IndexError,
             type_name(), ": no weights for layer ", layer, " direction ", direction);
  auto ps = parameters(false);
  size_t at = static_cast<size_t>((layer * D + direction) * per);
  std::vector<Tensor> w{ps[at], ps[at + 1], Tensor(), Tensor()};
  if (opts_.bias) {
    w[2] = ps[at + 2];
    w[3] = ps[at + 3];
  }
  return w;
}

std::vector<Tensor> RNNBase::run(const Tensor& x_in, const Tensor& h0_in, const Tensor& c0_in) {
  const std::string op = type_name();
  const bool lstm = kind_ == RNNCellKind::LSTM;
  const int64_t D = opts_.bidirectional ? 2 : 1, L = opts_.num_layers, H = opts_.hidden_size;
  KOAN_CHECK(x_in.defined() && (x_in.dim() == 2 || x_in.dim() == 3), ShapeError, op,
             ": input must be (T, B, I), (B, T, I) with batch_first, or unbatched (T, I); got ",
             x_in.defined() ? str(x_in.shape()) : "undefined");
  KOAN_CHECK(x_in.size(-1) == opts_.input_size, ShapeError, op, ": input ", x_in.shape(), " has ",
             x_in.size(-1), " features, expected input_size ", opts_.input_size);
  const bool unbatched = x_in.dim() == 2;
  Tensor x = unbatched ? unsqueeze(x_in, 1) : opts_.batch_first ? transpose(x_in, 0, 1) : x_in;
  const int64_t T = x.size(0), B = x.size(1);
  KOAN_CHECK(T > 0, ShapeError, op, ": the input sequence is empty (shape ", x_in.shape(), ")");
  // Initial states: (L * D, B, H), or (L * D, H) for unbatched input.
  auto state = [&](const Tensor& s, const char* what) {
    if (!s.defined()) return Tensor();  // zeros, which rnn_sequence makes itself
    Shape want = unbatched ? Shape{L * D, H} : Shape{L * D, B, H};
    KOAN_CHECK(s.shape() == want, ShapeError, op, ": expected ", what, " of shape ", want, ", got ", s.shape());
    return unbatched ? unsqueeze(s, 1) : s;
  };
  Tensor h0 = state(h0_in, "h0"), c0 = lstm ? state(c0_in, "c0") : Tensor();

  Tensor layer_in = x;
  std::vector<Tensor> hn, cn;
  for (int64_t l = 0; l < L; ++l) {
    std::vector<Tensor> dir_out;
    for (int64_t d = 0; d < D; ++d) {
      auto w = weights(l, d);
      // The whole sequence's input projections in one GEMM, then the time loop as one node.
      auto pick = [&](const Tensor& s) { return s.defined() ? select(s, 0, l * D + d) : Tensor(); };
      auto r = rnn_sequence(kind_, linear(layer_in, w[0], w[2]), pick(h0), lstm ? pick(c0) : Tensor(), w[1], w[3],
                            /*reverse=*/d == 1);
      dir_out.push_back(r[0]);
      hn.push_back(r[1]);
      if (lstm) cn.push_back(r[2]);
    }
    layer_in = D == 2 ? cat(dir_out, 2) : dir_out[0];
    if (l + 1 < L && opts_.dropout > 0 && is_training()) layer_in = dropout(layer_in, opts_.dropout, true);
  }
  Tensor out = unbatched ? squeeze(layer_in, 1) : opts_.batch_first ? transpose(layer_in, 0, 1) : layer_in;
  Tensor h_n = stack(hn, 0), c_n = lstm ? stack(cn, 0) : Tensor();
  if (unbatched) {
    h_n = squeeze(h_n, 1);
    if (lstm) c_n = squeeze(c_n, 1);
  }
  return {out, h_n, c_n};
}

Tensor RNNBase::forward(const Tensor& x) { return run(x, Tensor(), Tensor())[0]; }

std::string RNNBase::repr() const {
  std::string s = str(type_name(), "(", opts_.input_size, ", ", opts_.hidden_size);
  if (opts_.num_layers != 1) s += str(", num_layers=", opts_.num_layers);
  if (kind_ == RNNCellKind::Relu) s += ", nonlinearity=relu";
  if (!opts_.bias) s += ", bias=false";
  if (opts_.batch_first) s += ", batch_first=true";
  if (opts_.dropout > 0) s += str(", dropout=", opts_.dropout);
  if (opts_.bidirectional) s += ", bidirectional=true";
  return s + ")";
}

RNN::RNN(const RNNOptions& o) : RNNBase("RNN", rnn_kind(o), o) {}

std::pair<Tensor, Tensor> RNN::forward(const Tensor& x, const Tensor& h0) {
  auto r = run(x, h0, Tensor());
  return {r[0], r[1]};
}

std::shared_ptr<Module> RNN::clone() const {
  auto c = std::make_shared<RNN>(opts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

LSTM::LSTM(const LSTMOptions& o) : RNNBase("LSTM", RNNCellKind::LSTM, as_rnn_options(o)), lopts_(o) {}

std::pair<Tensor, LSTMState> LSTM::forward(const Tensor& x, const LSTMState& state) {
  auto r = run(x, state.h, state.c);
  return {r[0], LSTMState{r[1], r[2]}};
}

std::shared_ptr<Module> LSTM::clone() const {
  auto c = std::make_shared<LSTM>(lopts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

GRU::GRU(const GRUOptions& o) : RNNBase("GRU", RNNCellKind::GRU, as_rnn_options(o)), gopts_(o) {}

std::pair<Tensor, Tensor> GRU::forward(const Tensor& x, const Tensor& h0) {
  auto r = run(x, h0, Tensor());
  return {r[0], r[1]};
}

std::shared_ptr<Module> GRU::clone() const {
  auto c = std::make_shared<GRU>(gopts_);
  c->copy_state_from(*this);
  c->train(is_training());
  return c;
}

}  // namespace koan::nn
