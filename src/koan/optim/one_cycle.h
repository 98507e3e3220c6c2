// OneCycleLR: the "1cycle" policy, stepped after every batch.  The lr warms up from
// max_lr / div_factor to max_lr over the first pct_start of the steps, then anneals to
// max_lr / (div_factor * final_div_factor); momentum (SGD's "momentum", Adam's β1) moves the
// other way, from max_momentum down to base_momentum and back.
//
//   optim::Adam opt(net->parameters());
//   optim::OneCycleLR sched(opt, {.max_lr = {3e-3}, .epochs = 5, .steps_per_epoch = 938});
//   for (...) { train_step(opt); sched.step(); }   // once per batch
//
// As torch.optim.lr_scheduler.OneCycleLR (1.13), including its phase boundaries (the warm-up
// ends at step pct_start · total_steps − 1, a real number) and its error on stepping past
// total_steps.  Construction sets each group's initial_lr to max_lr / div_factor and, with
// cycle_momentum, its momentum to max_momentum.
#pragma once
#include <vector>

#include "koan/optim/lr_scheduler.h"

namespace koan::optim {

enum class Anneal { Cos, Linear };

struct OneCycleLROptions {
  std::vector<double> max_lr;  // one value for every group, or one per group
  int64_t total_steps = 0;     // or epochs × steps_per_epoch when 0
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  Anneal anneal_strategy = Anneal::Cos;
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;  // warm up, come back down to initial_lr, then anneal to min_lr
};

class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& opt, OneCycleLROptions o);
  int64_t total_steps() const { return total_steps_; }

 protected:
  std::vector<double> get_lr() override;

 private:
  // A phase runs to end_step, taking lr and momentum between two of a group's four levels.
  enum Level { Initial, Max, Min, BaseMomentum, MaxMomentum };
  struct Phase {
    double end_step;
    Level start_lr, end_lr, start_momentum, end_momentum;
  };
  double level(size_t group, Level l) const;

  OneCycleLROptions o_;
  int64_t total_steps_ = 0;
  std::vector<Phase> phases_;
  std::vector<double> max_lrs_;
  std::string momentum_key_;  // "betas.0" or "momentum"; empty without cycle_momentum
};

}  // namespace koan::optim
