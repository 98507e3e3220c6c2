// Recurrent layers, multi-head attention and the Transformer encoder layer against PyTorch
// (weights, inputs, outputs and gradients in tests/fixtures/rnn.safetensors, made by gen_rnn.py),
// plus the cells' double backward.
#include "koan/nn/attention.h"
#include "koan/nn/rnn.h"
#include "koan/nn/transformer.h"
#include "koan/ops/attention.h"
#include "koan/ops/rnn.h"
#include "support/testing.h"

namespace koan {
namespace {

using testing::Fixture;

std::vector<int64_t> cfg(const Fixture& fx, const std::string& pre) { return fx.get(pre + "cfg").to_vector<int64_t>(); }

// The module's parameters set from the fixture's "p/<name>" (every name must be there: this also
// checks that the names match PyTorch's).
void load_params(nn::Module& m, const Fixture& fx, const std::string& pre) {
  nn::StateDict sd;
  for (auto& [n, p] : m.named_parameters()) sd[n] = fx.get(pre + "p/" + n);
  m.load_state_dict(sd);
}

// d(loss)/d(wrt) against the fixture's "grad/<name>".
void expect_grads(const Tensor& loss, const std::vector<std::pair<std::string, Tensor>>& wrt, const Fixture& fx,
                  const std::string& pre, double rtol, double atol) {
  std::vector<Tensor> ts;
  for (auto& [n, t] : wrt) ts.push_back(t);
  auto g = autograd::grad({loss}, ts);
  for (size_t i = 0; i < wrt.size(); ++i)
    EXPECT_TRUE(testing::close(g[i], fx.get(pre + "grad/" + wrt[i].first), rtol, atol)) << "gradient of " << wrt[i].first;
}

TEST(RecurrentLayers, MatchPyTorchOutputsStatesAndGradients) {
  Fixture fx("rnn");
  auto names = fx.cases("layer");
  ASSERT_GE(names.size(), 8u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const std::string pre = name + "/";
    auto c = cfg(fx, pre);  // mode, I, H, L, bias, batch_first, bidirectional, h0 given, unbatched
    Tensor x = fx.get(pre + "x").clone().requires_grad_();
    DType dt = x.dtype();
    const bool f64 = dt == DType::Float64;
    const double rtol = f64 ? 1e-9 : 1e-4, atol = f64 ? 1e-10 : 1e-5;
    nn::LSTMOptions lo{.input_size = c[1], .hidden_size = c[2], .num_layers = c[3], .bias = c[4] != 0,
                       .batch_first = c[5] != 0, .bidirectional = c[6] != 0, .dtype = dt};
    std::shared_ptr<nn::RNNBase> m;
    if (c[0] <= 1)
      m = std::make_shared<nn::RNN>(nn::RNNOptions{.input_size = c[1], .hidden_size = c[2], .num_layers = c[3],
                                                   .nonlinearity = c[0] == 0 ? "tanh" : "relu", .bias = c[4] != 0,
                                                   .batch_first = c[5] != 0, .bidirectional = c[6] != 0, .dtype = dt});
    else if (c[0] == 2)
      m = std::make_shared<nn::LSTM>(lo);
    else
      m = std::make_shared<nn::GRU>(lo);
    load_params(*m, fx, pre);
    Tensor h0, c0;
    std::vector<std::pair<std::string, Tensor>> wrt{{"x", x}};
    for (auto& [n, p] : m->named_parameters()) wrt.push_back({n, p});
    if (c[7]) {
      h0 = fx.get(pre + "h0").clone().requires_grad_();
      wrt.push_back({"h0", h0});
      if (c[0] == 2) {
        c0 = fx.get(pre + "c0").clone().requires_grad_();
        wrt.push_back({"c0", c0});
      }
    }
    Tensor out, hn, cn;
    if (auto lstm = std::dynamic_pointer_cast<nn::LSTM>(m)) {
      auto [y, st] = lstm->forward(x, {h0, c0});
      out = y, hn = st.h, cn = st.c;
    } else if (auto gru = std::dynamic_pointer_cast<nn::GRU>(m)) {
      std::tie(out, hn) = gru->forward(x, h0);
    } else {
      std::tie(out, hn) = std::dynamic_pointer_cast<nn::RNN>(m)->forward(x, h0);
    }
    EXPECT_TRUE(testing::close(out, fx.get(pre + "out"), rtol, atol)) << "output";
    EXPECT_TRUE(testing::close(hn, fx.get(pre + "hn"), rtol, atol)) << "h_n";
    Tensor loss = add(sum(mul(out, fx.get(pre + "gout"))), sum(mul(hn, fx.get(pre + "ghn"))));
    if (cn.defined()) {
      EXPECT_TRUE(testing::close(cn, fx.get(pre + "cn"), rtol, atol)) << "c_n";
      loss = add(loss, sum(mul(cn, fx.get(pre + "gcn"))));
    }
    expect_grads(loss, wrt, fx, pre, f64 ? 1e-8 : 1e-3, f64 ? 1e-9 : 1e-4);
  }
}

TEST(RecurrentLayers, ParametersAreNamedAndInitialisedAsPyTorch) {
  nn::LSTM lstm({.input_size = 3, .hidden_size = 16, .num_layers = 2, .bidirectional = true});
  std::vector<std::string> names;
  for (auto& [n, p] : lstm.named_parameters()) names.push_back(n);
  std::vector<std::string> want;
  for (std::string l : {"_l0", "_l1"})
    for (std::string d : {"", "_reverse"})
      for (std::string w : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) want.push_back(w + l + d);
  EXPECT_EQ(names, want);
  auto sd = lstm.state_dict();
  EXPECT_EQ(sd["weight_ih_l0"].shape(), (Shape{64, 3}));
  EXPECT_EQ(sd["weight_ih_l1_reverse"].shape(), (Shape{64, 32}));
  EXPECT_EQ(sd["weight_hh_l1"].shape(), (Shape{64, 16}));
  // U(-1/4, 1/4), spread over the whole range.
  Tensor w = sd["weight_hh_l0"];
  EXPECT_LE(max(abs(w)).item<float>(), 0.25f);
  EXPECT_GT(max(abs(w)).item<float>(), 0.2f);
  nn::GRU gru({.input_size = 2, .hidden_size = 5, .bias = false});
  EXPECT_EQ(gru.named_parameters().size(), 2u);
  EXPECT_EQ(gru.state_dict()["weight_hh_l0"].shape(), (Shape{15, 5}));
  EXPECT_EQ(lstm.repr(), "LSTM(3, 16, num_layers=2, bidirectional=true)");
}

TEST(RecurrentLayers, DropoutActsBetweenLayersInTrainingOnly) {
  nn::GRU a({.input_size = 3, .hidden_size = 8, .num_layers = 2, .dropout = 0.5});
  nn::GRU b({.input_size = 3, .hidden_size = 8, .num_layers = 2});
  b.load_state_dict(a.state_dict());
  Tensor x = randn({4, 2, 3});
  a.eval();
  EXPECT_TRUE(allclose(a.forward(x), b.forward(x)));
  a.train();
  EXPECT_FALSE(allclose(a.forward(x), b.forward(x)));
}

TEST(RecurrentLayers, CloneIsIndependentAndForwardFeedsSequential) {
  nn::RNN r({.input_size = 3, .hidden_size = 4, .nonlinearity = "relu", .batch_first = true});
  auto c = std::dynamic_pointer_cast<nn::RNN>(r.clone());
  ASSERT_TRUE(c);
  Tensor x = randn({2, 5, 3});
  EXPECT_TRUE(allclose(c->forward(x), r.forward(x)));
  EXPECT_EQ(r.forward(x).shape(), (Shape{2, 5, 4}));
  EXPECT_NE(c->parameters()[0].storage(), r.parameters()[0].storage());
}

TEST(RecurrentLayers, RejectBadInputs) {
  nn::LSTM lstm({.input_size = 3, .hidden_size = 4, .num_layers = 2});
  EXPECT_THROW(lstm.forward(randn({5, 2, 4})), ShapeError);
  EXPECT_THROW(lstm.forward(randn({5, 2, 3}), {randn({1, 2, 4}), Tensor()}), ShapeError);
  EXPECT_THROW(lstm.forward(randn({2, 5, 2, 3})), ShapeError);
  EXPECT_THROW(lstm.forward(randn({5, 2, 3}, {.dtype = DType::Float64})), DTypeError);
  EXPECT_THROW(nn::RNN({.input_size = 3, .hidden_size = 4, .nonlinearity = "sigmoid"}), ValueError);
  EXPECT_THROW(nn::GRU({.input_size = 3, .hidden_size = 0}), ValueError);
}

// The cells' backward under create_graph is written with ops: check the gradient of the gradient
// by gradcheck on a function that returns the first gradient.
TEST(RecurrentCells, DoubleBackwardMatchesNumericalDifferences) {
  auto f64 = [](const Shape& s) { return mul(randn(s, {.dtype = DType::Float64}), 0.5); };
  const int64_t B = 2, I = 3, H = 2;
  for (int kind = 0; kind < 4; ++kind) {
    SCOPED_TRACE(kind);
    int64_t G = (kind == 2 ? 4 : kind == 3 ? 3 : 1) * H;
    std::vector<Tensor> in{f64({B, I}), f64({B, H}), f64({B, H}), f64({G, I}), f64({G, H}), f64({G}), f64({G})};
    Tensor w = f64({B, kind == 2 ? 2 * H : H});
    testing::Fn cell = [kind](const std::vector<Tensor>& x) {
      switch (kind) {
        case 0: return rnn_tanh_cell(x[0], x[1], x[3], x[4], x[5], x[6]);
        case 1: return rnn_relu_cell(x[0], x[1], x[3], x[4], x[5], x[6]);
        case 2: {
          auto [h, c] = lstm_cell(x[0], {x[1], x[2]}, x[3], x[4], x[5], x[6]);
          return cat({h, c}, -1);
        }
        default: return gru_cell(x[0], x[1], x[3], x[4], x[5], x[6]);
      }
    };
    auto grads = [&](const std::vector<Tensor>& x, bool create_graph) {
      EnableGradGuard on;  // gradcheck evaluates its differences under no_grad
      std::vector<Tensor> wrt;
      for (size_t i = 0; i < x.size(); ++i)
        if (kind == 2 || i != 2) wrt.push_back(x[i]);
      auto g = autograd::grad({sum(mul(cell(x), w))}, wrt, {}, true, create_graph);
      std::vector<Tensor> flat;
      for (auto& t : g) flat.push_back(reshape(t, {-1}));
      return cat(flat, 0);
    };
    // The rule written with ops (create_graph) gives the fused kernel's gradient (checked against
    // PyTorch by the op table) ...
    std::vector<Tensor> leaves;
    for (auto& t : in) leaves.push_back(t.detach().requires_grad_());
    EXPECT_TRUE(testing::close(grads(leaves, true), grads(leaves, false), 1e-10, 1e-12));
    // ... and its own gradient matches central differences.
    testing::Fn first_grad = [&](const std::vector<Tensor>& x) { return grads(x, true); };
    EXPECT_TRUE(testing::gradcheck(first_grad, in));
  }
}

TEST(MultiheadAttention, MatchesPyTorchWithMasks) {
  Fixture fx("rnn");
  auto names = fx.cases("mha");
  ASSERT_EQ(names.size(), 3u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const std::string pre = name + "/";
    auto c = cfg(fx, pre);  // E, heads, batch_first, causal self-attention, padding, bias, average
    nn::MultiheadAttention m({.embed_dim = c[0], .num_heads = c[1], .bias = c[5] != 0, .batch_first = c[2] != 0,
                              .dtype = DType::Float64});
    load_params(m, fx, pre);
    Tensor q = fx.get(pre + "q").clone().requires_grad_();
    Tensor k = c[3] ? q : fx.get(pre + "k"), v = c[3] ? q : fx.get(pre + "v");
    Tensor kpm = c[4] ? fx.get(pre + "kpm") : Tensor();
    auto [y, w] = m.forward(q, k, v, kpm, true, Tensor(), c[6] != 0, c[3] != 0);
    EXPECT_TRUE(testing::close(y, fx.get(pre + "out"), 1e-9, 1e-10)) << "output";
    EXPECT_TRUE(testing::close(w, fx.get(pre + "weights"), 1e-9, 1e-10)) << "weights";
    std::vector<std::pair<std::string, Tensor>> wrt{{"q", q}};
    for (auto& [n, p] : m.named_parameters()) wrt.push_back({n, p});
    expect_grads(sum(mul(y, fx.get(pre + "gout"))), wrt, fx, pre, 1e-8, 1e-9);
  }
}

TEST(MultiheadAttention, OptionsNamesAndErrors) {
  nn::MultiheadAttention m({.embed_dim = 8, .num_heads = 2});
  std::vector<std::string> names;
  for (auto& [n, p] : m.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}));
  EXPECT_EQ(sum(abs(m.in_proj_bias)).item<float>(), 0.f);
  EXPECT_THROW(nn::MultiheadAttention({.embed_dim = 6, .num_heads = 4}), ValueError);
  Tensor x = randn({3, 2, 8});
  EXPECT_THROW(m.forward(x, x, randn({4, 2, 8})), ShapeError);
  EXPECT_THROW(m.forward(x, x, x, ones({2, 4}, {.dtype = DType::Bool})), ShapeError);
  // need_weights = false gives no weights; the unbatched form works.
  EXPECT_FALSE(m.forward(x, x, x, Tensor(), false).second.defined());
  EXPECT_EQ(m.forward(randn({3, 8})).shape(), (Shape{3, 8}));
}

TEST(TransformerEncoderLayer, MatchesPyTorchInEvalMode) {
  Fixture fx("rnn");
  auto names = fx.cases("encoder");
  ASSERT_EQ(names.size(), 4u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const std::string pre = name + "/";
    auto c = cfg(fx, pre);  // d_model, nhead, dim_ff, gelu, batch_first, norm_first, padding
    nn::TransformerEncoderLayer m({.d_model = c[0], .nhead = c[1], .dim_feedforward = c[2], .dropout = 0.1,
                                   .activation = c[3] ? "gelu" : "relu", .batch_first = c[4] != 0,
                                   .norm_first = c[5] != 0, .dtype = DType::Float64});
    load_params(m, fx, pre);
    EXPECT_EQ(m.named_parameters().size(), 12u);
    m.eval();
    Tensor kpm = c[6] ? fx.get(pre + "kpm") : Tensor();
    Tensor y = m.forward(fx.get(pre + "src"), Tensor(), kpm);
    EXPECT_TRUE(testing::close(y, fx.get(pre + "out"), 1e-9, 1e-10));
    // Training mode drops activations: the result changes.
    m.train();
    EXPECT_FALSE(allclose(m.forward(fx.get(pre + "src"), Tensor(), kpm), y));
  }
}

// The block of a decoder-only language model (examples/transformer): is_causal, or the same
// mask given as src_mask, matches torch's layer under src_mask, gradients included.
TEST(TransformerEncoderLayer, CausalMatchesPyTorchWithGradients) {
  Fixture fx("rnn");
  auto names = fx.cases("causal_encoder");
  ASSERT_EQ(names.size(), 2u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const std::string pre = name + "/";
    auto c = cfg(fx, pre);  // d_model, nhead, dim_ff, gelu, batch_first, norm_first
    nn::TransformerEncoderLayer m({.d_model = c[0], .nhead = c[1], .dim_feedforward = c[2], .dropout = 0.1,
                                   .activation = c[3] ? "gelu" : "relu", .batch_first = c[4] != 0,
                                   .norm_first = c[5] != 0, .dtype = DType::Float64});
    load_params(m, fx, pre);
    m.eval();
    Tensor src = fx.get(pre + "src").clone().requires_grad_();
    Tensor y = m.forward(src, Tensor(), Tensor(), /*is_causal=*/true);
    EXPECT_TRUE(testing::close(y, fx.get(pre + "out"), 1e-9, 1e-10)) << "is_causal";
    EXPECT_TRUE(testing::close(m.forward(src, fx.get(pre + "mask")), fx.get(pre + "out"), 1e-9, 1e-10)) << "src_mask";
    // Without the mask the output differs (the earlier positions would see the later ones).
    EXPECT_FALSE(allclose(m.forward(src), y));
    std::vector<std::pair<std::string, Tensor>> wrt{{"src", src}};
    for (auto& [n, p] : m.named_parameters()) wrt.push_back({n, p});
    expect_grads(sum(mul(y, fx.get(pre + "gout"))), wrt, fx, pre, 1e-8, 1e-9);
  }
}

TEST(ScaledDotProductAttention, WeightsAndCausalMaskingAgree) {
  Tensor q = randn({2, 4, 3}), k = randn({2, 4, 3}), v = randn({2, 4, 5});
  auto [o, w] = scaled_dot_product_attention_weights(q, k, v, Tensor(), 0.0, true);
  // Row i attends to keys 0..i only, and each row sums to one.
  EXPECT_EQ(w.at<float>({0, 0, 1}), 0.f);
  EXPECT_EQ(w.at<float>({1, 2, 3}), 0.f);
  EXPECT_TRUE(allclose(sum(w, {-1}), ones({2, 4}), 1e-5, 1e-6));
  Tensor allowed = le(arange(4).view({1, 4}), arange(4).view({4, 1}));
  EXPECT_TRUE(allclose(o, scaled_dot_product_attention(q, k, v, allowed), 1e-5, 1e-6));
}

}  // namespace
}  // namespace koan
