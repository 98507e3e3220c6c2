// LR schedules against torch.optim.lr_scheduler: lrs and parameters per step, state round trips.
#include <cmath>
#include <numbers>

#include "optim/problem.h"

namespace koan {
namespace {

using optim_test::fixture;
using optim_test::near;
using optim_test::Problem;
using optim_test::row;
using Sched = std::shared_ptr<optim::LRScheduler>;
using MakeSched = std::function<Sched(optim::Optimizer&)>;

// The optimizer every schedule drives (sgd2 in gen_optim.py): two groups, lrs 0.05 and 0.1.
std::unique_ptr<optim::SGD> sgd2(const Problem& pb) {
  using namespace optim;
  return std::make_unique<SGD>(
      std::vector<ParamGroup<SGDOptions>>{{.params = {pb.W}},
                                          {.params = {pb.b}, .options = SGDOptions{.lr = 0.1, .momentum = 0.9}}},
      SGDOptions{.lr = 0.05, .momentum = 0.9});
}

// SCHEDULES in gen_optim.py, by name.
const std::map<std::string, MakeSched>& schedules() {
  using namespace optim;
  static const std::map<std::string, MakeSched> m = {
      {"step", [](Optimizer& o) -> Sched { return std::make_shared<StepLR>(o, StepLROptions{.step_size = 5, .gamma = 0.5}); }},
      {"multistep",
       [](Optimizer& o) -> Sched {
         return std::make_shared<MultiStepLR>(o, MultiStepLROptions{.milestones = {3, 7, 7, 12}, .gamma = 0.5});
       }},
      {"constant",
       [](Optimizer& o) -> Sched {
         return std::make_shared<ConstantLR>(o, ConstantLROptions{.factor = 0.5, .total_iters = 4});
       }},
      {"exponential", [](Optimizer& o) -> Sched { return std::make_shared<ExponentialLR>(o, ExponentialLROptions{.gamma = 0.9}); }},
      {"linear",
       [](Optimizer& o) -> Sched {
         return std::make_shared<LinearLR>(o, LinearLROptions{.start_factor = 0.25, .end_factor = 1.0, .total_iters = 8});
       }},
      {"linear_down",
       [](Optimizer& o) -> Sched {
         return std::make_shared<LinearLR>(o, LinearLROptions{.start_factor = 1.0, .end_factor = 0.1, .total_iters = 12});
       }},
      {"polynomial1",
       [](Optimizer& o) -> Sched {
         return std::make_shared<PolynomialLR>(o, PolynomialLROptions{.total_iters = 15, .power = 1.0});
       }},
      {"polynomial2",
       [](Optimizer& o) -> Sched {
         return std::make_shared<PolynomialLR>(o, PolynomialLROptions{.total_iters = 15, .power = 2.0});
       }},
      {"linear_decay_lambda",
       [](Optimizer& o) -> Sched {
         return std::make_shared<LambdaLR>(o, [](int64_t t) { return 1 - static_cast<double>(t) / 25; });
       }},
      {"cosine",
       [](Optimizer& o) -> Sched {
         return std::make_shared<CosineAnnealingLR>(o, CosineAnnealingLROptions{.t_max = 8, .eta_min = 0.001});
       }},
      {"lambda",
       [](Optimizer& o) -> Sched {
         return std::make_shared<LambdaLR>(
             o, std::vector<LambdaLR::Fn>{[](int64_t t) { return std::pow(0.95, static_cast<double>(t)); },
                                         [](int64_t t) { return 1 / (1 + static_cast<double>(t)); }});
       }},
      {"warmup_lambda",
       [](Optimizer& o) -> Sched {
         return std::make_shared<LambdaLR>(o, [](int64_t t) { return std::min(1.0, static_cast<double>(t + 1) / 5); });
       }},
      {"multiplicative",
       [](Optimizer& o) -> Sched { return std::make_shared<MultiplicativeLR>(o, [](int64_t) { return 0.9; }); }},
      {"sequential",
       [](Optimizer& o) -> Sched {
         auto warm = std::make_shared<LinearLR>(o, LinearLROptions{.start_factor = 0.1, .total_iters = 5});
         auto cos = std::make_shared<CosineAnnealingLR>(o, CosineAnnealingLROptions{.t_max = 15});
         return std::make_shared<SequentialLR>(o, std::vector<Sched>{warm, cos}, std::vector<int64_t>{5});
       }},
      {"sequential3",
       [](Optimizer& o) -> Sched {
         auto a = std::make_shared<ConstantLR>(o, ConstantLROptions{.factor = 0.2, .total_iters = 10});
         auto b = std::make_shared<ExponentialLR>(o, ExponentialLROptions{.gamma = 0.8});
         auto c = std::make_shared<StepLR>(o, StepLROptions{.step_size = 2, .gamma = 0.5});
         return std::make_shared<SequentialLR>(o, std::vector<Sched>{a, b, c}, std::vector<int64_t>{4, 11});
       }},
      {"chained",
       [](Optimizer& o) -> Sched {
         auto cos = std::make_shared<CosineAnnealingLR>(o, CosineAnnealingLROptions{.t_max = 20});
         auto exp = std::make_shared<ExponentialLR>(o, ExponentialLROptions{.gamma = 0.95});
         return std::make_shared<ChainedScheduler>(std::vector<Sched>{cos, exp});
       }},
      {"chained_warmup",
       [](Optimizer& o) -> Sched {
         auto warm = std::make_shared<LinearLR>(o, LinearLROptions{.start_factor = 0.2, .total_iters = 4});
         auto steps = std::make_shared<MultiStepLR>(o, MultiStepLROptions{.milestones = {6, 12}, .gamma = 0.3});
         return std::make_shared<ChainedScheduler>(std::vector<Sched>{warm, steps});
       }},
      {"one_cycle",
       [](Optimizer& o) -> Sched { return std::make_shared<OneCycleLR>(o, OneCycleLROptions{.max_lr = {0.1, 0.2}, .total_steps = 20}); }},
      {"one_cycle_linear3",
       [](Optimizer& o) -> Sched {
         return std::make_shared<OneCycleLR>(
             o, OneCycleLROptions{.max_lr = {0.1}, .total_steps = 20, .pct_start = 0.25, .anneal_strategy = Anneal::Linear,
                                  .base_momentum = 0.8, .max_momentum = 0.9, .div_factor = 10, .final_div_factor = 100,
                                  .three_phase = true});
       }},
      {"one_cycle_epochs",
       [](Optimizer& o) -> Sched {
         return std::make_shared<OneCycleLR>(o, OneCycleLROptions{.max_lr = {0.08}, .epochs = 4, .steps_per_epoch = 5,
                                                                  .pct_start = 0.45, .cycle_momentum = false});
       }},
  };
  return m;
}

Tensor lrs_of(const optim::Optimizer& opt) {
  return tensor({opt.lr(0), opt.lr(1)}, {.dtype = DType::Float64});
}

TEST(Schedules, EveryFixtureCaseHasAScheduleAndViceVersa) {
  std::set<std::string> want, have;
  for (auto& c : fixture().cases("sched")) want.insert(c.substr(6));
  for (auto& [name, make] : schedules()) have.insert(name);
  EXPECT_EQ(want, have);
}

TEST(Schedules, FollowTorchLrsAndTrajectoriesFor20Steps) {
  for (auto& [name, make] : schedules()) {
    SCOPED_TRACE(name);
    Problem pb;
    auto opt = sgd2(pb);
    auto sched = make(*opt);
    for (int64_t t = 0; t < 20; ++t) {
      pb.iterate(*opt);
      sched->step();
      ASSERT_TRUE(near(lrs_of(*opt), row("sched/" + name + "/lr", t))) << "lrs after step " << t + 1;
      ASSERT_TRUE(near(tensor({sched->last_lr()[0], sched->last_lr()[1]}, {.dtype = DType::Float64}),
                       row("sched/" + name + "/lr", t)));
      ASSERT_TRUE(near(pb.W, row("sched/" + name + "/W", t))) << "W after step " << t + 1;
      ASSERT_TRUE(near(pb.b, row("sched/" + name + "/b", t))) << "b after step " << t + 1;
    }
  }
}

TEST(Schedules, StateDictRoundTripContinuesBitwise) {
  for (auto& [name, make] : schedules()) {
    SCOPED_TRACE(name);
    Problem straight, resumed;
    auto opt_a = sgd2(straight);
    auto a = make(*opt_a);
    for (int t = 0; t < 10; ++t) {
      straight.iterate(*opt_a);
      a->step();
    }
    auto opt_sd = opt_a->state_dict();
    auto sched_sd = a->state_dict();
    {
      NoGradGuard g;
      resumed.W.copy_(straight.W);
      resumed.b.copy_(straight.b);
    }
    // As when resuming a run: build optimizer and schedule as at the start, then load both.
    auto opt_b = sgd2(resumed);
    auto b = make(*opt_b);
    opt_b->load_state_dict(opt_sd);
    b->load_state_dict(sched_sd);
    for (int t = 0; t < 10; ++t) {
      straight.iterate(*opt_a);
      a->step();
      resumed.iterate(*opt_b);
      b->step();
      ASSERT_EQ(opt_a->lr(0), opt_b->lr(0)) << "step " << t;
      ASSERT_EQ(opt_a->lr(1), opt_b->lr(1)) << "step " << t;
    }
    EXPECT_TRUE(equal(straight.W, resumed.W));
    EXPECT_TRUE(equal(straight.b, resumed.b));
  }
}

TEST(Schedules, CosineRecursiveFormEqualsTheClosedForm) {
  Problem pb;
  auto opt = sgd2(pb);
  optim::CosineAnnealingLR sched(*opt, {.t_max = 7, .eta_min = 0.002});
  for (int t = 1; t <= 30; ++t) {
    sched.step();
    for (size_t g = 0; g < 2; ++g) {
      double base = g == 0 ? 0.05 : 0.1;
      double closed = 0.002 + (base - 0.002) * (1 + std::cos(std::numbers::pi * t / 7)) / 2;
      EXPECT_NEAR(opt->lr(g), closed, 1e-15) << "t = " << t;
    }
  }
}

TEST(Schedules, LinearDecayIsPolynomialPowerOne) {
  // eta_t = eta_0 (1 - t/T), reaching 0 at T and staying there.
  Problem pb;
  auto opt = sgd2(pb);
  optim::PolynomialLR sched(*opt, {.total_iters = 10, .power = 1});
  for (int t = 1; t <= 12; ++t) {
    sched.step();
    EXPECT_NEAR(opt->lr(0), 0.05 * (1 - std::min(t, 10) / 10.0), 1e-16) << t;
  }
}

TEST(Schedules, InitialLrIsRecordedOnce) {
  Problem pb;
  auto opt = sgd2(pb);
  optim::LinearLR warm(*opt, {.start_factor = 0.5});
  EXPECT_EQ(opt->lr(0), 0.025);
  EXPECT_EQ(opt->initial_lr(0), 0.05);
  optim::ExponentialLR second(*opt, {.gamma = 0.5});  // starts from the original lrs, not the warm-up's
  EXPECT_EQ(second.base_lrs()[0], 0.05);
  EXPECT_EQ(opt->state_dict().scalars.at("param_groups.1.initial_lr"), 0.1);
}

TEST(Schedules, RejectBadOptions) {
  Problem pb;
  auto opt = sgd2(pb);
  Problem other;
  auto opt2 = sgd2(other);
  using namespace optim;
  EXPECT_THROW(StepLR(*opt, {.step_size = 0}), ValueError);
  EXPECT_THROW(LinearLR(*opt, {.start_factor = 2}), ValueError);
  EXPECT_THROW(ConstantLR(*opt, {.factor = 1.5}), ValueError);
  EXPECT_THROW(CosineAnnealingLR(*opt, {.t_max = 0}), ValueError);
  EXPECT_THROW(LambdaLR(*opt, std::vector<LambdaLR::Fn>{[](int64_t) { return 1.0; }}), ValueError);  // 2 groups
  auto s1 = std::make_shared<ExponentialLR>(*opt, ExponentialLROptions{});
  auto s2 = std::make_shared<ExponentialLR>(*opt2, ExponentialLROptions{});
  EXPECT_THROW(ChainedScheduler({s1, s2}), ValueError);
  EXPECT_THROW(SequentialLR(*opt, {s1, s1}, {}), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(*opt, {.mode = "lowest"}), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(*opt, {.factor = 1.0}), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(*opt, {.min_lrs = {0.1}}), ValueError);
}

TEST(OneCycleLR, CyclesAdamsBeta1AgainstTheLrAndStopsAtTotalSteps) {
  Problem pb;
  optim::Adam opt({pb.W, pb.b}, {.lr = 1e-3, .betas = {0.9, 0.99}});
  optim::OneCycleLR sched(opt, {.max_lr = {0.01}, .total_steps = 10, .pct_start = 0.4});
  EXPECT_NEAR(opt.lr(0), 0.01 / 25, 1e-17);  // starts at max_lr / div_factor, momentum at its max
  EXPECT_EQ(opt.options(0).betas.first, 0.95);
  EXPECT_EQ(opt.options(0).betas.second, 0.99);  // β2 is left alone
  EXPECT_EQ(opt.initial_lr(0), 0.01 / 25);
  for (int t = 1; t <= 10; ++t) {
    sched.step();
    // Warm-up ends at step 0.4 * 10 - 1 = 3: the lr peaks there while β1 bottoms out.
    const double pct = t <= 3 ? t / 3.0 : (t - 3) / 6.0;
    const double c = (std::cos(std::numbers::pi * pct) + 1) / 2;
    const double lr = t <= 3 ? 0.01 + (0.01 / 25 - 0.01) * c : 0.01 / 25 / 1e4 + (0.01 - 0.01 / 25 / 1e4) * c;
    const double beta1 = t <= 3 ? 0.85 + (0.95 - 0.85) * c : 0.95 + (0.85 - 0.95) * c;
    EXPECT_NEAR(opt.lr(0), lr, 1e-15) << "t = " << t;
    EXPECT_NEAR(opt.options(0).betas.first, beta1, 1e-15) << "t = " << t;
    // The lr of step total_steps - 1, the last batch's, is min_lr (step 10 runs past it, as in torch).
    if (t == 9) EXPECT_NEAR(opt.lr(0), 0.01 / 25 / 1e4, 1e-18);
  }
  EXPECT_THROW(sched.step(), ValueError);  // an 11th step is past total_steps, as in torch
}

TEST(OneCycleLR, RejectsBadOptions) {
  Problem pb;
  auto opt = sgd2(pb);
  using namespace optim;
  EXPECT_THROW(OneCycleLR(*opt, {.max_lr = {0.1}}), ValueError);  // no length
  EXPECT_THROW(OneCycleLR(*opt, {.max_lr = {0.1}, .epochs = 3}), ValueError);
  EXPECT_THROW(OneCycleLR(*opt, {.max_lr = {0.1, 0.2, 0.3}, .total_steps = 10}), ValueError);  // 2 groups
  EXPECT_THROW(OneCycleLR(*opt, {.max_lr = {0.1}, .total_steps = 10, .pct_start = 1.5}), ValueError);
  Adagrad no_momentum({pb.W}, {});
  EXPECT_THROW(OneCycleLR(no_momentum, {.max_lr = {0.1}, .total_steps = 10}), ValueError);
  EXPECT_NO_THROW(OneCycleLR(no_momentum, {.max_lr = {0.1}, .total_steps = 10, .cycle_momentum = false}));
  EXPECT_THROW(opt->set_group_option(0, "betas.0", 0.9), ValueError);  // SGD has no betas
}

// ---- ReduceLROnPlateau

const std::map<std::string, std::function<optim::ReduceLROnPlateau(optim::Optimizer&)>>& plateaus() {
  using namespace optim;
  static const std::map<std::string, std::function<ReduceLROnPlateau(Optimizer&)>> m = {
      {"min_rel", [](Optimizer& o) { return ReduceLROnPlateau(o, {.factor = 0.5, .patience = 1, .threshold = 0.01}); }},
      {"min_abs_cooldown",
       [](Optimizer& o) {
         return ReduceLROnPlateau(o, {.factor = 0.5, .patience = 1, .threshold = 0.005, .threshold_mode = "abs",
                                      .cooldown = 2, .min_lrs = {0.01, 0.02}});
       }},
      {"max_rel",
       [](Optimizer& o) { return ReduceLROnPlateau(o, {.mode = "max", .factor = 0.3, .patience = 2, .min_lr = 0.001}); }},
      {"max_abs",
       [](Optimizer& o) {
         return ReduceLROnPlateau(o, {.mode = "max", .factor = 0.7, .patience = 0, .threshold = 0.1,
                                      .threshold_mode = "abs"});
       }},
  };
  return m;
}

TEST(ReduceLROnPlateau, FollowsTorch) {
  std::set<std::string> want, have;
  for (auto& c : fixture().cases("plateau")) want.insert(c.substr(8));
  for (auto& [name, make] : plateaus()) have.insert(name);
  EXPECT_EQ(want, have);
  for (auto& [name, make] : plateaus()) {
    SCOPED_TRACE(name);
    std::vector<double> metrics = fixture().get("plateau/" + name + "/metric").to_vector<double>();
    Problem pb;
    auto opt = sgd2(pb);
    auto sched = make(*opt);
    for (int64_t t = 0; t < 20; ++t) {
      pb.iterate(*opt);
      sched.step(metrics[t]);
      ASSERT_TRUE(near(lrs_of(*opt), row("plateau/" + name + "/lr", t))) << "lrs after step " << t + 1;
      ASSERT_TRUE(near(pb.W, row("plateau/" + name + "/W", t)));
    }
  }
}

TEST(ReduceLROnPlateau, StateDictRoundTrip) {
  std::vector<double> metrics = fixture().get("plateau/min_abs_cooldown/metric").to_vector<double>();
  for (auto& [name, make] : plateaus()) {
    SCOPED_TRACE(name);
    Problem pa, pb;
    auto oa = sgd2(pa);
    auto ob = sgd2(pb);
    auto a = make(*oa);
    auto fresh = make(*ob);
    EXPECT_FALSE(fresh.state_dict().scalars.count("best"));  // no infinity in a fresh dict
    for (int t = 0; t < 10; ++t) a.step(metrics[t]);
    ob->load_state_dict(oa->state_dict());
    auto b = make(*ob);
    b.load_state_dict(a.state_dict());
    EXPECT_EQ(b.best(), a.best());
    for (int t = 10; t < 20; ++t) {
      a.step(metrics[t]);
      b.step(metrics[t]);
      ASSERT_EQ(oa->lr(0), ob->lr(0)) << t;
      ASSERT_EQ(oa->lr(1), ob->lr(1)) << t;
      ASSERT_EQ(a.num_bad_epochs(), b.num_bad_epochs());
      ASSERT_EQ(a.in_cooldown(), b.in_cooldown());
    }
  }
}

}  // namespace
}  // namespace koan
