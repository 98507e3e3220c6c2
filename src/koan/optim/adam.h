// Adam and AdamW: steps from bias-corrected running means of the gradient and its square.
//
//   optim::Adam opt(params, {.lr = 1e-3, .betas = {0.9, 0.999}});
//   optim::AdamW optw(params, {.lr = 1e-3, .weight_decay = 0.05});   // decoupled weight decay
//
// As torch.optim.Adam / AdamW (1.13), step t:
//   Adam:  g = ±grad + wd·p        AdamW:  g = ±grad,  p ·= 1 − lr·wd
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  amsgrad: v̂ = max(v̂, v), else v̂ = v
//   p −= lr/(1−β1^t) · m / (√v̂ / √(1−β2^t) + ε)
#pragma once
#include <utility>

#include "koan/optim/optimizer.h"

namespace koan::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;  // L2 penalty added to the gradient
  bool amsgrad = false;
  bool maximize = false;

  void check(const char* who) const;
  template <class F>
  void fields(F&& f) {
    f("lr", lr), f("betas.0", betas.first), f("betas.1", betas.second), f("eps", eps);
    f("weight_decay", weight_decay), f("amsgrad", amsgrad), f("maximize", maximize);
  }
};

// AdamW's options: Adam's, with weight decay on by default and applied to the weights directly.
struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay before the Adam step
  bool amsgrad = false;
  bool maximize = false;

  void check(const char* who) const;
  template <class F>
  void fields(F&& f) {
    f("lr", lr), f("betas.0", betas.first), f("betas.1", betas.second), f("eps", eps);
    f("weight_decay", weight_decay), f("amsgrad", amsgrad), f("maximize", maximize);
  }
};

class Adam : public OptimizerWith<AdamOptions> {
 public:
  Adam(std::vector<Tensor> params, AdamOptions defaults = {}) : OptimizerWith("Adam", std::move(params), defaults) {}
  Adam(std::vector<ParamGroup<AdamOptions>> groups, AdamOptions defaults = {})
      : OptimizerWith("Adam", std::move(groups), defaults) {}
  using Optimizer::step;
  void step() override;
};

class AdamW : public OptimizerWith<AdamWOptions> {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions defaults = {})
      : OptimizerWith("AdamW", std::move(params), defaults) {}
  AdamW(std::vector<ParamGroup<AdamWOptions>> groups, AdamWOptions defaults = {})
      : OptimizerWith("AdamW", std::move(groups), defaults) {}
  using Optimizer::step;
  void step() override;
};

}  // namespace koan::optim
