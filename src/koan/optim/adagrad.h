// Adagrad: per-coordinate steps shrinking with the accumulated squared gradient.
//
//   optim::Adagrad opt(params, {.lr = 0.1, .lr_decay = 1e-4});
//
// As torch.optim.Adagrad (1.13): g = ±grad + wd·p;  s += g²;  p −= lr/(1+(t−1)·lr_decay) · g/(√s + ε),
// s starting at initial_accumulator_value.
#pragma once
#include "koan/optim/optimizer.h"

namespace koan::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;

  void check(const char* who) const;
  template <class F>
  void fields(F&& f) {
    f("lr", lr), f("lr_decay", lr_decay), f("weight_decay", weight_decay);
    f("initial_accumulator_value", initial_accumulator_value), f("eps", eps), f("maximize", maximize);
  }
};

class Adagrad : public OptimizerWith<AdagradOptions> {
 public:
  Adagrad(std::vector<Tensor> params, AdagradOptions defaults = {})
      : OptimizerWith("Adagrad", std::move(params), defaults) {}
  Adagrad(std::vector<ParamGroup<AdagradOptions>> groups, AdagradOptions defaults = {})
      : OptimizerWith("Adagrad", std::move(groups), defaults) {}
  using Optimizer::step;
  void step() override;
};

}  // namespace koan::optim
