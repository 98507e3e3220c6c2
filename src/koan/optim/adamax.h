// Adamax: Adam with the infinity norm in place of the RMS.
//
//   optim::Adamax opt(params, {.lr = 2e-3});
//
// As torch.optim.Adamax (1.13), step t: g = ±grad + wd·p;  m = β1·m + (1−β1)·g;
// u = max(β2·u, |g| + ε);  p −= lr/(1−β1^t) · m/u.
#pragma once
#include <utility>

#include "koan/optim/optimizer.h"

namespace koan::optim {

struct AdamaxOptions {
  double lr = 2e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool maximize = false;

  void check(const char* who) const;
  template <class F>
  void fields(F&& f) {
    f("lr", lr), f("betas.0", betas.first), f("betas.1", betas.second), f("eps", eps);
    f("weight_decay", weight_decay), f("maximize", maximize);
  }
};

class Adamax : public OptimizerWith<AdamaxOptions> {
 public:
  Adamax(std::vector<Tensor> params, AdamaxOptions defaults = {})
      : OptimizerWith("Adamax", std::move(params), defaults) {}
  Adamax(std::vector<ParamGroup<AdamaxOptions>> groups, AdamaxOptions defaults = {})
      : OptimizerWith("Adamax", std::move(groups), defaults) {}
  using Optimizer::step;
  void step() override;
};

}  // namespace koan::optim
