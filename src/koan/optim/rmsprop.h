// RMSprop: steps scaled by a running RMS of the gradient, optionally centered and with momentum.
//
//   optim::RMSprop opt(params, {.lr = 1e-3, .alpha = 0.9, .momentum = 0.9, .centered = true});
//
// As torch.optim.RMSprop (1.13): g = ±grad + wd·p;  v = α·v + (1−α)·g²;  centered: m = α·m + (1−α)·g,
// d = √(v − m²) + ε, else d = √v + ε;  momentum: b = μ·b + g/d, p −= lr·b;  else p −= lr·g/d.
#pragma once
#include "koan/optim/optimizer.h"

namespace koan::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;

  void check(const char* who) const;
  template <class F>
  void fields(F&& f) {
    f("lr", lr), f("alpha", alpha), f("eps", eps), f("weight_decay", weight_decay), f("momentum", momentum);
    f("centered", centered), f("maximize", maximize);
  }
};

class RMSprop : public OptimizerWith<RMSpropOptions> {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions defaults = {})
      : OptimizerWith("RMSprop", std::move(params), defaults) {}
  RMSprop(std::vector<ParamGroup<RMSpropOptions>> groups, RMSpropOptions defaults = {})
      : OptimizerWith("RMSprop", std::move(groups), defaults) {}
  using Optimizer::step;
  void step() override;
};

}  // namespace koan::optim
