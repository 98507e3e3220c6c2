// Weight averaging: an exponential moving average (EMA) or a running mean (SWA / Polyak) of
// parameters, to evaluate with in place of the trained weights.
//
//   optim::EMA ema(net->parameters(), {.decay = 0.999, .warmup = true});
//   for (...) { opt.step(); ema.update(); }
//   ema.apply_to(net->parameters());    // evaluate with the averaged weights...
//   evaluate(net);
//   ema.restore(net->parameters());     // ...and go back to the trained ones
//
//   optim::SWA swa(net->parameters());  // equal weights: avg_n = mean of the n snapshots
//   for (int epoch = 75; epoch < 100; ++epoch) { train(opt); swa.update(); }
//
// The average lives in tensors of its own (`averaged()`); update() reads the parameters given to
// the constructor.  apply_to/restore take the parameters to swap (the tracked ones by default),
// which must match them in number and shapes.
#pragma once
#include <vector>

#include "koan/optim/optimizer.h"

namespace koan::optim {

class WeightAverage {
 public:
  virtual ~WeightAverage() = default;
  // Folds the tracked parameters' current values into the average.
  virtual void update() = 0;
  int64_t num_updates() const { return num_updates_; }
  const std::vector<Tensor>& averaged() const { return avg_; }

  // Saves params' values and copies the average into them.
  void apply_to(const std::vector<Tensor>& params);
  void apply_to() { apply_to(params_); }
  // Copies the values saved by apply_to back.
  void restore(const std::vector<Tensor>& params);
  void restore() { restore(params_); }

  // tensors "averaged.<i>", scalar "num_updates".
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 protected:
  WeightAverage(std::vector<Tensor> params, const char* name);
  void check_match(const std::vector<Tensor>& params, const char* op) const;

  const char* name_;
  std::vector<Tensor> params_, avg_, backup_;
  int64_t num_updates_ = 0;
};

struct EMAOptions {
  double decay = 0.999;
  // Use decay_t = min(decay, (1 + t) / (10 + t)) at update t = 0, 1, ..., so early averages are
  // not dominated by the initial weights.
  bool warmup = false;
};

// avg = decay_t·avg + (1 − decay_t)·param, avg starting at the parameters' values.
class EMA : public WeightAverage {
 public:
  EMA(std::vector<Tensor> params, EMAOptions o = {});
  void update() override;
  // The decay the next update will use.
  double current_decay() const;

 private:
  EMAOptions o_;
};

// avg_n = avg_{n−1} + (param − avg_{n−1}) / n: the mean of the n snapshots taken by update() (as
// torch.optim.swa_utils.AveragedModel; the first update copies the parameters).
class SWA : public WeightAverage {
 public:
  explicit SWA(std::vector<Tensor> params);
  void update() override;
};

}  // namespace koan::optim
