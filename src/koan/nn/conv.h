// Convolution layers, as torch.nn.Conv1d / Conv2d / ConvTranspose2d (same default initialisation:
// weight and bias uniform in +-1/sqrt(fan_in)).
//
//   nn::Conv2d conv({.in = 1, .out = 32, .kernel = 3});                     // (N, 1, 28, 28) -> (N, 32, 26, 26)
//   nn::Conv2d down({.in = 32, .out = 64, .kernel = {3, 5}, .stride = 2, .padding = {1, 2}});
//   nn::Conv2d keep({.in = 8, .out = 8, .kernel = 3, .padding = "same", .groups = 8, .bias = false});
//   nn::Conv2d fused({.in = 1, .out = 32, .kernel = 3, .activation = "relu"});  // relu(conv(x)), one pass
//   nn::ConvTranspose2d up({.in = 64, .out = 32, .kernel = 4, .stride = 2, .padding = 1});
//   nn::Conv1d seq({.in = 16, .out = 32, .kernel = 5, .padding = 2});       // (N, 16, L) -> (N, 32, L)
#pragma once
#include <string>

#include "koan/nn/module.h"
#include "koan/ops/conv.h"

namespace koan::nn {

struct Conv1dOptions {
  int64_t in = 0, out = 0;
  int64_t kernel = 0;
  int64_t stride = 1;
  Padding1 padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  DType dtype = kDefaultFloat;
};

struct Conv2dOptions {
  int64_t in = 0, out = 0;
  Int2 kernel = 0;
  Int2 stride = 1;
  Padding2 padding = 0;
  Int2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  DType dtype = kDefaultFloat;
  // "" or "relu": as Keras' Conv2D(activation=...).  "relu" runs conv2d_relu, which applies the
  // ReLU inside the convolution's kernel instead of in a pass of its own.
  std::string activation = "";
};

struct ConvTranspose2dOptions {
  int64_t in = 0, out = 0;
  Int2 kernel = 0;
  Int2 stride = 1;
  Int2 padding = 0;
  Int2 output_padding = 0;
  int64_t groups = 1;
  bool bias = true;
  Int2 dilation = 1;
  DType dtype = kDefaultFloat;
};

class Conv1d : public Module {
 public:
  explicit Conv1d(Conv1dOptions o);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const Conv1dOptions& options() const { return opts_; }

  Tensor weight;  // (out, in / groups, kernel)
  Tensor bias;    // (out), undefined without bias

 private:
  Conv1dOptions opts_;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(Conv2dOptions o);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const Conv2dOptions& options() const { return opts_; }

  Tensor weight;  // (out, in / groups, kh, kw)
  Tensor bias;    // (out), undefined without bias

 private:
  Conv2dOptions opts_;
};

class ConvTranspose2d : public Module {
 public:
  explicit ConvTranspose2d(ConvTranspose2dOptions o);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const ConvTranspose2dOptions& options() const { return opts_; }

  Tensor weight;  // (in, out / groups, kh, kw)
  Tensor bias;    // (out), undefined without bias

 private:
  ConvTranspose2dOptions opts_;
};

}  // namespace koan::nn
