// Dropout layer: inverted dropout in training mode, the identity after eval().
//
//   nn::Dropout drop({.p = 0.2});
//   Tensor h = drop.forward(x);   // training: ~20% zeros, the rest scaled by 1/0.8
//   drop.eval();                  // now forward(x) is x
#pragma once
#include "koan/nn/module.h"
#include "koan/tensor/random.h"

namespace koan::nn {

struct DropoutOptions {
  double p = 0.5;                  // probability of zeroing an element, in [0, 1]
  Generator* generator = nullptr;  // the mask's random stream (default generator when null)
};

class Dropout : public Module {
 public:
  explicit Dropout(DropoutOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const DropoutOptions& options() const { return opts_; }

 private:
  DropoutOptions opts_;
};

}  // namespace koan::nn
