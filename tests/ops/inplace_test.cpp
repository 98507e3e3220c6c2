// In-place ops: results, version bumps, dtype rules, and autograd through them.
#include "support/testing.h"

namespace koan {
namespace {

TEST(InPlace, ResultsAndVersionBumps) {
  Tensor x = tensor({1.f, 2.f, 3.f});
  uint64_t v = x.version();
  add_(x, tensor({1.f, 1.f, 1.f}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{2, 3, 4}));
  mul_(x, 2.0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{4, 6, 8}));
  sub_(x, tensor({1.f, 1.f, 1.f}), 2.0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{2, 4, 6}));
  div_(x, 2.0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 2, 3}));
  clamp_(x, 1.5, 2.5);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1.5, 2, 2.5}));
  copy_(x, tensor({7.0}));  // broadcasts and converts
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{7, 7, 7}));
  masked_fill_(x, tensor({true, false, true}), -1.0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{-1, 7, -1}));
  x.zero_();
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_GE(x.version(), v + 8);
}

TEST(InPlace, BroadcastOperandButNotTarget) {
  Tensor x = zeros({2, 3});
  add_(x, tensor({1.f, 2.f, 3.f}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  Tensor y = zeros({3});
  EXPECT_THROW(add_(y, zeros({2, 3})), ShapeError);
}

TEST(InPlace, IntegerTargetRefusesFloatResult) {
  Tensor i = arange(3);
  EXPECT_THROW(add_(i, 0.5), DTypeError);
  EXPECT_THROW(div_(i, 2), DTypeError);
  add_(i, 2);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{2, 3, 4}));
}

TEST(InPlace, WritesThroughStridedViews) {
  Tensor x = zeros({3, 4});
  Tensor col = x.select(1, 2);
  fill_(col, 5.0);
  Tensor tr = x.t();
  add_(tr, ones({4, 3}));
  std::vector<float> expect = {1, 1, 6, 1, 1, 1, 6, 1, 1, 1, 6, 1};
  EXPECT_EQ(x.to_vector<float>(), expect);
}

TEST(InPlace, GradientThroughInPlaceChain) {
  Tensor x = tensor({1.0, 2.0}, {.dtype = DType::Float64}).requires_grad_();
  Tensor y = mul(x, 3.0);
  add_(y, 1.0);
  relu_(y);
  mul_(y, x);  // y = (3x + 1) * x
  sum(y).backward();
  EXPECT_TRUE(testing::close(x.grad(), tensor({7.0, 13.0}, {.dtype = DType::Float64})));  // 6x + 1
}

TEST(InPlace, OptimizerStyleUpdateUnderNoGrad) {
  Tensor w = ones({3}).requires_grad_();
  sum(mul(w, w)).backward();
  {
    NoGradGuard g;
    sub_(w, w.grad(), 0.25);
  }
  EXPECT_TRUE(testing::close(w.detach(), full({3}, 0.5f)));
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
}

}  // namespace
}  // namespace koan
