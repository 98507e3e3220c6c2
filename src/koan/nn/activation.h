// Activation modules: thin wrappers over the ops, so they can sit in a Sequential.
//
//   nn::Sequential net{std::make_shared<nn::Linear>(...), std::make_shared<nn::ReLU>()};
#pragma once
#include "koan/nn/module.h"

namespace koan::nn {

// A parameter-free module computing f(x); clone() is a fresh copy.
template <class Derived>
class Activation : public Module {
 public:
  using Module::Module;
  std::shared_ptr<Module> clone() const override {
    return std::make_shared<Derived>(static_cast<const Derived&>(*this));
  }
};

class ReLU : public Activation<ReLU> {
 public:
  ReLU() : Activation("ReLU") {}
  Tensor forward(const Tensor& x) override;
};
class LeakyReLU : public Activation<LeakyReLU> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : Activation("LeakyReLU"), slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;

 private:
  double slope_;
};
class ELU : public Activation<ELU> {
 public:
  explicit ELU(double alpha = 1.0) : Activation("ELU"), alpha_(alpha) {}
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;

 private:
  double alpha_;
};
class GELU : public Activation<GELU> {
 public:
  explicit GELU(std::string approximate = "none") : Activation("GELU"), approx_(std::move(approximate)) {}
  Tensor forward(const Tensor& x) override;

 private:
  std::string approx_;
};
class SiLU : public Activation<SiLU> {
 public:
  SiLU() : Activation("SiLU") {}
  Tensor forward(const Tensor& x) override;
};
class Sigmoid : public Activation<Sigmoid> {
 public:
  Sigmoid() : Activation("Sigmoid") {}
  Tensor forward(const Tensor& x) override;
};
class Tanh : public Activation<Tanh> {
 public:
  Tanh() : Activation("Tanh") {}
  Tensor forward(const Tensor& x) override;
};
class Softmax : public Activation<Softmax> {
 public:
  explicit Softmax(int64_t dim = -1) : Activation("Softmax"), dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;

 private:
  int64_t dim_;
};
class LogSoftmax : public Activation<LogSoftmax> {
 public:
  explicit LogSoftmax(int64_t dim = -1) : Activation("LogSoftmax"), dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;

 private:
  int64_t dim_;
};
class Identity : public Activation<Identity> {
 public:
  Identity() : Activation("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

}  // namespace koan::nn
