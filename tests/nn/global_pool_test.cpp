// GlobalMaxPool1d / GlobalAvgPool1d: values against hand-computed ones, float64 gradcheck,
// both layouts, errors.
#include "koan/nn/global_pool.h"
#include "support/testing.h"

namespace koan {
namespace {

TEST(GlobalPool1d, MaxAndMeanOverTheSequence) {
  // (B = 1, T = 3, C = 2)
  Tensor x = tensor({1.0, -2.0, 5.0, 0.5, 3.0, 4.0}, {.dtype = DType::Float64}).reshape({1, 3, 2});
  nn::GlobalMaxPool1d mx;
  nn::GlobalAvgPool1d av;
  EXPECT_TRUE(testing::close(mx.forward(x), tensor({{5.0, 4.0}}, {.dtype = DType::Float64})));
  EXPECT_TRUE(testing::close(av.forward(x), tensor({{3.0, 2.5 / 3}}, {.dtype = DType::Float64})));
  // Channels first: (B, C, T) pooled over dim 2 gives the same.
  Tensor xt = transpose(x, 1, 2);
  EXPECT_TRUE(testing::close(nn::GlobalMaxPool1d({.dim = 2}).forward(xt), mx.forward(x)));
  EXPECT_TRUE(testing::close(nn::GlobalAvgPool1d({.dim = 2}).forward(xt), av.forward(x)));
  EXPECT_EQ(mx.repr(), "GlobalMaxPool1d(dim=1)");
  EXPECT_EQ(mx.num_parameters(), 0);
}

TEST(GlobalPool1d, GradientGoesToTheMaximumAndSpreadsForTheMean) {
  Tensor x = randn({2, 5, 3}, {.dtype = DType::Float64});
  nn::GlobalMaxPool1d mx;
  nn::GlobalAvgPool1d av;
  EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return mx.forward(in[0]); }, {x}));
  EXPECT_TRUE(testing::gradcheck([&](const std::vector<Tensor>& in) { return av.forward(in[0]); }, {x}));
  Tensor xg = x.clone().requires_grad_();
  sum(mx.forward(xg)).backward();
  // One 1 per (example, feature), at the step holding the maximum.
  EXPECT_TRUE(testing::close(sum(xg.grad(), {1}), ones({2, 3}, {.dtype = DType::Float64})));
  EXPECT_TRUE(testing::close(sum(mul(xg.grad(), x), {1}), amax(x, {1})));
}

TEST(GlobalPool1d, Errors) {
  nn::GlobalMaxPool1d mx;
  EXPECT_THROW(mx.forward(randn({4, 3})), ShapeError);
  EXPECT_THROW(mx.forward(randn({2, 0, 3})), ShapeError);
  EXPECT_THROW(nn::GlobalAvgPool1d({.dim = 0}), ValueError);
}

}  // namespace
}  // namespace koan
