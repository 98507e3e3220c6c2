// ReLU's backward: one fused pass (x > 0 ? g : 0) when nothing records it, ops when it must
// differentiate again.  Both must give the same gradient.
#include "support/testing.h"

namespace koan {
namespace {

TEST(ReluBackward, FusedPassMatchesTheMaskProduct) {
  Generator gen(11);
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor x = randn({7, 33}, {.dtype = dt}, &gen);
    if (dt == DType::Float32) x.data_ptr<float>()[0] = 0;  // relu'(0) = 0, as torch
    else x.data_ptr<double>()[0] = 0;
    Tensor w = randn({7, 33}, {.dtype = dt}, &gen);
    Tensor xr = x.clone().requires_grad_();
    sum(mul(relu(xr), w)).backward();
    Tensor want = mul(w, gt(x, 0).to(dt));
    EXPECT_TRUE(equal(xr.grad(), want));
    // A broadcast (stride-0) incoming gradient: sum() sends one expanded value.
    Tensor xs = testing::non_contiguous(x).requires_grad_();
    sum(relu(xs)).backward();
    EXPECT_TRUE(equal(xs.grad(), gt(x, 0).to(dt)));
  }
}

TEST(ReluBackward, NonFiniteGradientStaysOutOfTheDeadSide) {
  // torch's threshold_backward: where x <= 0 the gradient is 0 even if the incoming one is inf.
  Tensor x = tensor({-1.f, 2.f}).requires_grad_();
  Tensor y = relu(x);
  y.backward(tensor({std::numeric_limits<float>::infinity(), 3.f}));
  EXPECT_EQ(x.grad().data_ptr<float>()[0], 0.f);
  EXPECT_EQ(x.grad().data_ptr<float>()[1], 3.f);
}

TEST(ReluBackward, DifferentiatesAgainUnderCreateGraph) {
  // d/dw of <grad_x sum(relu(x) * w), v> = v * (x > 0): the backward must itself be recorded.
  Tensor x = randn({5, 4}, {.dtype = DType::Float64});
  Tensor w = randn({5, 4}, {.dtype = DType::Float64}).requires_grad_();
  Tensor v = randn({5, 4}, {.dtype = DType::Float64});
  Tensor xr = x.clone().requires_grad_();
  Tensor gx = autograd::grad({sum(mul(relu(xr), w))}, {xr}, {}, true, true)[0];
  Tensor gw = autograd::grad({sum(mul(gx, v))}, {w})[0];
  EXPECT_TRUE(testing::close(gw, mul(v, gt(x, 0).to(DType::Float64)), 1e-12, 1e-12));
}

// With a constant upstream gradient the second derivative w.r.t. x is zero, and x is still part
// of the graph (torch: threshold_backward's derivative w.r.t. self is zeros): grad() returns
// zeros instead of refusing x as unused.  The same for the other mask-based backwards.
TEST(ReluBackward, SecondGradientThroughAConstantUpstreamGradientIsZero) {
  Tensor x = randn({3, 4}, {.dtype = DType::Float64}).requires_grad_();
  Tensor v = randn({3, 4}, {.dtype = DType::Float64});
  for (auto f : {+[](const Tensor& t) { return relu(t); }, +[](const Tensor& t) { return leaky_relu(t, 0.1); },
                 +[](const Tensor& t) { return abs(t); }, +[](const Tensor& t) { return clamp(t, -0.5, 0.5); }}) {
    Tensor gx = autograd::grad({f(x)}, {x}, {v}, true, true)[0];
    ASSERT_TRUE(gx.requires_grad());
    Tensor ggx = autograd::grad({sum(gx)}, {x})[0];
    EXPECT_TRUE(equal(ggx, zeros_like(x)));
  }
}

}  // namespace
}  // namespace koan
