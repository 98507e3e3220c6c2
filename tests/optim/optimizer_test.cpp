// Optimizers against torch.optim trajectories, state_dict round trips, zero_grad, groups, errors.
#include "optim/problem.h"

namespace koan {
namespace {

using optim_test::fixture;
using optim_test::near;
using optim_test::Problem;
using optim_test::row;
using Make = std::function<std::unique_ptr<optim::Optimizer>(Tensor W, Tensor b)>;
using V = std::vector<Tensor>;

// The same optimizers as OPTIMIZERS in tests/fixtures/gen_optim.py, by name.
const std::map<std::string, Make>& optimizers() {
  using namespace optim;
  static const std::map<std::string, Make> m = {
      {"sgd", [](Tensor W, Tensor b) { return std::make_unique<SGD>(V{W, b}, SGDOptions{.lr = 0.05}); }},
      {"sgd_momentum",
       [](Tensor W, Tensor b) {
         return std::make_unique<SGD>(V{W, b},
                                      SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
       }},
      {"sgd_nesterov",
       [](Tensor W, Tensor b) {
         return std::make_unique<SGD>(V{W, b},
                                      SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
       }},
      {"sgd_maximize",
       [](Tensor W, Tensor b) {
         return std::make_unique<SGD>(V{W, b}, SGDOptions{.lr = 0.002, .momentum = 0.5, .maximize = true});
       }},
      {"sgd_groups",
       [](Tensor W, Tensor b) {
         return std::make_unique<SGD>(
             std::vector<ParamGroup<SGDOptions>>{{.params = {W}},
                                                 {.params = {b}, .options = SGDOptions{.lr = 0.2, .momentum = 0.5}}},
             SGDOptions{.lr = 0.05, .momentum = 0.9});
       }},
      {"adagrad", [](Tensor W, Tensor b) { return std::make_unique<Adagrad>(V{W, b}, AdagradOptions{.lr = 0.1}); }},
      {"adagrad_decay",
       [](Tensor W, Tensor b) {
         return std::make_unique<Adagrad>(V{W, b}, AdagradOptions{.lr = 0.2, .lr_decay = 0.05, .weight_decay = 0.01,
                                                                  .initial_accumulator_value = 0.1, .eps = 1e-6});
       }},
      {"rmsprop", [](Tensor W, Tensor b) { return std::make_unique<RMSprop>(V{W, b}, RMSpropOptions{.lr = 0.01}); }},
      {"rmsprop_momentum",
       [](Tensor W, Tensor b) {
         return std::make_unique<RMSprop>(
             V{W, b}, RMSpropOptions{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.01, .momentum = 0.8});
       }},
      {"rmsprop_centered",
       [](Tensor W, Tensor b) {
         return std::make_unique<RMSprop>(V{W, b}, RMSpropOptions{.lr = 0.01, .alpha = 0.95, .eps = 1e-6,
                                                                  .weight_decay = 0.02, .momentum = 0.5,
                                                                  .centered = true});
       }},
      {"adam", [](Tensor W, Tensor b) { return std::make_unique<Adam>(V{W, b}, AdamOptions{.lr = 0.05}); }},
      {"adam_amsgrad",
       [](Tensor W, Tensor b) {
         return std::make_unique<Adam>(V{W, b}, AdamOptions{.lr = 0.05, .betas = {0.8, 0.95}, .eps = 1e-6,
                                                            .weight_decay = 0.01, .amsgrad = true});
       }},
      {"adam_maximize",
       [](Tensor W, Tensor b) { return std::make_unique<Adam>(V{W, b}, AdamOptions{.lr = 0.01, .maximize = true}); }},
      {"adam_groups",
       [](Tensor W, Tensor b) {
         return std::make_unique<Adam>(
             std::vector<ParamGroup<AdamOptions>>{
                 {.params = {W}}, {.params = {b}, .options = AdamOptions{.lr = 0.2, .betas = {0.5, 0.9}}}},
             AdamOptions{.lr = 0.05});
       }},
      {"adamw",
       [](Tensor W, Tensor b) { return std::make_unique<AdamW>(V{W, b}, AdamWOptions{.lr = 0.05, .weight_decay = 0.1}); }},
      {"adamw_amsgrad",
       [](Tensor W, Tensor b) {
         return std::make_unique<AdamW>(
             V{W, b}, AdamWOptions{.lr = 0.05, .betas = {0.85, 0.99}, .weight_decay = 0.05, .amsgrad = true});
       }},
      {"adamax", [](Tensor W, Tensor b) { return std::make_unique<Adamax>(V{W, b}, AdamaxOptions{.lr = 0.05}); }},
      {"adamax_wd",
       [](Tensor W, Tensor b) {
         // Group options replace the defaults entirely, so the second group repeats the shared ones.
         AdamaxOptions d{.lr = 0.05, .betas = {0.8, 0.9}, .eps = 1e-6, .weight_decay = 0.02};
         AdamaxOptions second = d;
         second.lr = 0.1;
         return std::make_unique<Adamax>(
             std::vector<ParamGroup<AdamaxOptions>>{{.params = {W}}, {.params = {b}, .options = second}}, d);
       }},
  };
  return m;
}

TEST(Optimizers, EveryFixtureCaseHasAnOptimizerAndViceVersa) {
  std::set<std::string> want, have;
  for (auto& c : fixture().cases("opt")) want.insert(c.substr(4));
  for (auto& [name, make] : optimizers()) have.insert(name);
  EXPECT_EQ(want, have);
}

TEST(Optimizers, FollowTorchTrajectoriesFor20Steps) {
  for (auto& [name, make] : optimizers()) {
    SCOPED_TRACE(name);
    Problem pb;
    auto opt = make(pb.W, pb.b);
    for (int64_t t = 0; t < 20; ++t) {
      pb.iterate(*opt);
      ASSERT_TRUE(near(pb.W, row("opt/" + name + "/W", t))) << "W after step " << t + 1;
      ASSERT_TRUE(near(pb.b, row("opt/" + name + "/b", t))) << "b after step " << t + 1;
    }
  }
}

TEST(Optimizers, StateDictRoundTripContinuesBitwise) {
  for (auto& [name, make] : optimizers()) {
    SCOPED_TRACE(name);
    Problem straight, resumed;
    auto a = make(straight.W, straight.b);
    for (int t = 0; t < 10; ++t) straight.iterate(*a);
    optim::StateDict sd = a->state_dict();
    // A fresh optimizer over fresh parameters holding the same values: only the state dict carries
    // the momentum buffers, step counts and options.
    {
      NoGradGuard g;
      resumed.W.copy_(straight.W);
      resumed.b.copy_(straight.b);
    }
    auto b = make(resumed.W, resumed.b);
    b->set_lr(0, 123.0);  // must be overwritten by the loaded options
    b->load_state_dict(sd);
    for (int t = 0; t < 10; ++t) {
      straight.iterate(*a);
      resumed.iterate(*b);
    }
    EXPECT_TRUE(equal(straight.W, resumed.W));
    EXPECT_TRUE(equal(straight.b, resumed.b));
    // The saved dict is a snapshot: stepping on did not change it.
    EXPECT_NE(a->state_dict().scalars.at("state.0.step"), sd.scalars.at("state.0.step"));
    EXPECT_EQ(sd.scalars.at("state.0.step"), 10);
  }
}

TEST(Optimizers, StateDictWithoutTheStateDiverges) {
  // The round trip above would pass vacuously if the state did not matter; it does.
  Problem straight, fresh;
  auto a = optimizers().at("adam")(straight.W, straight.b);
  for (int t = 0; t < 10; ++t) straight.iterate(*a);
  {
    NoGradGuard g;
    fresh.W.copy_(straight.W);
    fresh.b.copy_(straight.b);
  }
  auto b = optimizers().at("adam")(fresh.W, fresh.b);
  straight.iterate(*a);
  fresh.iterate(*b);
  EXPECT_FALSE(allclose(straight.W, fresh.W, 1e-6, 0));
}

TEST(Optimizers, StateDictKeysAndValues) {
  Problem pb;
  optim::Adam opt(std::vector<optim::ParamGroup<optim::AdamOptions>>{
                      {.params = {pb.W}}, {.params = {pb.b}, .options = optim::AdamOptions{.lr = 0.5, .amsgrad = true}}},
                  {.lr = 0.01, .betas = {0.8, 0.9}});
  auto sd0 = opt.state_dict();
  EXPECT_TRUE(sd0.tensors.empty());  // no state before the first step
  EXPECT_EQ(sd0.scalars.at("param_groups.0.lr"), 0.01);
  EXPECT_EQ(sd0.scalars.at("param_groups.0.betas.0"), 0.8);
  EXPECT_EQ(sd0.scalars.at("param_groups.1.lr"), 0.5);
  EXPECT_EQ(sd0.scalars.at("param_groups.1.amsgrad"), 1);
  EXPECT_EQ(sd0.scalars.at("param_groups.1.betas.0"), 0.9);  // group options are whole: AdamOptions' default
  EXPECT_EQ(sd0.scalars.at("param_groups.1.params"), 1);
  pb.iterate(opt);
  auto sd = opt.state_dict();
  EXPECT_EQ(sd.scalars.at("state.1.step"), 1);
  std::set<std::string> keys;
  for (auto& [k, t] : sd.tensors) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"state.0.exp_avg", "state.0.exp_avg_sq", "state.1.exp_avg",
                                         "state.1.exp_avg_sq", "state.1.max_exp_avg_sq"}));
  EXPECT_EQ(sd.tensors.at("state.1.exp_avg").shape(), pb.b.shape());
  EXPECT_FALSE(sd.tensors.at("state.0.exp_avg").is_same(opt.state(0, 0).buffers.at("exp_avg")));
}

TEST(Optimizers, LoadStateDictRejectsMismatchesAndChangesNothing) {
  Problem pb;
  optim::SGD sgd({pb.W, pb.b}, {.lr = 0.1, .momentum = 0.9});
  pb.iterate(sgd);
  auto good = sgd.state_dict();

  Problem other;
  optim::SGD target({other.W, other.b}, {.lr = 0.3, .momentum = 0.9});
  auto expect_error = [&](optim::StateDict sd, const std::string& fragment) {
    try {
      target.load_state_dict(sd);
      ADD_FAILURE() << "expected an error mentioning " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
    EXPECT_EQ(target.lr(0), 0.3);  // untouched
    EXPECT_EQ(target.state(0, 0).step, 0);
  };
  auto bad_shape = good;
  bad_shape.tensors["state.0.momentum_buffer"] = zeros({2, 2}, {.dtype = DType::Float64});
  expect_error(bad_shape, "state.0.momentum_buffer");
  auto extra = good;
  extra.scalars["param_groups.0.betas.0"] = 0.9;
  expect_error(extra, "betas.0");
  auto missing = good;
  missing.scalars.erase("param_groups.0.nesterov");
  expect_error(missing, "nesterov");
  auto wrong_count = good;
  wrong_count.scalars["param_groups.0.params"] = 3;
  expect_error(wrong_count, "3 parameters");
  auto out_of_range = good;
  out_of_range.scalars["state.7.step"] = 1;
  expect_error(out_of_range, "parameter 7");

  optim::Adam adam({other.W, other.b});
  EXPECT_THROW(adam.load_state_dict(good), ValueError);  // another optimizer's state

  Problem single;
  optim::SGD one_group({single.W}, {.lr = 0.1, .momentum = 0.9});
  EXPECT_THROW(one_group.load_state_dict(good), ValueError);
}

TEST(Optimizers, ZeroGradSemantics) {
  Problem pb;
  optim::SGD opt({pb.W, pb.b}, {.lr = 0.1});
  pb.loss().backward();
  Tensor gW = pb.W.grad();
  ASSERT_TRUE(gW.defined());
  Tensor first = gW.clone();
  opt.zero_grad(/*set_to_none=*/false);
  EXPECT_TRUE(pb.W.grad().is_same(gW));  // the same tensor, zeroed in place
  EXPECT_TRUE(equal(pb.W.grad(), zeros_like(pb.W)));
  EXPECT_TRUE(equal(pb.b.grad(), zeros_like(pb.b)));
  {
    NoGradGuard g;
    pb.b.grad().fill_(5.0);
  }
  opt.zero_grad(false);
  pb.loss().backward();  // accumulates onto zeros: the same gradient as the first backward
  EXPECT_TRUE(equal(pb.W.grad(), first));
  opt.zero_grad();  // default: set to none
  EXPECT_FALSE(pb.W.grad().defined());
  EXPECT_FALSE(pb.b.grad().defined());
  Tensor before = pb.W.clone();
  opt.step();  // no gradients: nothing moves, no state appears
  EXPECT_TRUE(equal(before, pb.W));
  EXPECT_EQ(opt.state(0, 0).step, 0);
  EXPECT_TRUE(opt.state_dict().tensors.empty());
}

TEST(Optimizers, ParametersWithoutGradientAreSkipped) {
  Problem pb;
  optim::Adam opt({pb.W, pb.b}, {.lr = 0.1});
  pb.loss().backward();
  pb.b.set_grad(Tensor());
  Tensor b0 = pb.b.clone();
  opt.step();
  EXPECT_TRUE(equal(pb.b, b0));
  EXPECT_EQ(opt.state(0, 0).step, 1);
  EXPECT_EQ(opt.state(0, 1).step, 0);
}

TEST(Optimizers, StepWithClosureReturnsTheLoss) {
  Problem pb, ref;
  optim::SGD a({pb.W, pb.b}, {.lr = 0.05});
  optim::SGD b({ref.W, ref.b}, {.lr = 0.05});
  Tensor loss = a.step([&] {
    a.zero_grad();
    Tensor l = pb.loss();
    l.backward();
    return l;
  });
  double expected = ref.loss().item<double>();
  ref.iterate(b);
  EXPECT_EQ(loss.item<double>(), expected);
  EXPECT_TRUE(equal(pb.W, ref.W));
}

TEST(Optimizers, AddParamGroupAndAccessors) {
  Problem pb;
  optim::SGD opt({pb.W}, {.lr = 0.1, .momentum = 0.9});
  opt.add_param_group({pb.b}, optim::SGDOptions{.lr = 0.01});
  ASSERT_EQ(opt.num_param_groups(), 2u);
  EXPECT_EQ(opt.lr(1), 0.01);
  EXPECT_EQ(opt.options(1).momentum, 0);
  EXPECT_EQ(opt.options(0).momentum, 0.9);
  EXPECT_EQ(opt.parameters().size(), 2u);
  EXPECT_TRUE(opt.params(1)[0].is_same(pb.b));
  EXPECT_EQ(opt.name(), "SGD");
  opt.set_lr(0, 0.5);
  EXPECT_EQ(opt.options(0).lr, 0.5);
  EXPECT_THROW(opt.params(2), IndexError);
}

TEST(Optimizers, RejectBadParametersAndOptions) {
  Problem pb;
  EXPECT_THROW(optim::SGD({pb.W, pb.W}), ValueError);  // a parameter twice
  optim::SGD opt({pb.W});
  EXPECT_THROW(opt.add_param_group({pb.W}), ValueError);
  EXPECT_THROW(optim::SGD({mul(pb.W, 2.0)}), ValueError);  // not a leaf
  EXPECT_THROW(optim::SGD({zeros({2}, {.dtype = DType::Int64})}), DTypeError);
  EXPECT_THROW(optim::SGD(std::vector<Tensor>{}), ValueError);
  EXPECT_THROW(optim::SGD({pb.W}, {.lr = -1}), ValueError);
  EXPECT_THROW(optim::SGD({pb.W}, {.lr = 0.1, .nesterov = true}), ValueError);  // nesterov without momentum
  EXPECT_THROW(optim::Adam({pb.W}, {.betas = {1.0, 0.9}}), ValueError);
  EXPECT_THROW(optim::AdamW({pb.W}, {.weight_decay = -0.1}), ValueError);
  EXPECT_THROW(optim::Adamax({pb.W}, {.eps = -1}), ValueError);
  EXPECT_THROW(optim::Adagrad({pb.W}, {.lr_decay = -1}), ValueError);
  EXPECT_THROW(optim::RMSprop({pb.W}, {.alpha = -0.5}), ValueError);
  try {
    optim::SGD({pb.W}, {.lr = 0.1, .momentum = 0, .nesterov = true});
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("SGD"), std::string::npos) << e.what();
  }
}

TEST(Optimizers, Float32ParametersStayFloat32) {
  Tensor w = ones({3}).requires_grad_();
  optim::Adam opt({w}, {.lr = 0.1});
  sum(mul(w, w)).backward();
  opt.step();
  EXPECT_EQ(w.dtype(), DType::Float32);
  EXPECT_EQ(opt.state(0, 0).buffers.at("exp_avg").dtype(), DType::Float32);
  // First Adam step moves every coordinate by lr (m/sqrt(v) = sign(g) after bias correction).
  EXPECT_TRUE(testing::close(w, full({3}, 0.9f), 1e-6, 1e-6));
}

}  // namespace
}  // namespace koan
