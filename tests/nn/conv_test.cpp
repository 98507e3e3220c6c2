// Convolution and pooling layers: forward equals the functional op with the layer's weights,
// output shapes of typical configurations (the seed CNN), repr, clone, default initialisation.
#include <cmath>

#include "koan/nn/conv.h"
#include "koan/nn/pool.h"
#include "support/testing.h"

namespace koan {
namespace {

TEST(ConvLayers, ForwardEqualsTheFunctionalOp) {
  Tensor x2 = randn({2, 4, 9, 8}), x1 = randn({2, 4, 11});
  nn::Conv2d c2({.in = 4, .out = 6, .kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}, .groups = 2});
  EXPECT_TRUE(equal(c2.forward(x2), conv2d(x2, c2.weight, c2.bias, {2, 1}, {1, 0}, {1, 2}, 2)));
  nn::Conv2d same({.in = 4, .out = 3, .kernel = 4, .padding = "same", .bias = false});
  EXPECT_TRUE(equal(same.forward(x2), conv2d(x2, same.weight, {}, 1, "same")));
  nn::Conv1d c1({.in = 4, .out = 2, .kernel = 3, .stride = 2, .padding = 1});
  EXPECT_TRUE(equal(c1.forward(x1), conv1d(x1, c1.weight, c1.bias, 2, 1)));
  nn::ConvTranspose2d ct({.in = 4, .out = 6, .kernel = 3, .stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
  EXPECT_TRUE(equal(ct.forward(x2), conv_transpose2d(x2, ct.weight, ct.bias, 2, 1, 1, 2)));
  nn::MaxPool2d mp({.kernel = 3, .stride = 2, .padding = 1});
  EXPECT_TRUE(equal(mp.forward(x2), max_pool2d(x2, 3, 2, 1)));
  nn::AvgPool2d ap({.kernel = {3, 2}, .padding = {1, 1}, .count_include_pad = false});
  EXPECT_TRUE(equal(ap.forward(x2), avg_pool2d(x2, {3, 2}, std::nullopt, {1, 1}, false, false)));
  nn::MaxPool1d mp1(2);
  EXPECT_TRUE(equal(mp1.forward(x1), max_pool1d(x1, 2)));
  nn::AdaptiveAvgPool2d gap(1);
  EXPECT_TRUE(testing::close(gap.forward(x2), mean(x2, {2, 3}, true), 1e-5, 1e-6));
}

TEST(ConvLayers, SeedCnnShapes) {
  nn::Conv2d conv1({.in = 1, .out = 32, .kernel = 3}), conv2({.in = 32, .out = 64, .kernel = 3});
  nn::MaxPool2d pool(2);
  nn::Flatten flat;
  Tensor x = randn({5, 1, 28, 28});
  Tensor h = conv1.forward(x);
  EXPECT_EQ(h.shape(), (Shape{5, 32, 26, 26}));
  h = pool.forward(h);
  EXPECT_EQ(h.shape(), (Shape{5, 32, 13, 13}));
  h = conv2.forward(h);
  EXPECT_EQ(h.shape(), (Shape{5, 64, 11, 11}));
  h = pool.forward(h);
  EXPECT_EQ(h.shape(), (Shape{5, 64, 5, 5}));
  EXPECT_EQ(flat.forward(h).shape(), (Shape{5, 1600}));
  EXPECT_EQ(conv1.num_parameters(), 32 * 9 + 32);
  EXPECT_EQ(conv2.num_parameters(), 64 * 32 * 9 + 64);
}

TEST(ConvLayers, TypicalShapes) {
  Tensor x = randn({2, 8, 16, 12});
  EXPECT_EQ(nn::Conv2d({.in = 8, .out = 4, .kernel = 5, .padding = "same"}).forward(x).shape(), (Shape{2, 4, 16, 12}));
  EXPECT_EQ(nn::Conv2d({.in = 8, .out = 4, .kernel = 3, .stride = 2, .padding = 1}).forward(x).shape(),
            (Shape{2, 4, 8, 6}));
  EXPECT_EQ(nn::Conv2d({.in = 8, .out = 8, .kernel = 3, .padding = "valid", .groups = 8}).forward(x).shape(),
            (Shape{2, 8, 14, 10}));
  EXPECT_EQ(nn::ConvTranspose2d({.in = 8, .out = 3, .kernel = 4, .stride = 2, .padding = 1}).forward(x).shape(),
            (Shape{2, 3, 32, 24}));
  EXPECT_EQ(nn::AdaptiveAvgPool2d(1).forward(x).shape(), (Shape{2, 8, 1, 1}));
  EXPECT_EQ(nn::AdaptiveAvgPool2d(Int2(3, 5)).forward(x).shape(), (Shape{2, 8, 3, 5}));
  EXPECT_EQ(nn::AvgPool2d({.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true}).forward(x).shape(),
            (Shape{2, 8, 9, 7}));
  EXPECT_EQ(nn::Conv1d({.in = 8, .out = 2, .kernel = 3, .dilation = 2}).forward(randn({3, 8, 20})).shape(),
            (Shape{3, 2, 16}));
  EXPECT_EQ(nn::Flatten({.start_dim = 1, .end_dim = 2}).forward(x).shape(), (Shape{2, 128, 12}));
  // Unbatched input.
  EXPECT_EQ(nn::Conv2d({.in = 8, .out = 4, .kernel = 3}).forward(randn({8, 5, 5})).shape(), (Shape{4, 3, 3}));
}

TEST(ConvLayers, Repr) {
  EXPECT_EQ(nn::Conv2d({.in = 1, .out = 32, .kernel = 3}).repr(), "Conv2d(in=1, out=32, kernel=3)");
  EXPECT_EQ(nn::Conv2d({.in = 4, .out = 8, .kernel = {3, 5}, .stride = 2, .padding = {1, 2}, .groups = 2,
                        .bias = false}).repr(),
            "Conv2d(in=4, out=8, kernel=(3, 5), stride=2, padding=(1, 2), groups=2, bias=false)");
  EXPECT_EQ(nn::Conv2d({.in = 4, .out = 8, .kernel = 3, .padding = "same", .dilation = 2}).repr(),
            "Conv2d(in=4, out=8, kernel=3, padding=\"same\", dilation=2)");
  EXPECT_EQ(nn::Conv1d({.in = 2, .out = 3, .kernel = 5, .padding = 2}).repr(), "Conv1d(in=2, out=3, kernel=5, padding=2)");
  EXPECT_EQ(nn::ConvTranspose2d({.in = 8, .out = 3, .kernel = 4, .stride = 2, .padding = 1}).repr(),
            "ConvTranspose2d(in=8, out=3, kernel=4, stride=2, padding=1)");
  EXPECT_EQ(nn::MaxPool2d(2).repr(), "MaxPool2d(kernel=2, stride=2)");
  EXPECT_EQ(nn::MaxPool1d({.kernel = 3, .stride = 1, .padding = 1}).repr(), "MaxPool1d(kernel=3, stride=1, padding=1)");
  EXPECT_EQ(nn::AvgPool2d({.kernel = 3, .stride = 2, .count_include_pad = false}).repr(),
            "AvgPool2d(kernel=3, stride=2, count_include_pad=false)");
  EXPECT_EQ(nn::AdaptiveAvgPool2d(Int2(1, 2)).repr(), "AdaptiveAvgPool2d(output_size=(1, 2))");
  EXPECT_EQ(nn::Flatten().repr(), "Flatten(start_dim=1, end_dim=-1)");
}

TEST(ConvLayers, CloneIsIndependent) {
  nn::Conv2d a({.in = 3, .out = 4, .kernel = 3});
  auto c = std::dynamic_pointer_cast<nn::Conv2d>(a.clone());
  ASSERT_TRUE(c);
  EXPECT_TRUE(equal(c->weight, a.weight));
  EXPECT_TRUE(equal(c->bias, a.bias));
  EXPECT_EQ(c->repr(), a.repr());
  {
    NoGradGuard ng;
    a.weight.fill_(0.5);
    a.bias.zero_();
  }
  EXPECT_FALSE(equal(c->weight, a.weight));
  EXPECT_FALSE(equal(c->bias, a.bias));
  auto ct = std::dynamic_pointer_cast<nn::ConvTranspose2d>(nn::ConvTranspose2d({.in = 2, .out = 3, .kernel = 2}).clone());
  ASSERT_TRUE(ct);
  EXPECT_EQ(ct->weight.shape(), (Shape{2, 3, 2, 2}));
  auto p = std::dynamic_pointer_cast<nn::MaxPool2d>(nn::MaxPool2d({.kernel = 3, .stride = 1}).clone());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->repr(), "MaxPool2d(kernel=3, stride=1)");
}

// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias: inside the bound, and spread out to it.
void expect_uniform_bound(const Tensor& t, double fan_in) {
  const double bound = 1.0 / std::sqrt(fan_in);
  double mx = amax(abs(t)).item<double>();
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.7 * bound) << "values should spread over the whole range";
}

TEST(ConvLayers, DefaultInitMatchesPyTorch) {
  nn::Conv2d c({.in = 16, .out = 64, .kernel = {3, 5}, .groups = 2});
  EXPECT_EQ(c.weight.shape(), (Shape{64, 8, 3, 5}));
  expect_uniform_bound(c.weight, 8 * 15);
  expect_uniform_bound(c.bias, 8 * 15);
  nn::Conv1d c1({.in = 6, .out = 40, .kernel = 4});
  expect_uniform_bound(c1.weight, 6 * 4);
  expect_uniform_bound(c1.bias, 6 * 4);
  // The transposed weight is (in, out / groups, kh, kw): fan_in is out / groups * kh * kw.
  nn::ConvTranspose2d t({.in = 4, .out = 48, .kernel = 3});
  expect_uniform_bound(t.weight, 48 * 9);
  expect_uniform_bound(t.bias, 48 * 9);
  nn::Conv2d nb({.in = 2, .out = 3, .kernel = 2, .bias = false, .dtype = DType::Float64});
  EXPECT_FALSE(nb.bias.defined());
  EXPECT_EQ(nb.named_parameters().size(), 1u);
  EXPECT_EQ(nb.weight.dtype(), DType::Float64);
}

TEST(ConvLayers, GradientsReachTheParameters) {
  nn::Conv2d c({.in = 2, .out = 3, .kernel = 3, .padding = 1});
  Tensor y = sum(c.forward(randn({2, 2, 5, 5})));
  y.backward();
  ASSERT_TRUE(c.weight.grad().defined());
  EXPECT_EQ(c.weight.grad().shape(), c.weight.shape());
  // d(sum y)/db = number of output positions per channel.
  EXPECT_TRUE(testing::close(c.bias.grad(), full({3}, 2 * 5 * 5), 1e-6, 1e-4));
}

TEST(ConvLayers, BadOptionsThrow) {
  EXPECT_THROW(nn::Conv2d({.in = 3, .out = 4, .kernel = 3, .groups = 2}), ValueError);
  EXPECT_THROW(nn::Conv2d({.in = 4, .out = 4, .kernel = 0}), ValueError);
  EXPECT_THROW(nn::Conv2d({.in = 4, .out = 4, .kernel = 3, .stride = 2, .padding = "same"}), ValueError);
  EXPECT_THROW(nn::Conv1d({.in = 4, .out = 4, .kernel = 3, .padding = "full"}), ValueError);
  EXPECT_THROW(nn::ConvTranspose2d({.in = 4, .out = 3, .kernel = 3, .groups = 2}), ValueError);
  EXPECT_THROW(nn::MaxPool2d(0), ValueError);
  EXPECT_THROW(nn::AdaptiveAvgPool2d(0), ValueError);
  // A channel mismatch surfaces at forward with the op's message.
  nn::Conv2d c({.in = 3, .out = 4, .kernel = 3});
  EXPECT_THROW(c.forward(randn({1, 2, 8, 8})), ShapeError);
}

}  // namespace
}  // namespace koan
