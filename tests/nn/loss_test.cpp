// Loss modules against the functional losses, numerical stability at extreme logits, the fused
// cross entropy against its composition of ops (values, gradients, double backward), penalties.
#include <cmath>

#include "koan/nn/loss.h"
#include "support/testing.h"

namespace koan {
namespace {

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

Tensor grad_of(const Tensor& loss, const Tensor& x, bool create_graph = false) {
  return autograd::grad({loss}, {x}, {}, create_graph, create_graph).at(0);
}

TEST(LossModules, EqualTheFunctionalForms) {
  Tensor x = randn({4, 3}), y = randn({4, 3}), p = rand({4, 3}), t = rand({4, 3});
  Tensor lab = tensor({0, 2, 1, 2}), w = rand({3}) + 0.5, pw = rand({3}) + 0.5;
  Tensor lp = log_softmax(x, 1), q = softmax(y, 1);
  EXPECT_TRUE(equal(nn::MSELoss({.reduction = Reduction::Sum}).forward(x, y), mse_loss(x, y, "sum")));
  EXPECT_TRUE(equal(nn::L1Loss()(x, y), l1_loss(x, y)));
  EXPECT_TRUE(equal(nn::SmoothL1Loss({.beta = 0.5})(x, y), smooth_l1_loss(x, y, Reduction::Mean, 0.5)));
  EXPECT_TRUE(equal(nn::HuberLoss({.reduction = Reduction::None, .delta = 0.3})(x, y),
                    huber_loss(x, y, "none", 0.3)));
  EXPECT_TRUE(equal(nn::BCELoss({.weight = w})(p, t), binary_cross_entropy(p, t, w)));
  EXPECT_TRUE(equal(nn::BCEWithLogitsLoss({.weight = w, .pos_weight = pw, .reduction = Reduction::Sum})(x, t),
                    binary_cross_entropy_with_logits(x, t, w, pw, "sum")));
  nn::CrossEntropyLoss ce({.weight = w, .ignore_index = 1, .label_smoothing = 0.2});
  EXPECT_TRUE(equal(ce(x, lab), cross_entropy(x, lab, {.weight = w, .ignore_index = 1, .label_smoothing = 0.2})));
  EXPECT_TRUE(equal(nn::CrossEntropyLoss()(x, q), cross_entropy(x, q)));
  EXPECT_TRUE(equal(nn::NLLLoss({.weight = w})(lp, lab), nll_loss(lp, lab, {.weight = w})));
  EXPECT_TRUE(equal(nn::KLDivLoss({.reduction = "batchmean"})(lp, q), kl_div(lp, q, "batchmean")));
  EXPECT_TRUE(equal(nn::KLDivLoss({.log_target = true})(lp, log(q)), kl_div(lp, log(q), "mean", true)));
}

TEST(LossModules, WeightsAreBuffersThatCloneAndConvert) {
  nn::CrossEntropyLoss ce({.weight = tensor({1.f, 2.f, 3.f})});
  ASSERT_EQ(ce.named_buffers().size(), 1u);
  EXPECT_EQ(ce.named_buffers()[0].first, "weight");
  auto copy = std::dynamic_pointer_cast<nn::CrossEntropyLoss>(ce.clone());
  ASSERT_TRUE(copy);
  EXPECT_FALSE(copy->weight.storage()->data() == ce.weight.storage()->data());
  EXPECT_TRUE(equal(copy->weight, ce.weight));
  ce.to(DType::Float64);
  Tensor x = randn({2, 3}, {.dtype = DType::Float64});
  EXPECT_EQ(ce(x, tensor({0, 2})).dtype(), DType::Float64);  // the converted buffer is used
  EXPECT_EQ(nn::BCEWithLogitsLoss({.pos_weight = ones({3})}).named_buffers()[0].first, "pos_weight");
  EXPECT_NE(ce.repr().find("CrossEntropyLoss(reduction=mean"), std::string::npos) << ce.repr();
  EXPECT_THROW(nn::KLDivLoss({.reduction = "avg"}), ValueError);
  EXPECT_THROW(nn::CrossEntropyLoss({.label_smoothing = -0.1}), ValueError);
}

TEST(LossStability, ExtremeLogitsGiveFiniteLossesAndGradients) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    SCOPED_TRACE(name(dt));
    Tensor x = tensor({{1e4, -1e4, 0.0}, {-1e4, 1e4, 5.0}}).to(dt).requires_grad_();
    for (double eps : {0.0, 0.1}) {
      Tensor l = cross_entropy(x, tensor({1, 0}), {.label_smoothing = eps});
      EXPECT_TRUE(all_finite(l));
      EXPECT_NEAR(l.item<double>(), (1 - eps) * 2e4 + eps * (2e4 + 1e4 + 2e4 + 1e4 - 5) / 6, 1e-2);
      Tensor g = grad_of(l, x);
      EXPECT_TRUE(all_finite(g));
      // softmax - onehot, halved by the mean: row 0 puts all mass on class 0, target 1.
      if (eps == 0) {
        EXPECT_TRUE(testing::close(g[0], tensor({0.5, -0.5, 0.0}).to(dt), 1e-6, 1e-6));
      }
    }
    Tensor spatial = full({1, 3, 2, 2}, 1e4, {.dtype = dt});
    spatial.select(1, 1).fill_(-1e4);
    spatial.requires_grad_();
    Tensor ls = cross_entropy(spatial, zeros({1, 2, 2}, {.dtype = DType::Int64}) + 1);
    EXPECT_TRUE(all_finite(ls));
    EXPECT_TRUE(all_finite(grad_of(ls, spatial)));

    Tensor z = tensor({1e4, -1e4, 1e4, -1e4}).to(dt).requires_grad_();
    Tensor y = tensor({0.0, 1.0, 1.0, 0.0}).to(dt);
    Tensor b = binary_cross_entropy_with_logits(z, y, {}, full({4}, 2.0, {.dtype = dt}), "none");
    EXPECT_TRUE(testing::close(b, tensor({1e4, 2e4, 0.0, 0.0}).to(dt), 1e-6, 1e-3));
    Tensor gb = grad_of(sum(b), z);
    EXPECT_TRUE(testing::close(gb, tensor({1.0, -2.0, 0.0, 0.0}).to(dt), 1e-6, 1e-6));
    // Probabilities at exactly 0 and 1: the -100 clamp keeps BCE finite.
    Tensor pb = binary_cross_entropy(tensor({0.0, 1.0}).to(dt), tensor({1.0, 0.0}).to(dt), {}, "none");
    EXPECT_TRUE(testing::close(pb, tensor({100.0, 100.0}).to(dt)));
  }
}

// cross_entropy over class indices runs a fused kernel unless the class weight needs a gradient;
// then it is a composition of ops.  Both must agree, in value, gradient and double backward.
struct CeCase {
  Shape shape;
  Reduction reduction;
  int64_t ignore;
  double smoothing;
  bool weighted;
};

TEST(CrossEntropyFused, EqualsTheCompositionOfOps) {
  std::vector<CeCase> cases = {{{6, 5}, Reduction::Mean, -100, 0, false},
                               {{6, 5}, Reduction::None, 2, 0.1, true},
                               {{3, 4, 2, 3}, Reduction::Mean, 1, 0.3, true},
                               {{3, 4, 5}, Reduction::Sum, -100, 0.2, false},
                               {{4}, Reduction::None, -100, 0.1, true}};
  Generator gen(7);
  for (const CeCase& c : cases) {
    SCOPED_TRACE(str(c.shape, " ", reduction_name(c.reduction)));
    Tensor x = randn(c.shape, {.dtype = DType::Float64}, &gen).requires_grad_();
    int64_t classes = c.shape.size() > 1 ? c.shape[1] : c.shape[0];
    Shape ts = c.shape;
    if (ts.size() > 1) ts.erase(ts.begin() + 1);
    else ts.clear();
    Tensor t = randint(0, classes, ts, DType::Int64, &gen);
    Tensor w = rand({classes}, {.dtype = DType::Float64}, &gen) + 0.5;
    CrossEntropyOptions fused{.weight = c.weighted ? w : Tensor(), .ignore_index = c.ignore,
                              .label_smoothing = c.smoothing, .reduction = c.reduction};
    // The composite path: a weight that requires grad (all ones when unweighted).
    Tensor wc = (c.weighted ? w : ones({classes}, {.dtype = DType::Float64})).detach().requires_grad_();
    CrossEntropyOptions composite = fused;
    composite.weight = wc;

    Tensor a = cross_entropy(x, t, fused), b = cross_entropy(x, t, composite);
    ASSERT_TRUE(testing::close(a, b, 1e-12, 1e-12));
    Tensor up = randn(a.shape(), {.dtype = DType::Float64}, &gen);
    // The fused kernel's backward (no create_graph), then its create_graph rule written with ops.
    Tensor g_kernel = autograd::grad({a}, {x}, {up}, /*retain_graph=*/true, false).at(0);
    Tensor ga = autograd::grad({a}, {x}, {up}, true, true).at(0);
    Tensor gb = autograd::grad({b}, {x}, {up}, true, true).at(0);
    EXPECT_TRUE(testing::close(g_kernel, gb, 1e-12, 1e-12)) << "first derivative (kernel)";
    EXPECT_TRUE(testing::close(ga, gb, 1e-12, 1e-12)) << "first derivative (ops)";
    // Double backward through the fused op's create_graph rule.
    Tensor v = randn(x.shape(), {.dtype = DType::Float64}, &gen);
    Tensor gga = grad_of(sum(mul(ga, v)), x), ggb = grad_of(sum(mul(gb, v)), x);
    EXPECT_TRUE(testing::close(gga, ggb, 1e-10, 1e-12)) << "second derivative";
  }
}

TEST(CrossEntropyFused, SameResultAtAnyThreadCount) {
  Generator gen(3);
  Tensor x = randn({512, 100}, {}, &gen), t = randint(0, 100, {512}, DType::Int64, &gen);
  Tensor xs = randn({8, 10, 40, 40}, {}, &gen), ts = randint(0, 10, {8, 40, 40}, DType::Int64, &gen);
  int before = get_num_threads();
  std::vector<Tensor> out;
  for (int n : {1, 2, 4}) {
    set_num_threads(n);
    Tensor xa = x.detach().requires_grad_(), xb = xs.detach().requires_grad_();
    Tensor l = add(cross_entropy(xa, t, {.label_smoothing = 0.1}), cross_entropy(xb, ts));
    l.backward();
    out.push_back(l.detach());
    out.push_back(xa.grad());
    out.push_back(xb.grad());
  }
  set_num_threads(before);
  for (size_t i = 3; i < out.size(); ++i) EXPECT_TRUE(equal(out[i], out[i % 3])) << i;
}

TEST(CrossEntropy, AllTargetsIgnoredGivesNanMeanAndZeroSum) {
  Tensor x = randn({3, 4}).requires_grad_();
  Tensor t = full({3}, -100, {.dtype = DType::Int64});
  EXPECT_TRUE(std::isnan(cross_entropy(x, t).item<float>()));  // 0 / 0, as PyTorch
  Tensor s = cross_entropy(x, t, {.reduction = Reduction::Sum});
  EXPECT_EQ(s.item<float>(), 0.f);
  EXPECT_TRUE(equal(grad_of(s, x), zeros({3, 4})));
}

TEST(Reduction, ParsesPyTorchNames) {
  EXPECT_EQ(parse_reduction("none"), Reduction::None);
  EXPECT_EQ(parse_reduction("mean"), Reduction::Mean);
  EXPECT_EQ(parse_reduction("sum"), Reduction::Sum);
  EXPECT_THROW(parse_reduction("Sum"), ValueError);
  try {
    (void)mse_loss(zeros({2}), zeros({2}), "avg");
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("mse_loss"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("avg"), std::string::npos) << e.what();
  }
}

TEST(Penalties, ValuesAndGradients) {
  Tensor a = tensor({1.f, -2.f, 3.f}).requires_grad_();
  Tensor b = tensor({{-0.5f, 0.f}, {4.f, -1.f}}).requires_grad_();
  Tensor l1 = l1_penalty({a, b}), l2 = l2_penalty({a, b});
  EXPECT_FLOAT_EQ(l1.item<float>(), 1 + 2 + 3 + 0.5f + 0 + 4 + 1);
  EXPECT_FLOAT_EQ(l2.item<float>(), 1 + 4 + 9 + 0.25f + 0 + 16 + 1);
  EXPECT_EQ(l1.dim(), 0);
  auto g1 = autograd::grad({l1}, {a, b});
  EXPECT_TRUE(equal(g1[0], tensor({1.f, -1.f, 1.f})));
  EXPECT_TRUE(equal(g1[1], tensor({{-1.f, 0.f}, {1.f, -1.f}})));  // sign, 0 at 0
  auto g2 = autograd::grad({l2}, {a, b});
  EXPECT_TRUE(equal(g2[0], tensor({2.f, -4.f, 6.f})));
  EXPECT_TRUE(equal(g2[1], tensor({{-1.f, 0.f}, {8.f, -2.f}})));
  EXPECT_EQ(l2_penalty({}).item<float>(), 0.f);
  EXPECT_THROW(l1_penalty({a, Tensor()}), ValueError);
}

}  // namespace
}  // namespace koan
