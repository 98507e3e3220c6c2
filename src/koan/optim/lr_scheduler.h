// Learning-rate schedules: each step() sets every param group's lr for the next epoch/iteration.
//
//   optim::SGD opt(params, {.lr = 0.1, .momentum = 0.9});
//   auto warmup = std::make_shared<optim::LinearLR>(opt, optim::LinearLROptions{.start_factor = 0.01, .total_iters = 5});
//   auto decay = std::make_shared<optim::CosineAnnealingLR>(opt, optim::CosineAnnealingLROptions{.t_max = 95});
//   optim::SequentialLR sched(opt, {warmup, decay}, {5});
//   for (int epoch = 0; epoch < 100; ++epoch) { train_one_epoch(opt); sched.step(); }
//
// The values are torch.optim.lr_scheduler's (1.13): constructing a schedule sets the lr for
// epoch 0 and records each group's starting lr (initial_lr) the first time; most schedules are
// "chainable", i.e. they update the group's current lr by a factor, so several may drive one
// optimizer (ChainedScheduler) and they compose as in PyTorch.  A schedule keeps a reference to
// its optimizer, which must outlive it.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "koan/optim/optimizer.h"

namespace koan::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // Advance one epoch and set the groups' lrs.
  virtual void step();
  // The lrs the last step set (torch's get_last_lr()).
  const std::vector<double>& last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  Optimizer& optimizer() const { return *opt_; }

  // "last_epoch", "step_count", "base_lrs.<g>", "last_lr.<g>" (composites nest theirs under
  // "schedulers.<i>.").  The options given to the constructor are not part of it.
  virtual StateDict state_dict() const;
  virtual void load_state_dict(const StateDict& state);

 protected:
  explicit LRScheduler(Optimizer& opt);
  // The lrs for last_epoch_, usually from the groups' current lrs (torch's get_lr()).
  virtual std::vector<double> get_lr() = 0;
  // The lrs for last_epoch_ from base_lrs alone, where there is a formula (used when stepping
  // to a given epoch, as SequentialLR does at a milestone).
  virtual std::optional<std::vector<double>> closed_form_lr() const { return std::nullopt; }
  // Constructors of concrete schedules end with this (a base constructor can't call get_lr()).
  void initial_step();
  // Set epoch (instead of +1) and apply the closed form if there is one.
  void step_to(int64_t epoch);
  std::vector<double> group_lrs() const;
  void apply(const std::vector<double>& lrs);
  size_t num_groups() const { return opt_->num_param_groups(); }

  Optimizer* opt_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = -1;
  int64_t step_count_ = 0;
  std::vector<double> last_lr_;

  friend class SequentialLR;
  friend class ChainedScheduler;
};

// ---- the schedules (t = last_epoch, η0 = base lr)

// η0 · f(t), with one f for all groups or one per group.
class LambdaLR : public LRScheduler {
 public:
  using Fn = std::function<double(int64_t)>;
  LambdaLR(Optimizer& opt, Fn f);
  LambdaLR(Optimizer& opt, std::vector<Fn> per_group);

 protected:
  std::vector<double> get_lr() override;
  std::vector<Fn> fns_;
};

// lr ·= f(t) at every step after the first.
class MultiplicativeLR : public LRScheduler {
 public:
  using Fn = std::function<double(int64_t)>;
  MultiplicativeLR(Optimizer& opt, Fn f);
  MultiplicativeLR(Optimizer& opt, std::vector<Fn> per_group);

 protected:
  std::vector<double> get_lr() override;
  std::vector<Fn> fns_;
};

struct StepLROptions {
  int64_t step_size = 1;
  double gamma = 0.1;
};
// η0 · γ^⌊t / step_size⌋.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, StepLROptions o);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  StepLROptions o_;
};

struct MultiStepLROptions {
  std::vector<int64_t> milestones;  // a milestone listed twice multiplies by γ² there
  double gamma = 0.1;
};
// η0 · γ^(number of milestones ≤ t).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, MultiStepLROptions o);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  MultiStepLROptions o_;
};

struct ConstantLROptions {
  double factor = 1.0 / 3;
  int64_t total_iters = 5;
};
// η0 · factor for t < total_iters, then η0.
class ConstantLR : public LRScheduler {
 public:
  ConstantLR(Optimizer& opt, ConstantLROptions o);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  ConstantLROptions o_;
};

struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};
// η0 · (s + (e − s) · min(t, T)/T): linear warm-up (s < e) or linear decay (s > e).
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, LinearLROptions o);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  LinearLROptions o_;
};

struct ExponentialLROptions {
  double gamma = 0.9;
};
// η0 · γ^t.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& opt, ExponentialLROptions o);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  ExponentialLROptions o_;
};

struct PolynomialLROptions {
  int64_t total_iters = 5;
  double power = 1.0;
};
// η0 · (1 − min(t, T)/T)^power; power 1 is linear decay to zero.
class PolynomialLR : public LRScheduler {
 public:
  PolynomialLR(Optimizer& opt, PolynomialLROptions o);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  PolynomialLROptions o_;
};

struct CosineAnnealingLROptions {
  int64_t t_max = 10;
  double eta_min = 0;
};
// η_min + (η0 − η_min)(1 + cos(π t / T_max))/2, continuing as a cosine wave past T_max (as torch).
// Computed with torch's recursive form, which a lone schedule makes equal to this closed form
// (within rounding) and which composes with other schedules in ChainedScheduler as torch's does.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, CosineAnnealingLROptions o);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  CosineAnnealingLROptions o_;
};

// schedulers[i] runs from milestones[i-1] (restarted at its epoch 0) to milestones[i].
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<int64_t> milestones);
  void step() override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 protected:
  std::vector<double> get_lr() override { return group_lrs(); }
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

// Steps every schedule in order, each multiplying its factor into the current lrs.
class ChainedScheduler : public LRScheduler {
 public:
  explicit ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers);
  void step() override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 protected:
  std::vector<double> get_lr() override { return group_lrs(); }
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
};

}  // namespace koan::optim
