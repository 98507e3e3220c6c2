#include <cmath>

#include "support/testing.h"

namespace koan {
namespace {

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = tensor({1.0, 2.0, 3.0}).requires_grad_();
  sum(mul(x, x)).backward();
  EXPECT_TRUE(testing::close(x.grad(), tensor({2.0, 4.0, 6.0})));
  sum(mul(x, 3.0)).backward();
  EXPECT_TRUE(testing::close(x.grad(), tensor({5.0, 7.0, 9.0})));
}

TEST(Engine, SecondBackwardNeedsRetainGraph) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();  // retained: works, accumulates
  EXPECT_TRUE(testing::close(x.grad(), mul(exp(x.detach()), 2.0)));
  EXPECT_THROW(y.backward(), AutogradError);  // freed now
}

TEST(Engine, NonScalarNeedsExplicitGradient) {
  Tensor x = ones({3}).requires_grad_();
  Tensor y = mul(x, 2.0);
  EXPECT_THROW(y.backward(), ValueError);
  y.backward(tensor({1.f, 2.f, 3.f}));
  EXPECT_TRUE(testing::close(x.grad(), tensor({2.f, 4.f, 6.f})));
}

TEST(Engine, DeepChainNeitherOverflowsInBackwardNorInDestruction) {
  Tensor x = tensor({0.5}).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = mul(y, 1.0);
  sum(y).backward();
  EXPECT_TRUE(testing::close(x.grad(), tensor({1.f})));
  y = Tensor();  // destroying the 100 000-node graph must not recurse
  Tensor z = x;
  for (int i = 0; i < 100000; ++i) z = add(z, 0.0);
  z = Tensor();  // freed without backward
}

TEST(Engine, SecondDerivativeOfTanh) {
  Tensor x = tensor({-1.0, 0.3, 2.0}, {.dtype = DType::Float64}).requires_grad_();
  Tensor y = tanh(x);
  auto g1 = autograd::grad({sum(y)}, {x}, {}, true, /*create_graph=*/true)[0];
  auto g2 = autograd::grad({sum(g1)}, {x})[0];
  // d2/dx2 tanh = -2 tanh(x) (1 - tanh(x)^2)
  auto xv = x.detach().to_vector<double>();
  auto gv = g2.to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) {
    double t = std::tanh(xv[i]);
    EXPECT_NEAR(gv[i], -2 * t * (1 - t * t), 1e-12);
  }
}

TEST(Engine, HessianVectorProductOfSmallMlp) {
  Generator g(3);
  TensorOptions f64{.dtype = DType::Float64};
  Tensor w1 = randn({4, 3}, f64, &g).requires_grad_();
  Tensor w2 = randn({1, 4}, f64, &g).requires_grad_();
  Tensor x = randn({5, 3}, f64, &g);
  Tensor v = randn({4, 3}, f64, &g);
  auto loss_fn = [&](const Tensor& w) { return sum(square(matmul(tanh(matmul(x, t(w))), t(w2)))); };
  Tensor gw = autograd::grad({loss_fn(w1)}, {w1}, {}, true, true)[0];
  Tensor hv = autograd::grad({sum(mul(gw, v))}, {w1})[0];
  // Finite differences of the gradient along v.
  double eps = 1e-6;
  auto grad_at = [&](const Tensor& w) {
    Tensor wc = w.detach().clone().requires_grad_();
    return autograd::grad({loss_fn(wc)}, {wc})[0];
  };
  Tensor fd = div(sub(grad_at(add(w1.detach(), mul(v, eps))), grad_at(sub(w1.detach(), mul(v, eps)))), 2 * eps);
  EXPECT_TRUE(testing::close(hv, fd, 1e-5, 1e-7));
}

TEST(Engine, InPlaceChangeOfSavedTensorIsAnError) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor a = mul(x, 1.0);
  Tensor y = exp(a);   // saves its output
  mul_(y, 2.0);        // overwrites it
  try {
    sum(y).backward();
    FAIL() << "expected AutogradError";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("ExpBackward"), std::string::npos) << e.what();
  }
}

TEST(Engine, InPlaceOnLeafRequiringGradIsRefused) {
  Tensor w = ones({2}).requires_grad_();
  EXPECT_THROW(add_(w, 1.0), AutogradError);
  {
    NoGradGuard g;
    add_(w, 1.0);  // optimizers do this
  }
  EXPECT_TRUE(testing::close(w.detach(), tensor({2.f, 2.f})));
}

TEST(Engine, InPlaceOnNonLeafIsDifferentiated) {
  Tensor x = tensor({1.0, -2.0, 3.0}).requires_grad_();
  Tensor y = mul(x, 2.0);
  mul_(y, x);  // y = 2x^2
  sum(y).backward();
  EXPECT_TRUE(testing::close(x.grad(), tensor({4.0, -8.0, 12.0})));
  // y *= y needs the old y for the gradient of `other`, which the write destroys (as in PyTorch).
  Tensor z = mul(x, 2.0);
  mul_(z, z);
  EXPECT_THROW(sum(z).backward(), AutogradError);
}

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor x = ones({2}).requires_grad_();
  Tensor y;
  {
    NoGradGuard g;
    y = mul(x, 2.0);
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Engine, BroadcastGradientsAreSummedBack) {
  Tensor a = ones({3, 1}).requires_grad_();
  Tensor b = ones({4}).requires_grad_();
  sum(mul(a, b)).backward();
  EXPECT_EQ(a.grad().shape(), (Shape{3, 1}));
  EXPECT_TRUE(testing::close(a.grad(), full({3, 1}, 4.f)));
  EXPECT_TRUE(testing::close(b.grad(), full({4}, 3.f)));
}

TEST(Engine, GradReturnsWithoutTouchingDotGrad) {
  Tensor x = tensor({2.0}).requires_grad_();
  Tensor w = tensor({3.0}).requires_grad_();
  auto g = autograd::grad({sum(mul(x, w))}, {x});
  EXPECT_TRUE(testing::close(g[0], tensor({3.f})));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
}

TEST(Engine, UnusedInputNeedsAllowUnused) {
  Tensor x = tensor({2.0}).requires_grad_();
  Tensor z = tensor({1.0}).requires_grad_();
  Tensor y = sum(mul(x, 2.0));
  EXPECT_THROW(autograd::grad({y}, {x, z}, {}, true), AutogradError);
  auto g = autograd::grad({y}, {x, z}, {}, false, false, true);
  EXPECT_TRUE(g[0].defined());
  EXPECT_FALSE(g[1].defined());
}

TEST(Engine, HooksCanRewriteGradients) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  x.register_hook([](const Tensor& g) { return mul(g, 10.0); });
  Tensor h = mul(x, 3.0);
  h.register_hook([](const Tensor& g) { return add(g, 1.0); });
  sum(h).backward();
  // dL/dh = 1 -> hook -> 2; dL/dx = 3 * 2 = 6 -> hook -> 60
  EXPECT_TRUE(testing::close(x.grad(), tensor({60.f, 60.f})));
}

TEST(Engine, RetainGradKeepsNonLeafGradient) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor h = mul(x, 3.0);
  h.retain_grad();
  sum(mul(h, h)).backward();
  EXPECT_TRUE(testing::close(h.grad(), tensor({6.f, 12.f})));
}

TEST(Engine, DetachStopsGradient) {
  Tensor x = tensor({1.0}).requires_grad_();
  Tensor y = add(mul(x, 2.0), detach(mul(x, 5.0)));
  sum(y).backward();
  EXPECT_TRUE(testing::close(x.grad(), tensor({2.f})));
}

}  // namespace
}  // namespace koan
