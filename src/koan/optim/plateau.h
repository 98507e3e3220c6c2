// ReduceLROnPlateau: cut the lr by `factor` when a metric stops improving.
//
//   optim::ReduceLROnPlateau sched(opt, {.mode = "min", .factor = 0.5, .patience = 3});
//   for (int epoch = 0; epoch < 100; ++epoch) { train(opt); sched.step(validation_loss()); }
//
// As torch.optim.lr_scheduler.ReduceLROnPlateau (1.13): a metric is an improvement if it beats the
// best so far by more than `threshold` (relative: best·(1∓threshold), absolute: best∓threshold);
// after more than `patience` epochs without one, every group's lr becomes max(lr·factor, min_lr)
// (changes smaller than eps are skipped) and `cooldown` epochs follow in which bad epochs don't count.
#pragma once
#include <string>
#include <vector>

#include "koan/optim/optimizer.h"

namespace koan::optim {

struct ReduceLROnPlateauOptions {
  std::string mode = "min";  // "min": lower is better; "max": higher is better
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  std::string threshold_mode = "rel";  // "rel" or "abs"
  int64_t cooldown = 0;
  double min_lr = 0;
  std::vector<double> min_lrs;  // one per group, instead of min_lr
  double eps = 1e-8;
};

class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& opt, ReduceLROnPlateauOptions o = {});
  void step(double metric);
  const std::vector<double>& last_lr() const { return last_lr_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  int64_t last_epoch() const { return last_epoch_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }

  // "last_epoch", "num_bad_epochs", "cooldown_counter" and "best" (absent while no metric was
  // seen, so the dict holds no infinity and stays valid JSON).
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 private:
  bool is_better(double a, double best) const;
  double worst() const;

  Optimizer* opt_;
  ReduceLROnPlateauOptions o_;
  double best_;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace koan::optim
