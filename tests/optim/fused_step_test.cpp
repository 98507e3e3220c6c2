// The fused optimizer kernels (ops/optim_step.h) against the op-by-op rules they replace.
// Optimizers take the fused path for dense parameters and the op-by-op one otherwise, so the same
// problem run on contiguous and on non-contiguous parameters compares the two end to end.
#include <functional>
#include <memory>

#include "koan/ops/optim_step.h"
#include "optim/problem.h"

namespace koan {
namespace {
using namespace optim;
using V = std::vector<Tensor>;
using Make = std::function<std::unique_ptr<Optimizer>(Tensor, Tensor)>;

std::vector<std::pair<std::string, Make>> configs() {
  return {
      {"adam", [](Tensor W, Tensor b) { return std::make_unique<Adam>(V{W, b}, AdamOptions{.lr = 0.05}); }},
      {"adam_wd_amsgrad",
       [](Tensor W, Tensor b) {
         return std::make_unique<Adam>(V{W, b}, AdamOptions{.lr = 0.05, .betas = {0.8, 0.95}, .eps = 1e-6,
                                                            .weight_decay = 0.01, .amsgrad = true});
       }},
      {"adam_maximize",
       [](Tensor W, Tensor b) { return std::make_unique<Adam>(V{W, b}, AdamOptions{.lr = 0.01, .maximize = true}); }},
      {"adamw",
       [](Tensor W, Tensor b) { return std::make_unique<AdamW>(V{W, b}, AdamWOptions{.lr = 0.05, .weight_decay = 0.1}); }},
      {"adamw_amsgrad_maximize",
       [](Tensor W, Tensor b) {
         return std::make_unique<AdamW>(V{W, b}, AdamWOptions{.lr = 0.02, .weight_decay = 0.05, .amsgrad = true,
                                                              .maximize = true});
       }},
      {"sgd", [](Tensor W, Tensor b) { return std::make_unique<SGD>(V{W, b}, SGDOptions{.lr = 0.05}); }},
      {"sgd_wd_maximize",
       [](Tensor W, Tensor b) {
         return std::make_unique<SGD>(V{W, b}, SGDOptions{.lr = 0.01, .weight_decay = 0.1, .maximize = true});
       }},
      {"sgd_momentum_dampening",
       [](Tensor W, Tensor b) {
         return std::make_unique<SGD>(V{W, b}, SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.3});
       }},
      {"sgd_nesterov_wd",
       [](Tensor W, Tensor b) {
         return std::make_unique<SGD>(V{W, b}, SGDOptions{.lr = 0.05, .momentum = 0.8, .weight_decay = 0.01,
                                                          .nesterov = true});
       }},
  };
}

TEST(FusedOptimizerStep, MatchesTheOpByOpRuleOnTheFixtureProblem) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    for (auto& [name, make] : configs()) {
      SCOPED_TRACE(name + " " + std::string(koan::name(dt)));
      optim_test::Problem dense, strided;
      for (optim_test::Problem* p : {&dense, &strided}) {
        p->X = p->X.to(dt), p->Y = p->Y.to(dt);
        p->W = p->W.detach().to(dt).requires_grad_(), p->b = p->b.detach().to(dt).requires_grad_();
      }
      // Same values, strided storage: not fusable, so this one takes the op-by-op rule.
      strided.W = testing::non_contiguous(strided.W.detach()).requires_grad_();
      strided.b = testing::non_contiguous(strided.b.detach()).requires_grad_();
      ASSERT_FALSE(strided.W.is_contiguous());
      auto a = make(dense.W, dense.b), b = make(strided.W, strided.b);
      for (int t = 0; t < 20; ++t) {
        dense.iterate(*a);
        strided.iterate(*b);
      }
      const double rtol = dt == DType::Float64 ? 1e-11 : 2e-5;
      EXPECT_TRUE(testing::close(dense.W, strided.W, rtol, rtol));
      EXPECT_TRUE(testing::close(dense.b, strided.b, rtol, rtol));
      // And the run moved the weights: a step that did nothing would also "agree".
      EXPECT_FALSE(testing::close(dense.W, optim_test::fixture().get("problem/W0").to(dt), 1e-3, 1e-3));
    }
  }
}

// One fused step straight from the op, against the documented formula written with ops.
TEST(FusedOptimizerStep, AdamKernelFollowsTheFormula) {
  Generator gen(5);
  for (bool amsgrad : {false, true})
    for (bool decoupled : {false, true}) {
      SCOPED_TRACE(std::string(amsgrad ? "amsgrad " : "") + (decoupled ? "adamw" : "adam"));
      const int64_t n = 100003;  // several threads' chunks and a vector tail
      Tensor p = randn({n}, {.dtype = DType::Float64}, &gen), g = randn({n}, {.dtype = DType::Float64}, &gen);
      Tensor m = randn({n}, {.dtype = DType::Float64}, &gen), v = abs(randn({n}, {.dtype = DType::Float64}, &gen));
      Tensor vmax = amsgrad ? abs(randn({n}, {.dtype = DType::Float64}, &gen)) : Tensor();
      AdamStep a{.lr = 0.01, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .weight_decay = 0.1,
                 .decoupled = decoupled, .maximize = true, .step = 3};
      // Expected, op by op.
      Tensor gg = neg(g), pp = p.clone();
      if (decoupled) {
        pp = mul(pp, 1 - a.lr * a.weight_decay);
      } else {
        gg = add(gg, p, a.weight_decay);
      }
      Tensor m1 = add(mul(m, a.beta1), gg, 1 - a.beta1), v1 = add(mul(v, a.beta2), mul(gg, gg), 1 - a.beta2);
      Tensor vh = amsgrad ? maximum(vmax, v1) : v1;
      Tensor denom = add(div(sqrt(vh), std::sqrt(1 - std::pow(a.beta2, 3.0))), a.eps);
      Tensor p1 = sub(pp, div(m1, denom), a.lr / (1 - std::pow(a.beta1, 3.0)));
      NoGradGuard ng;
      ASSERT_TRUE(fused_adam_step_(p, g, m, v, vmax, a));
      EXPECT_TRUE(testing::close(m, m1, 1e-14, 1e-15));
      EXPECT_TRUE(testing::close(v, v1, 1e-14, 1e-15));
      EXPECT_TRUE(testing::close(p, p1, 1e-13, 1e-15));
      if (amsgrad) {
        EXPECT_TRUE(testing::close(vmax, vh, 1e-14, 1e-15));
      }
    }
}

TEST(FusedOptimizerStep, SgdKernelFollowsTheFormula) {
  Generator gen(6);
  const int64_t n = 70001;
  for (bool first : {false, true})
    for (bool nesterov : {false, true}) {
      Tensor p = randn({n}, {.dtype = DType::Float64}, &gen), g = randn({n}, {.dtype = DType::Float64}, &gen);
      Tensor buf = randn({n}, {.dtype = DType::Float64}, &gen);
      SgdStep s{.lr = 0.1, .momentum = 0.9, .dampening = nesterov ? 0 : 0.25, .weight_decay = 0.01,
                .nesterov = nesterov, .first = first};
      Tensor d = add(g, p, s.weight_decay);
      Tensor b1 = first ? d : add(mul(buf, s.momentum), d, 1 - s.dampening);
      Tensor p1 = sub(p, nesterov ? add(d, b1, s.momentum) : b1, s.lr);
      NoGradGuard ng;
      ASSERT_TRUE(fused_sgd_step_(p, g, buf, s));
      EXPECT_TRUE(testing::close(buf, b1, 1e-14, 1e-15));
      EXPECT_TRUE(testing::close(p, p1, 1e-14, 1e-15));
    }
  // No momentum: no buffer.
  Tensor p = randn({5}, {.dtype = DType::Float64}, &gen), g = randn({5}, {.dtype = DType::Float64}, &gen), none;
  Tensor p1 = sub(p, g, 0.5);
  NoGradGuard ng;
  ASSERT_TRUE(fused_sgd_step_(p, g, none, {.lr = 0.5}));
  EXPECT_TRUE(testing::close(p, p1, 1e-15, 1e-15));
}

TEST(FusedOptimizerStep, DeclinesWhatItCannotWalk) {
  NoGradGuard ng;
  Tensor p = randn({4, 3}), g = randn({4, 3}), m = zeros({4, 3}), v = zeros({4, 3}), none;
  Tensor before = p.clone();
  Tensor strided = testing::non_contiguous(randn({4, 3}));
  Tensor g64 = g.to(DType::Float64);
  EXPECT_FALSE(fused_adam_step_(strided, g, m, v, none, {}));
  EXPECT_FALSE(fused_adam_step_(p, g64, m, v, none, {}));
  Tensor wrong_shape = zeros({12});
  EXPECT_FALSE(fused_adam_step_(p, g, wrong_shape, v, none, {}));
  EXPECT_FALSE(fused_sgd_step_(p, testing::non_contiguous(g), none, {}));
  EXPECT_TRUE(equal(p, before));
  EXPECT_TRUE(equal(m, zeros({4, 3})));
  {
    EnableGradGuard on;  // an update must not be recorded: the fused op refuses under grad mode
    EXPECT_FALSE(fused_sgd_step_(p, g, none, {}));
  }
}

}  // namespace
}  // namespace koan
