// Fully connected layer: y = x W^T + b, as torch.nn.Linear (same default initialisation).
//
//   nn::Linear fc({.in = 784, .out = 128});
//   Tensor y = fc.forward(x);   // x: (..., 784) -> (..., 128)
#pragma once
#include "koan/nn/module.h"

namespace koan::nn {

struct LinearOptions {
  int64_t in = 0;
  int64_t out = 0;
  bool bias = true;
  DType dtype = kDefaultFloat;
};

class Linear : public Module {
 public:
  explicit Linear(LinearOptions o);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const LinearOptions& options() const { return opts_; }

  Tensor weight;  // (out, in)
  Tensor bias;    // (out), undefined without bias

 private:
  LinearOptions opts_;
};

}  // namespace koan::nn
