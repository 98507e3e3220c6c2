// rnn_sequence (the whole time loop of a recurrent layer as one node) beyond its op-table row:
// the same values and gradients as the per-step cells it replaced, at sizes where the kernel cuts
// the hidden units into several panels (a narrower last one) and splits steps across threads;
// identical results at 1 and 2 threads; and its double backward.
#include "koan/ops/rnn.h"
#include "support/testing.h"

namespace koan {
namespace {

const RNNCellKind kKinds[] = {RNNCellKind::Tanh, RNNCellKind::Relu, RNNCellKind::LSTM, RNNCellKind::GRU};

int64_t gates(RNNCellKind k) { return k == RNNCellKind::LSTM ? 4 : k == RNNCellKind::GRU ? 3 : 1; }

struct Inputs {
  Tensor gx, h0, c0, w_hh, b_hh;
  std::vector<Tensor> list() const {
    std::vector<Tensor> l{gx, h0, w_hh, b_hh};
    if (c0.defined()) l.push_back(c0);
    return l;
  }
};

Inputs make_inputs(RNNCellKind k, int64_t T, int64_t B, int64_t H, DType dt, uint64_t seed) {
  Generator g(seed);
  const int64_t G = gates(k) * H;
  const double scale = 1.0 / std::sqrt(static_cast<double>(H));
  auto r = [&](const Shape& s, double sd) { return mul(randn(s, {.dtype = dt}, &g), sd).requires_grad_(); };
  Inputs in{r({T, B, G}, 0.8), r({B, H}, 0.8), Tensor(), r({G, H}, scale), r({G}, 0.3)};
  if (k == RNNCellKind::LSTM) in.c0 = r({B, H}, 0.8);
  return in;
}

// The sequence step by step with the per-step cell op (the layers' path before rnn_sequence).
std::vector<Tensor> by_steps(RNNCellKind k, const Inputs& in, bool reverse) {
  auto steps = unbind(in.gx, 0);
  const int64_t T = in.gx.size(0);
  std::vector<Tensor> ys(T);
  Tensor h = in.h0, c = in.c0;
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = reverse ? T - 1 - s : s;
    auto r = rnn_cell_step(k, steps[t], h, c, in.w_hh, in.b_hh);
    h = r[0];
    if (k == RNNCellKind::LSTM) c = r[1];
    ys[t] = h;
  }
  std::vector<Tensor> out{stack(ys, 0), h};
  if (k == RNNCellKind::LSTM) out.push_back(c);
  return out;
}

std::vector<Tensor> whole(RNNCellKind k, const Inputs& in, bool reverse) {
  return rnn_sequence(k, in.gx, in.h0, in.c0, in.w_hh, in.b_hh, reverse);
}

// Outputs, then the gradients of sum(out_i * w_i) with respect to every input.
std::vector<Tensor> values_and_grads(const std::vector<Tensor>& outs, const Inputs& in, uint64_t seed) {
  Generator g(seed);
  Tensor loss;
  for (const Tensor& o : outs) {
    Tensor term = sum(mul(o, randn(o.shape(), {.dtype = o.dtype()}, &g)));
    loss = loss.defined() ? add(loss, term) : term;
  }
  std::vector<Tensor> r;
  for (const Tensor& o : outs) r.push_back(o.detach());
  for (Tensor& d : autograd::grad({loss}, in.list())) r.push_back(d);
  return r;
}

TEST(RnnSequence, MatchesThePerStepCellsInFloat64) {
  // H = 160: panels of 64, 64 and 32 units; B * G * H reaches the 2-thread split for the LSTM and GRU.
  for (RNNCellKind k : kKinds)
    for (bool reverse : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "kind " << int(k) << (reverse ? " reverse" : ""));
      Inputs in = make_inputs(k, 5, 24, 160, DType::Float64, 7);
      auto want = values_and_grads(by_steps(k, in, reverse), in, 3);
      auto got = values_and_grads(whole(k, in, reverse), in, 3);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(testing::close(got[i], want[i], 1e-11, 1e-12)) << "tensor " << i;
    }
}

TEST(RnnSequence, MatchesThePerStepCellsInFloat32) {
  // The char LSTM's layer (H = 256, batch 32), a few steps.
  for (RNNCellKind k : {RNNCellKind::LSTM, RNNCellKind::GRU}) {
    SCOPED_TRACE(int(k));
    Inputs in = make_inputs(k, 6, 32, 256, DType::Float32, 11);
    auto want = values_and_grads(by_steps(k, in, false), in, 5);
    auto got = values_and_grads(whole(k, in, false), in, 5);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(testing::close(got[i], want[i], 1e-4, 1e-5)) << "tensor " << i;
  }
}

TEST(RnnSequence, SameBitsAtOneAndTwoThreads) {
  for (RNNCellKind k : kKinds)
    for (bool reverse : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "kind " << int(k) << (reverse ? " reverse" : ""));
      Inputs in = make_inputs(k, 4, 32, 200, DType::Float32, 13);  // panels 64, 64, 64, 8
      auto run = [&](int threads) {
        NumThreadsGuard guard(threads);
        return values_and_grads(whole(k, in, reverse), in, 9);
      };
      auto one = run(1), two = run(2);
      for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(equal(one[i], two[i])) << "tensor " << i;
    }
}

TEST(RnnSequence, UnusedOutputsAndAbsentStates) {
  // Only y used, no initial state: the same as zeros given explicitly, and h0's gradient exists
  // only when h0 is given.
  Inputs in = make_inputs(RNNCellKind::LSTM, 3, 4, 5, DType::Float64, 17);
  Tensor zh = zeros({4, 5}, {.dtype = DType::Float64});
  auto a = rnn_sequence(RNNCellKind::LSTM, in.gx, Tensor(), Tensor(), in.w_hh, in.b_hh);
  auto b = rnn_sequence(RNNCellKind::LSTM, in.gx, zh, zh, in.w_hh, in.b_hh);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(equal(a[i], b[i]));
  auto ga = autograd::grad({sum(a[0])}, {in.gx, in.w_hh, in.b_hh});
  auto gb = autograd::grad({sum(b[0])}, {in.gx, in.w_hh, in.b_hh});
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_TRUE(equal(ga[i], gb[i]));
  // A batch of none: empty outputs, zero weight gradients.
  Tensor gx0 = zeros({3, 0, 20}, {.dtype = DType::Float64}).requires_grad_();
  auto e = rnn_sequence(RNNCellKind::LSTM, gx0, Tensor(), Tensor(), in.w_hh, in.b_hh);
  EXPECT_EQ(e[0].shape(), (Shape{3, 0, 5}));
  auto ge = autograd::grad({sum(e[0])}, {in.w_hh, in.b_hh});
  EXPECT_EQ(max(abs(ge[0])).item<double>(), 0.0);
  EXPECT_EQ(max(abs(ge[1])).item<double>(), 0.0);
}

// Under create_graph the backward is written with ops: it gives the kernel's gradient, and its own
// gradient matches central differences.
TEST(RnnSequence, DoubleBackwardMatchesNumericalDifferences) {
  for (RNNCellKind k : kKinds)
    for (bool reverse : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "kind " << int(k) << (reverse ? " reverse" : ""));
      Inputs base = make_inputs(k, 3, 2, 2, DType::Float64, 19);
      Tensor w = randn({3 * 2 * 2 + 2 * 2 + (k == RNNCellKind::LSTM ? 4 : 0)}, {.dtype = DType::Float64});
      auto first_grads = [&](const std::vector<Tensor>& x, bool create_graph) {
        EnableGradGuard on;  // gradcheck evaluates its differences under no_grad
        Inputs in{x[0], x[1], x.size() > 4 ? x[4] : Tensor(), x[2], x[3]};
        std::vector<Tensor> flat;
        for (auto& o : whole(k, in, reverse)) flat.push_back(reshape(o, {-1}));
        auto g = autograd::grad({sum(mul(cat(flat, 0), w))}, x, {}, true, create_graph);
        std::vector<Tensor> gf;
        for (auto& t : g) gf.push_back(reshape(t, {-1}));
        return cat(gf, 0);
      };
      std::vector<Tensor> leaves;
      for (auto& t : base.list()) leaves.push_back(t.detach().requires_grad_());
      EXPECT_TRUE(testing::close(first_grads(leaves, true), first_grads(leaves, false), 1e-10, 1e-12));
      testing::Fn fn = [&](const std::vector<Tensor>& x) { return first_grads(x, true); };
      std::vector<Tensor> plain;
      for (auto& t : base.list()) plain.push_back(t.detach());
      EXPECT_TRUE(testing::gradcheck(fn, plain));
    }
}

}  // namespace
}  // namespace koan
