// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.
//
//   optim::SGD opt(net->parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//
// As torch.optim.SGD (1.13): g = ±grad + wd·p;  b = μ·b + (1−τ)·g (b = g on the first step);
// g = nesterov ? g + μ·b : b;  p −= lr·g.
#pragma once
#include "koan/optim/optimizer.h"

namespace koan::optim {

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;  // ascend the objective

  void check(const char* who) const;
  template <class F>
  void fields(F&& f) {
    f("lr", lr), f("momentum", momentum), f("dampening", dampening), f("weight_decay", weight_decay);
    f("nesterov", nesterov), f("maximize", maximize);
  }
};

class SGD : public OptimizerWith<SGDOptions> {
 public:
  SGD(std::vector<Tensor> params, SGDOptions defaults = {}) : OptimizerWith("SGD", std::move(params), defaults) {}
  SGD(std::vector<ParamGroup<SGDOptions>> groups, SGDOptions defaults = {})
      : OptimizerWith("SGD", std::move(groups), defaults) {}
  using Optimizer::step;
  void step() override;
};

}  // namespace koan::optim
