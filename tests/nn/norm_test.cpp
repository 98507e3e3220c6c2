// Normalisation, dropout and embedding layers: parity with torch.nn over several training steps,
// train/eval behaviour, buffers in the state dict, dropout statistics, sparse embedding
// gradients, clones, and the fused ops' double backward.
#include <cmath>

#include "koan/nn/dropout.h"
#include "koan/nn/embedding.h"
#include "koan/nn/norm.h"
#include "koan/ops/dropout.h"
#include "koan/ops/embedding.h"
#include "koan/ops/norm.h"
#include "support/testing.h"

namespace koan {
namespace {

using testing::close;

std::vector<std::string> keys(const nn::StateDict& sd) {
  std::vector<std::string> k;
  for (auto& [n, t] : sd) k.push_back(n);
  return k;
}

// The configurations of gen_norm.py's nn_batchnorm cases, in order (each float32 then float64).
struct BnConfig {
  int kind;
  std::optional<double> momentum;
  bool affine, track;
};
const BnConfig kBnConfigs[] = {{1, 0.1, true, true}, {1, std::nullopt, true, true}, {2, 0.2, true, true},
                               {2, 0.1, false, true}, {2, 0.1, true, false}};

TEST(BatchNorm, ThreeTrainingStepsThenEvalMatchPyTorch) {
  testing::Fixture fx("norm");
  auto cases = fx.cases("nn_batchnorm");
  ASSERT_EQ(cases.size(), 10u);
  for (int k = 0; k < 10; ++k) {
    const std::string c = "nn_batchnorm/" + std::to_string(k);
    SCOPED_TRACE(c);
    const BnConfig& cfg = kBnConfigs[k / 2];
    Tensor x0 = fx.get(c + "/in0");
    nn::BatchNormOptions o{.num_features = x0.size(1), .momentum = cfg.momentum, .affine = cfg.affine,
                           .track_running_stats = cfg.track, .dtype = x0.dtype()};
    std::shared_ptr<nn::BatchNorm> m;
    if (cfg.kind == 1) m = std::make_shared<nn::BatchNorm1d>(o);
    else m = std::make_shared<nn::BatchNorm2d>(o);
    if (cfg.affine) {
      NoGradGuard g;
      m->weight.copy_(fx.get(c + "/in3"));
      m->bias.copy_(fx.get(c + "/in4"));
    }
    Tensor y;
    for (int i = 0; i < 3; ++i) y = m->forward(fx.get(c + "/in" + std::to_string(i)));
    m->eval();
    Tensor ye = m->forward(x0);
    std::vector<Tensor> parts;
    if (cfg.track) {
      parts = {m->running_mean, m->running_var};
      EXPECT_EQ(m->num_batches_tracked.item<int64_t>(), 3);
    }
    parts.push_back(y.flatten());
    parts.push_back(ye.flatten());
    bool f64 = x0.dtype() == DType::Float64;
    EXPECT_TRUE(close(cat(parts), fx.get(c + "/out"), f64 ? 1e-9 : 1e-5, f64 ? 1e-10 : 1e-5));
  }
}

TEST(BatchNorm, TrainNormalisesTheBatchEvalUsesRunningStats) {
  nn::BatchNorm1d bn({.num_features = 3});
  Tensor x = randn({64, 3}) * 3.0 + 2.0;
  Tensor y = bn.forward(x);
  // Training: each channel of the output has mean 0 and (biased) variance ~1.
  EXPECT_TRUE(close(mean(y, {0}), zeros({3}), 0, 1e-5));
  EXPECT_TRUE(close(var(y, {0}, 0), ones({3}), 1e-3, 1e-3));
  // The running mean moved 10% of the way to the batch mean.
  EXPECT_TRUE(close(bn.running_mean, mul(mean(x, {0}), 0.1), 1e-5, 1e-6));
  EXPECT_TRUE(close(bn.running_var, add(mul(var(x, {0}), 0.1), 0.9), 1e-5, 1e-6));
  bn.eval();
  Tensor ye = bn.forward(x);
  Tensor expect = div(sub(x, bn.running_mean), sqrt(add(bn.running_var, 1e-5)));
  EXPECT_TRUE(close(ye, expect, 1e-5, 1e-5));
  EXPECT_FALSE(allclose(ye, y, 1e-3, 1e-3));
  // Eval leaves the statistics alone.
  Tensor rm = bn.running_mean.clone();
  bn.forward(randn({8, 3}));
  EXPECT_TRUE(equal(rm, bn.running_mean));
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
}

TEST(BatchNorm, TrainingUpdateBumpsTheRunningStatsVersion) {
  Tensor rm = zeros({2}), rv = ones({2});
  uint64_t v0 = rm.version(), w0 = rv.version();
  batch_norm(randn({4, 2}), rm, rv, Tensor(), Tensor(), true);
  EXPECT_GT(rm.version(), v0);
  EXPECT_GT(rv.version(), w0);
  uint64_t v1 = rm.version();
  batch_norm(randn({4, 2}), rm, rv, Tensor(), Tensor(), false);
  EXPECT_EQ(rm.version(), v1);
  // A training step between an eval forward and its backward is caught, not silently wrong.
  Tensor x = randn({4, 2}).requires_grad_();
  Tensor rm2 = zeros({2}).requires_grad_(), rv2 = ones({2});
  Tensor y = batch_norm(x, rm2, rv2, Tensor(), Tensor(), false);
  {
    NoGradGuard g;
    batch_norm(randn({4, 2}), rm2, rv2, Tensor(), Tensor(), true);
  }
  EXPECT_THROW(y.sum().backward(), Error);
}

TEST(BatchNorm, StateDictUsesPyTorchNames) {
  nn::BatchNorm2d bn({.num_features = 4});
  EXPECT_EQ(keys(bn.state_dict()),
            (std::vector<std::string>{"bias", "num_batches_tracked", "running_mean", "running_var", "weight"}));
  EXPECT_EQ(bn.state_dict().at("num_batches_tracked").dtype(), DType::Int64);
  EXPECT_EQ(bn.state_dict().at("num_batches_tracked").dim(), 0);
  EXPECT_EQ(bn.parameters().size(), 2u);
  nn::BatchNorm2d plain({.num_features = 4, .affine = false, .track_running_stats = false});
  EXPECT_TRUE(plain.state_dict().empty());
  // Round trip: a trained module's buffers load into a fresh one.
  bn.forward(randn({2, 4, 3, 3}));
  nn::BatchNorm2d other({.num_features = 4});
  other.load_state_dict(bn.state_dict());
  EXPECT_TRUE(equal(other.running_mean, bn.running_mean));
  EXPECT_EQ(other.num_batches_tracked.item<int64_t>(), 1);
  EXPECT_THROW(bn.forward(randn({2, 4, 3})), ShapeError);
  EXPECT_THROW(nn::BatchNorm1d({.num_features = 3}).forward(randn({2, 3, 4, 5})), ShapeError);
  EXPECT_THROW(nn::BatchNorm1d({.num_features = 0}), ValueError);
}

TEST(BatchNorm, CloneIsIndependent) {
  nn::BatchNorm1d bn({.num_features = 3});
  bn.forward(randn({5, 3}) + 1.0);
  bn.eval();
  auto c = std::dynamic_pointer_cast<nn::BatchNorm1d>(bn.clone());
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->is_training());
  EXPECT_TRUE(equal(c->running_mean, bn.running_mean));
  EXPECT_FALSE(c->running_mean.is_same(bn.running_mean));
  Tensor before = bn.running_mean.clone();
  c->train();
  c->forward(randn({5, 3}) * 4.0);
  {
    NoGradGuard g;
    c->weight.fill_(7.0);
  }
  EXPECT_TRUE(equal(bn.running_mean, before));
  EXPECT_TRUE(equal(bn.weight, ones({3})));
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  EXPECT_EQ(c->num_batches_tracked.item<int64_t>(), 2);
  EXPECT_EQ(bn.repr(), "BatchNorm1d(num_features=3, eps=1e-05, momentum=0.1)");
}

TEST(LayerNorm, NormalisesEachSampleAndClones) {
  nn::LayerNorm ln({.normalized_shape = {4, 5}});
  EXPECT_EQ(keys(ln.state_dict()), (std::vector<std::string>{"bias", "weight"}));
  Tensor x = randn({3, 4, 5}) * 2.0 - 1.0;
  Tensor y = ln.forward(x);
  EXPECT_TRUE(close(mean(y, {1, 2}), zeros({3}), 0, 1e-5));
  EXPECT_TRUE(close(var(y, {1, 2}, 0), ones({3}), 1e-3, 1e-3));
  // Train and eval are the same for layer norm.
  ln.eval();
  EXPECT_TRUE(equal(ln.forward(x), y));
  auto c = std::dynamic_pointer_cast<nn::LayerNorm>(ln.clone());
  ASSERT_TRUE(c);
  {
    NoGradGuard g;
    c->weight.fill_(2.0);
  }
  EXPECT_TRUE(equal(ln.weight, ones({4, 5})));
  EXPECT_TRUE(close(c->forward(x), mul(y, 2.0), 1e-5, 1e-6));
  nn::LayerNorm bare({.normalized_shape = {5}, .elementwise_affine = false});
  EXPECT_TRUE(bare.state_dict().empty());
  EXPECT_THROW(nn::LayerNorm({.normalized_shape = {}}), ValueError);
}

TEST(Dropout, MaskStatistics) {
  const double p = 0.3;
  Generator g(42);
  Tensor x = ones({200000});
  Tensor y = dropout(x, p, true, &g);
  auto v = y.to_vector<float>();
  int64_t kept = 0;
  for (float e : v) {
    if (e != 0) {
      ++kept;
      ASSERT_FLOAT_EQ(e, static_cast<float>(1 / (1 - p)));  // survivors are scaled by 1/(1-p)
    }
  }
  double frac = static_cast<double>(kept) / v.size();
  // Binomial standard deviation sqrt(p(1-p)/n) ~ 0.001: 0.005 is a 5-sigma band.
  EXPECT_NEAR(frac, 1 - p, 0.005);
  EXPECT_NEAR(mean(y).item<float>(), 1.0, 0.01);  // expectation preserved
}

TEST(Dropout, SeedGivesTheSameMaskAtAnyThreadCount) {
  Tensor x = randn({300000});
  int threads = get_num_threads();
  Generator g1(7), g2(7), g3(8);
  set_num_threads(1);
  Tensor a = dropout(x, 0.5, true, &g1);
  set_num_threads(std::max(threads, 2));
  Tensor b = dropout(x, 0.5, true, &g2);
  Tensor c = dropout(x, 0.5, true, &g3);
  set_num_threads(threads);
  EXPECT_TRUE(equal(a, b));
  EXPECT_FALSE(equal(a, c));
  // The generator advanced: the next mask differs from the first.
  EXPECT_FALSE(equal(dropout(x, 0.5, true, &g1), a));
}

TEST(Dropout, GradientIsTheMaskAndEvalIsIdentity) {
  Generator g(3);
  Tensor x = randn({50, 4}).requires_grad_();
  Tensor y = dropout(x, 0.4, true, &g);
  y.sum().backward();
  // d(sum y)/dx is the scaled mask: y / x where x != 0.
  Tensor mask = x.grad();
  EXPECT_TRUE(close(y.detach(), mul(x.detach(), mask), 1e-6, 1e-6));
  auto mv = mask.to_vector<float>();
  for (float m : mv) EXPECT_TRUE(m == 0.f || std::fabs(m - 1 / 0.6f) < 1e-6) << m;
  EXPECT_TRUE(dropout(x, 0.4, false).is_same(x));
  EXPECT_TRUE(equal(dropout(x.detach(), 1.0, true), zeros({50, 4})));

  nn::Dropout d({.p = 0.5});
  Tensor z = ones({1000});
  EXPECT_FALSE(equal(d.forward(z), z));
  d.eval();
  EXPECT_TRUE(equal(d.forward(z), z));
  EXPECT_TRUE(d.state_dict().empty());
  auto c = d.clone();
  EXPECT_FALSE(c->is_training());
  EXPECT_EQ(c->repr(), "Dropout(p=0.5)");
  EXPECT_THROW(nn::Dropout({.p = 1.5}), ValueError);
}

TEST(Embedding, GradientOnlyOnUsedRowsAndNoneOnPadding) {
  nn::Embedding emb({.num_embeddings = 10, .embedding_dim = 4, .padding_idx = 2});
  EXPECT_TRUE(equal(emb.weight[2], zeros({4})));
  EXPECT_EQ(keys(emb.state_dict()), (std::vector<std::string>{"weight"}));
  Tensor idx = from_vector<int64_t>({1, 2, 1, 7, 2, 0}, Shape{2, 3});
  Tensor out = emb.forward(idx);
  ASSERT_EQ(out.shape(), (Shape{2, 3, 4}));
  EXPECT_TRUE(equal(out[1][0], emb.weight[7]));
  Tensor w = randn({2, 3, 4});
  sum(mul(out, w)).backward();
  Tensor g = emb.weight.grad();
  for (int64_t r = 0; r < 10; ++r) {
    bool used = r == 0 || r == 1 || r == 7;
    EXPECT_EQ(any(ne(g[r], 0.0)).item<bool>(), used) << "row " << r;
  }
  EXPECT_TRUE(close(g[1], add(w[0][0], w[0][2])));  // a repeated index sums its gradients
  EXPECT_TRUE(close(g[7], w[1][0]));
}

TEST(Embedding, GradcheckWithoutPadding) {
  Tensor ids = from_vector<int64_t>({3, 0, 3, 1, 3, 2}, Shape{3, 2});
  Tensor w = randn({4, 3}, {.dtype = DType::Float64});
  EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return embedding(ids, in[0]); }, {w}));
  // Double backward: the weight gradient is linear in the output gradient.
  Tensor wr = w.clone().requires_grad_();
  Tensor gout = randn({3, 2, 3}, {.dtype = DType::Float64}).requires_grad_();
  auto g1 = autograd::grad({embedding(ids, wr, 0)}, {wr}, {gout}, true, true);
  Tensor v = randn({4, 3}, {.dtype = DType::Float64});
  auto g2 = autograd::grad({sum(mul(g1[0], v))}, {gout});
  Tensor expect = index_select(v, 0, ids.flatten()).reshape({3, 2, 3});
  expect = mul(expect, ne(ids, 0).unsqueeze(-1).to(DType::Float64));  // padding row 0 gets nothing
  EXPECT_TRUE(close(g2[0], expect, 1e-12, 1e-12));
}

TEST(Embedding, InitIsStandardNormalAndCloneIsIndependent) {
  nn::Embedding emb({.num_embeddings = 2000, .embedding_dim = 50, .padding_idx = -1});
  EXPECT_EQ(*emb.options().padding_idx, 1999);
  EXPECT_TRUE(equal(emb.weight[1999], zeros({50})));
  Tensor body = emb.weight.narrow(0, 0, 1999);
  EXPECT_NEAR(mean(body).item<float>(), 0.0, 0.01);
  EXPECT_NEAR(koan::std(body).item<float>(), 1.0, 0.01);
  auto c = std::dynamic_pointer_cast<nn::Embedding>(emb.clone());
  ASSERT_TRUE(c);
  EXPECT_TRUE(equal(c->weight, emb.weight));
  {
    NoGradGuard g;
    c->weight.zero_();
  }
  EXPECT_FALSE(equal(c->weight, emb.weight));
  EXPECT_EQ(emb.repr(), "Embedding(num_embeddings=2000, embedding_dim=50, padding_idx=1999)");
  EXPECT_THROW(emb.forward(tensor({2000})), IndexError);
  EXPECT_THROW(nn::Embedding({.num_embeddings = 3, .embedding_dim = 2, .padding_idx = 3}), ValueError);
}

// Reference layer/batch norms written with elementary ops: their autograd graphs give the
// second derivatives the fused ops' create_graph rules must reproduce.
Tensor layer_norm_ref(const Tensor& x, const Tensor& w, const Tensor& b) {
  Tensor xc = sub(x, mean(x, {-1}, true));
  return add(mul(div(xc, sqrt(add(mean(mul(xc, xc), {-1}, true), 1e-5))), w), b);
}
Tensor batch_norm_ref(const Tensor& x, const Tensor& w, const Tensor& b) {  // (N, C, L), training
  Tensor xc = sub(x, mean(x, {0, 2}, true));
  Tensor v = mean(mul(xc, xc), {0, 2}, true);
  return add(mul(div(xc, sqrt(add(v, 1e-5))), w.reshape({1, -1, 1})), b.reshape({1, -1, 1}));
}

// Gradients of sum(d out/d(x, w) * v) -- a Hessian-vector product -- for fused and reference.
void expect_same_double_backward(const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& fused,
                                 const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& ref,
                                 const Shape& xs, int64_t c) {
  Generator gen(11);
  auto opts = TensorOptions{.dtype = DType::Float64};
  Tensor x0 = randn(xs, opts, &gen), w0 = randn({c}, opts, &gen), b0 = randn({c}, opts, &gen);
  Tensor gout = randn(xs, opts, &gen), vx = randn(xs, opts, &gen), vw = randn({c}, opts, &gen);
  std::vector<Tensor> results[2];
  for (int k = 0; k < 2; ++k) {
    Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
    Tensor y = k == 0 ? fused(x, w, b) : ref(x, w, b);
    auto g1 = autograd::grad({y}, {x, w}, {gout}, true, true);
    Tensor s = add(sum(mul(g1[0], vx)), sum(mul(g1[1], vw)));
    results[k] = autograd::grad({s}, {x, w, b}, {}, false, false, true);
    results[k].insert(results[k].begin(), g1.begin(), g1.end());
  }
  const char* names[] = {"gx", "gw", "ggx", "ggw", "ggb"};
  for (size_t i = 0; i < results[0].size(); ++i) {
    Tensor a = results[0][i], e = results[1][i];
    if (!e.defined()) e = zeros_like(a.defined() ? a : x0);
    if (!a.defined()) a = zeros_like(e);
    EXPECT_TRUE(close(a, e, 1e-9, 1e-10)) << names[i];
  }
}

TEST(NormOps, DoubleBackwardMatchesElementaryOps) {
  expect_same_double_backward(
      [](const Tensor& x, const Tensor& w, const Tensor& b) { return layer_norm(x, {5}, w, b); },
      layer_norm_ref, {3, 5}, 5);
  expect_same_double_backward(
      [](const Tensor& x, const Tensor& w, const Tensor& b) {
        return batch_norm(x, Tensor(), Tensor(), w, b, true);
      },
      batch_norm_ref, {4, 3, 2}, 3);
}

TEST(NormOps, ResultsDoNotDependOnTheThreadCount) {
  // Large enough that every kernel splits its work across threads (kParallelGrain).
  Tensor x = randn({64, 16, 400}) * 2.0 + 1.0;
  Tensor w = randn({16}), b = randn({16}), w2 = randn({400}), b2 = randn({400});
  Tensor g = randn({64, 16, 400});
  Tensor table = randn({50, 700});
  Tensor ids = randint(0, 50, {400});
  auto run = [&] {
    std::vector<Tensor> r;
    for (Tensor t : {x, w, b, w2, b2, table}) t.requires_grad_();
    Tensor y1 = batch_norm(x, Tensor(), Tensor(), w, b, true);
    Tensor y2 = layer_norm(x, {400}, w2, b2);
    Tensor y3 = embedding(ids, table);
    auto gr = autograd::grad({y1, y2}, {x, w, b, w2, b2}, {g, g});
    auto ge = autograd::grad({y3}, {table}, {ones_like(y3)});
    r = {y1, y2, y3};
    r.insert(r.end(), gr.begin(), gr.end());
    r.push_back(ge[0]);
    return r;
  };
  int threads = get_num_threads();
  set_num_threads(1);
  auto a = run();
  set_num_threads(std::max(threads, 2));
  auto b_ = run();
  set_num_threads(threads);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(equal(a[i], b_[i])) << "result " << i;
}

}  // namespace
}  // namespace koan
