#include "koan/nn/linear.h"
#include "support/testing.h"

namespace koan {
namespace {

struct Mlp : nn::Cloneable<Mlp> {
  std::shared_ptr<nn::Linear> fc1, fc2;
  Mlp() { reset(); }
  void reset() override {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(nn::LinearOptions{.in = 4, .out = 3}));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(nn::LinearOptions{.in = 3, .out = 2}));
    register_buffer("steps", zeros({1}));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }
};

TEST(Module, NamesAreDottedAndOrdered) {
  auto m = std::make_shared<Mlp>();
  std::vector<std::string> names;
  for (auto& [n, p] : m->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(m->num_parameters(), 4 * 3 + 3 + 3 * 2 + 2);
  auto mods = m->named_modules();
  ASSERT_EQ(mods.size(), 3u);
  EXPECT_EQ(mods[1].first, "fc1");
  EXPECT_EQ(m->named_buffers()[0].first, "steps");
}

TEST(Module, StateDictStrictnessNamesTheKeys) {
  auto m = std::make_shared<Mlp>();
  auto sd = m->state_dict();
  EXPECT_EQ(sd.size(), 5u);
  sd.erase("fc2.bias");
  sd["extra"] = zeros({1});
  sd["fc1.weight"] = zeros({2, 2});
  try {
    m->load_state_dict(sd);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("fc2.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("extra"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fc1.weight"), std::string::npos) << msg;
  }
}

TEST(Module, LoadStateDictCopiesValuesIntoTheSameTensors) {
  auto a = std::make_shared<Mlp>(), b = std::make_shared<Mlp>();
  Tensor w = b->fc1->weight;
  b->load_state_dict(a->state_dict());
  EXPECT_TRUE(equal(w, a->fc1->weight));
  EXPECT_TRUE(b->fc1->weight.is_same(w));
}

TEST(Module, CloneIsIndependent) {
  auto a = std::make_shared<Mlp>();
  auto c = std::dynamic_pointer_cast<Mlp>(a->clone());
  ASSERT_TRUE(c);
  EXPECT_TRUE(equal(c->fc1->weight, a->fc1->weight));
  EXPECT_NE(c->fc1->weight.storage(), a->fc1->weight.storage());
  {
    NoGradGuard g;
    Tensor w = c->fc1->weight;
    add_(w, 1.0);
  }
  EXPECT_FALSE(equal(c->fc1->weight, a->fc1->weight));
  EXPECT_EQ(c->named_parameters().size(), 4u);
}

TEST(Module, TrainEvalZeroGradAndDtype) {
  auto m = std::make_shared<Mlp>();
  m->eval();
  EXPECT_FALSE(m->fc1->is_training());
  m->train();
  EXPECT_TRUE(m->fc2->is_training());
  Tensor loss = sum((*m)(ones({5, 4})));
  loss.backward();
  EXPECT_TRUE(m->fc1->weight.grad().defined());
  m->zero_grad();
  EXPECT_FALSE(m->fc1->weight.grad().defined());
  Tensor w = m->fc1->weight;
  m->to(DType::Float64);
  EXPECT_EQ(w.dtype(), DType::Float64);  // the same handle sees the conversion
  EXPECT_EQ((*m)(ones({2, 4}, {.dtype = DType::Float64})).dtype(), DType::Float64);
}

TEST(Module, SummaryListsLayersShapesAndTotals) {
  auto m = std::make_shared<Mlp>();
  std::string s = m->summary({8, 4});
  EXPECT_NE(s.find("fc1 (Linear(in=4, out=3))"), std::string::npos) << s;
  EXPECT_NE(s.find("[8, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 23"), std::string::npos) << s;
}

TEST(Linear, DefaultInitMatchesPyTorchBounds) {
  nn::Linear fc({.in = 100, .out = 50});
  EXPECT_LE(max(abs(fc.weight)).item<double>(), 0.1);
  EXPECT_GT(max(abs(fc.weight)).item<double>(), 0.09);
  EXPECT_EQ(fc.bias.shape(), (Shape{50}));
  EXPECT_THROW(nn::Linear({.in = 0, .out = 3}), ValueError);
  EXPECT_THROW(fc.forward(ones({2, 99})), ShapeError);
}

}  // namespace
}  // namespace koan
