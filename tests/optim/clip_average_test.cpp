// Gradient clipping against torch.nn.utils values; EMA and SWA against hand-computed averages.
#include <cmath>

#include "optim/problem.h"

namespace koan {
namespace {

using optim_test::fixture;

// Two parameters whose gradients are the fixture's g0, g1.
std::vector<Tensor> with_grads(const std::string& key) {
  std::vector<Tensor> ps;
  for (const char* g : {"g0", "g1"}) {
    Tensor grad = fixture().get(key + g);
    Tensor p = zeros_like(grad).requires_grad_();
    p.set_grad(grad.clone());
    ps.push_back(p);
  }
  return ps;
}

TEST(ClipGrad, NormMatchesTorch) {
  auto cases = fixture().cases("clip");
  ASSERT_EQ(cases.size(), 6u);
  for (auto& c : cases) {
    SCOPED_TRACE(c);
    std::string k = c + "/";
    auto args = fixture().get(k + "args").to_vector<double>();
    auto ps = with_grads(k);
    double total = optim::clip_grad_norm_(ps, args[0], args[1]);
    bool f32 = ps[0].dtype() == DType::Float32;
    double expected = fixture().get(k + "total").item<double>();
    EXPECT_NEAR(total, expected, (f32 ? 1e-6 : 1e-12) * expected);
    EXPECT_TRUE(testing::close(ps[0].grad(), fixture().get(k + "out0"), f32 ? 1e-6 : 1e-12, 0));
    EXPECT_TRUE(testing::close(ps[1].grad(), fixture().get(k + "out1"), f32 ? 1e-6 : 1e-12, 0));
  }
}

TEST(ClipGrad, NormCoefficientIncludesTheEpsilon) {
  // total = 5, max_norm = 5: the coefficient is 5 / (5 + 1e-6), not 1.
  Tensor p = zeros({2}, {.dtype = DType::Float64}).requires_grad_();
  p.set_grad(tensor({3.0, 4.0}, {.dtype = DType::Float64}));
  EXPECT_EQ(optim::clip_grad_norm_({p}, 5.0), 5.0);
  double c = 5.0 / (5.0 + 1e-6);
  EXPECT_EQ(p.grad().to_vector<double>(), (std::vector<double>{3.0 * c, 4.0 * c}));
}

TEST(ClipGrad, NormSkipsMissingGradsAndChecksFiniteness) {
  Tensor a = zeros({2}, {.dtype = DType::Float64}).requires_grad_();
  Tensor b = zeros({2}, {.dtype = DType::Float64}).requires_grad_();
  EXPECT_EQ(optim::clip_grad_norm_({a, b}, 1.0), 0.0);
  a.set_grad(tensor({INFINITY, 1.0}, {.dtype = DType::Float64}));
  EXPECT_THROW(optim::clip_grad_norm_({a, b}, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
  EXPECT_TRUE(std::isinf(optim::clip_grad_norm_({a, b}, 1.0)));
}

TEST(ClipGrad, ValueMatchesTorch) {
  auto cases = fixture().cases("clipv");
  ASSERT_EQ(cases.size(), 2u);
  for (auto& c : cases) {
    SCOPED_TRACE(c);
    std::string k = c + "/";
    double v = fixture().get(k + "args").to_vector<double>()[0];
    auto ps = with_grads(k);
    optim::clip_grad_value_(ps, v);
    EXPECT_TRUE(equal(ps[0].grad(), fixture().get(k + "out0")));
    EXPECT_TRUE(equal(ps[1].grad(), fixture().get(k + "out1")));
  }
  EXPECT_THROW(optim::clip_grad_value_({}, -1), ValueError);
}

TEST(ClipGrad, NormalizeGivesUnitGlobalNorm) {
  auto ps = with_grads("clip/l2/");
  double before = optim::normalize_grad_(ps);
  EXPECT_NEAR(before, fixture().get("clip/l2/total").item<double>(), 1e-12 * before);
  double after = std::sqrt(sum(mul(ps[0].grad(), ps[0].grad())).item<double>() +
                           sum(mul(ps[1].grad(), ps[1].grad())).item<double>());
  EXPECT_NEAR(after, 1.0, 1e-14);
  Tensor z = zeros({3}, {.dtype = DType::Float64}).requires_grad_();
  z.set_grad(zeros({3}, {.dtype = DType::Float64}));
  EXPECT_EQ(optim::normalize_grad_({z}), 0.0);
  EXPECT_TRUE(equal(z.grad(), zeros({3}, {.dtype = DType::Float64})));  // no division by zero
}

// ---- weight averaging

// A 1x1 float64 tensor (the second parameter has two dims to cover non-vector shapes).
Tensor one_by_one(double v) { return full({1, 1}, v, {.dtype = DType::Float64}); }

std::vector<Tensor> two_params() {
  return {tensor({1.0, 2.0}, {.dtype = DType::Float64}).requires_grad_(),
          one_by_one(-1.0).requires_grad_()};
}

void set(std::vector<Tensor>& ps, double a0, double a1, double b) {
  NoGradGuard g;
  ps[0].copy_(tensor({a0, a1}, {.dtype = DType::Float64}));
  ps[1].copy_(one_by_one(b));
}

TEST(WeightAverage, EMAByHand) {
  auto ps = two_params();
  optim::EMA ema(ps, {.decay = 0.9});
  set(ps, 3, 4, 1);
  ema.update();  // 0.9 * (1, 2, -1) + 0.1 * (3, 4, 1)
  set(ps, 5, 0, 2);
  ema.update();  // 0.9 * (1.2, 2.2, -0.8) + 0.1 * (5, 0, 2)
  EXPECT_EQ(ema.num_updates(), 2);
  EXPECT_TRUE(testing::close(ema.averaged()[0], tensor({0.9 * 1.2 + 0.5, 0.9 * 2.2}, {.dtype = DType::Float64}), 1e-15, 0));
  EXPECT_TRUE(testing::close(ema.averaged()[1], one_by_one(0.9 * -0.8 + 0.2), 1e-15, 0));
}

TEST(WeightAverage, EMAWarmupDecay) {
  auto ps = two_params();
  optim::EMA ema(ps, {.decay = 0.5, .warmup = true});
  // decay_t = min(0.5, (1 + t) / (10 + t)): 0.1, 2/11, 0.25, 4/13, 5/14, 0.4, 7/16, 8/17, 0.5, 0.5
  std::vector<double> expected_decays = {0.1, 2.0 / 11, 0.25, 4.0 / 13, 5.0 / 14, 0.4, 7.0 / 16, 8.0 / 17, 0.5, 0.5};
  double avg = 1.0;  // first element, parameter held at 3 after the start
  set(ps, 3, 2, -1);
  for (double d : expected_decays) {
    EXPECT_DOUBLE_EQ(ema.current_decay(), d);
    ema.update();
    avg = d * avg + (1 - d) * 3;
  }
  EXPECT_NEAR(ema.averaged()[0].to_vector<double>()[0], avg, 1e-15);
}

TEST(WeightAverage, SWAIsTheMeanOfSnapshots) {
  auto ps = two_params();
  optim::SWA swa(ps);
  set(ps, 3, 4, 1);
  swa.update();  // the first update copies
  EXPECT_TRUE(equal(swa.averaged()[0], tensor({3.0, 4.0}, {.dtype = DType::Float64})));
  set(ps, 5, 0, 2);
  swa.update();
  set(ps, 1, 2, 6);
  swa.update();
  EXPECT_TRUE(testing::close(swa.averaged()[0], tensor({3.0, 2.0}, {.dtype = DType::Float64}), 1e-15, 0));
  EXPECT_TRUE(testing::close(swa.averaged()[1], one_by_one(3.0), 1e-15, 0));
}

TEST(WeightAverage, ApplyToAndRestoreSwapWeights) {
  auto ps = two_params();
  optim::SWA swa(ps);
  set(ps, 3, 4, 1);
  swa.update();
  set(ps, 5, 6, 3);
  swa.update();  // average (4, 5, 2)
  Tensor handle = ps[0];
  swa.apply_to(ps);
  EXPECT_TRUE(equal(ps[0], tensor({4.0, 5.0}, {.dtype = DType::Float64})));
  EXPECT_TRUE(ps[0].is_same(handle));  // values copied into the same tensors
  EXPECT_TRUE(ps[0].requires_grad());
  swa.restore(ps);
  EXPECT_TRUE(equal(ps[0], tensor({5.0, 6.0}, {.dtype = DType::Float64})));
  EXPECT_TRUE(equal(ps[1], one_by_one(3.0)));
  EXPECT_THROW(swa.restore(ps), ValueError);  // nothing saved any more

  // Another model's parameters of the same shapes can receive the average.
  auto other = two_params();
  swa.apply_to(other);
  EXPECT_TRUE(equal(other[1], one_by_one(2.0)));
  EXPECT_THROW(swa.apply_to({other[0]}), ValueError);
  EXPECT_THROW(swa.apply_to({other[1], other[0]}), ShapeError);
}

TEST(WeightAverage, StateDictRoundTrip) {
  auto ps = two_params();
  optim::EMA a(ps, {.decay = 0.7, .warmup = true});
  set(ps, 3, 4, 1);
  a.update();
  a.update();
  auto sd = a.state_dict();
  EXPECT_EQ(sd.scalars.at("num_updates"), 2);
  optim::EMA b(ps, {.decay = 0.7, .warmup = true});
  b.load_state_dict(sd);
  set(ps, -2, 0.5, 8);
  a.update();
  b.update();
  EXPECT_TRUE(equal(a.averaged()[0], b.averaged()[0]));
  EXPECT_TRUE(equal(a.averaged()[1], b.averaged()[1]));
  sd.tensors.erase("averaged.1");
  EXPECT_THROW(b.load_state_dict(sd), ValueError);
}

}  // namespace
}  // namespace koan
