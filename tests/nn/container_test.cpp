#include <cmath>

#include "koan/nn/activation.h"
#include "koan/nn/container.h"
#include "koan/nn/conv.h"
#include "koan/nn/init.h"
#include "koan/nn/linear.h"
#include "koan/nn/pool.h"
#include "support/testing.h"

namespace koan {
namespace {

std::shared_ptr<nn::Sequential> mlp() {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(nn::LinearOptions{.in = 4, .out = 8}), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(nn::LinearOptions{.in = 8, .out = 2})});
}

TEST(Sequential, RunsInOrderWithTorchStyleNames) {
  auto net = mlp();
  std::vector<std::string> names;
  for (auto& [n, p] : net->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  Tensor x = randn({3, 4});
  auto l0 = std::dynamic_pointer_cast<nn::Linear>((*net)[0]);
  auto l2 = std::dynamic_pointer_cast<nn::Linear>((*net)[2]);
  Tensor expect = l2->forward(relu(l0->forward(x)));
  EXPECT_TRUE(testing::close((*net)(x), expect));
  EXPECT_THROW((*net)[3], IndexError);
}

TEST(Sequential, CloneIsDeepAndKeepsNames) {
  auto net = mlp();
  auto c = std::dynamic_pointer_cast<nn::Sequential>(net->clone());
  ASSERT_TRUE(c);
  auto sd1 = net->state_dict(), sd2 = c->state_dict();
  ASSERT_EQ(sd1.size(), sd2.size());
  for (auto& [k, v] : sd1) {
    EXPECT_TRUE(equal(v, sd2.at(k))) << k;
    EXPECT_NE(v.storage(), sd2.at(k).storage()) << k;
  }
}

TEST(Sequential, SummaryShowsEveryLayer) {
  auto net = mlp();
  std::string s = net->summary({16, 4});
  EXPECT_NE(s.find("0 (Linear(in=4, out=8))"), std::string::npos) << s;
  EXPECT_NE(s.find("1 (ReLU)"), std::string::npos) << s;
  EXPECT_NE(s.find("[16, 8]"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 58"), std::string::npos) << s;
}

// Conv2d(relu) then MaxPool2d(2) runs as one kernel (conv2d_relu_max_pool2d) with the same
// values and gradients (up to rounding: a 3x3 kernel takes the fused kernel's direct 2x2-tile
// path); a forward hook on either layer, or any other pooling, keeps them apart.
TEST(Sequential, FusesConvReluWithATwoByTwoMaxPool) {
  auto build = [](nn::MaxPool2dOptions pool) {
    manual_seed(5);
    return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = 2, .out = 4, .kernel = 3, .activation = "relu"}),
        std::make_shared<nn::MaxPool2d>(pool)});
  };
  Tensor x = randn({3, 2, 9, 10});
  auto grad_fn_of = [&](nn::Sequential& net) { return net(x.detach().requires_grad_()).grad_fn()->name(); };
  auto net = build({.kernel = 2});
  EXPECT_EQ(grad_fn_of(*net), "ConvolutionReluMaxPoolBackward");
  auto conv = std::dynamic_pointer_cast<nn::Conv2d>((*net)[0]);
  Tensor xr = x.detach().requires_grad_();
  Tensor y = (*net)(xr);
  auto g = autograd::grad({sum(mul(y, y))}, {xr, conv->weight, conv->bias});
  Tensor xp = x.detach().requires_grad_();
  Tensor yp = max_pool2d(conv2d_relu(xp, conv->weight, conv->bias), 2);
  auto gp = autograd::grad({sum(mul(yp, yp))}, {xp, conv->weight, conv->bias});
  EXPECT_TRUE(testing::close(y, yp, 1e-5, 1e-6));
  for (size_t i = 0; i < g.size(); ++i) EXPECT_TRUE(testing::close(g[i], gp[i], 1e-5, 1e-6)) << i;

  Shape seen;
  size_t id = conv->register_forward_hook([&](nn::Module&, const Tensor&, const Tensor& out) { seen = out.shape(); });
  EXPECT_EQ(grad_fn_of(*net), "MaxPool2DBackward");
  EXPECT_EQ(seen, (Shape{3, 4, 7, 8}));
  conv->remove_forward_hook(id);
  EXPECT_EQ(grad_fn_of(*build({.kernel = 2, .stride = Int2(1)})), "MaxPool2DBackward");
  EXPECT_EQ(grad_fn_of(*build({.kernel = 3})), "MaxPool2DBackward");
  EXPECT_EQ(grad_fn_of(*build({.kernel = 2, .ceil_mode = true})), "MaxPool2DBackward");
}

TEST(ModuleListDict, RegisterChildren) {
  nn::ModuleList list;
  list.push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = 2, .out = 2}));
  list.push_back(std::make_shared<nn::Tanh>());
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.named_parameters()[0].first, "0.weight");
  nn::ModuleDict dict;
  dict.insert("enc", std::make_shared<nn::Linear>(nn::LinearOptions{.in = 2, .out = 3}));
  EXPECT_TRUE(dict.contains("enc"));
  EXPECT_EQ(dict.named_parameters()[0].first, "enc.weight");
  EXPECT_THROW(dict["dec"], IndexError);
  EXPECT_THROW(dict.insert("enc", std::make_shared<nn::ReLU>()), ValueError);
}

TEST(Activations, MatchTheOps) {
  Tensor x = randn({4, 5});
  EXPECT_TRUE(testing::close(nn::ReLU()(x), relu(x)));
  EXPECT_TRUE(testing::close(nn::LeakyReLU(0.2)(x), leaky_relu(x, 0.2)));
  EXPECT_TRUE(testing::close(nn::ELU(0.5)(x), elu(x, 0.5)));
  EXPECT_TRUE(testing::close(nn::GELU("tanh")(x), gelu(x, "tanh")));
  EXPECT_TRUE(testing::close(nn::SiLU()(x), silu(x)));
  EXPECT_TRUE(testing::close(nn::Sigmoid()(x), sigmoid(x)));
  EXPECT_TRUE(testing::close(nn::Tanh()(x), tanh(x)));
  EXPECT_TRUE(testing::close(nn::Softmax(1)(x), softmax(x, 1)));
  EXPECT_TRUE(testing::close(nn::LogSoftmax(0)(x), log_softmax(x, 0)));
}

TEST(Init, GainsMatchPyTorch) {
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("conv2d"), 1.0);
  EXPECT_THROW(nn::init::calculate_gain("swish"), ValueError);
}

double stddev(const Tensor& t) {
  double m = mean(t).item<double>();
  return std::sqrt(mean(square(sub(t, m))).item<double>());
}

TEST(Init, DistributionsHaveTheRightSpread) {
  Generator g(11);
  Tensor w = empty({256, 128, 3});  // fan_in 384, fan_out 768
  nn::init::kaiming_normal_(w, {.nonlinearity = "relu"}, &g);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 384), 0.01 * std::sqrt(2.0 / 384) * 3);
  nn::init::kaiming_uniform_(w, {.mode = nn::init::FanMode::FanOut, .nonlinearity = "relu"}, &g);
  double bound = std::sqrt(3.0) * std::sqrt(2.0 / 768);
  EXPECT_LE(max(abs(w)).item<double>(), bound);
  EXPECT_GT(max(abs(w)).item<double>(), 0.99 * bound);
  nn::init::xavier_uniform_(w, 1.0, &g);
  EXPECT_LE(max(abs(w)).item<double>(), std::sqrt(6.0 / (384 + 768)));
  nn::init::xavier_normal_(w, 2.0, &g);
  EXPECT_NEAR(stddev(w), 2 * std::sqrt(2.0 / (384 + 768)), 0.03 * 2 * std::sqrt(2.0 / (384 + 768)));
  nn::init::constant_(w, 0.25);
  EXPECT_EQ(min(w).item<float>(), 0.25f);
  Tensor v = ones({3});
  EXPECT_THROW(nn::init::xavier_uniform_(v), ShapeError);
}

TEST(Init, OrthogonalGivesOrthonormalRowsOrColumns) {
  Generator g(5);
  for (Shape s : {Shape{6, 4}, Shape{4, 6}, Shape{5, 5}}) {
    Tensor w = empty(s, {.dtype = DType::Float64});
    nn::init::orthogonal_(w, 1.0, &g);
    Tensor gram = s[0] >= s[1] ? matmul(w.t(), w) : matmul(w, w.t());
    EXPECT_TRUE(testing::close(gram, eye(std::min(s[0], s[1]), std::nullopt, {.dtype = DType::Float64}), 1e-10, 1e-10))
        << str(s);
  }
}

TEST(Init, DoesNotRecordAGraph) {
  auto fc = std::make_shared<nn::Linear>(nn::LinearOptions{.in = 3, .out = 3});
  nn::init::normal_(fc->weight);
  EXPECT_TRUE(fc->weight.is_leaf());
  EXPECT_TRUE(fc->weight.requires_grad());
}

}  // namespace
}  // namespace koan
