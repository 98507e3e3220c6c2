// Pooling layers and Flatten, as torch.nn.MaxPool1d / MaxPool2d / AvgPool2d / AdaptiveAvgPool2d /
// Flatten.  They hold no parameters.
//
//   nn::MaxPool2d pool(2);                                    // kernel 2, stride 2
//   nn::MaxPool2d olap({.kernel = 3, .stride = 2, .padding = 1});
//   nn::AvgPool2d avg({.kernel = {3, 2}, .count_include_pad = false});
//   nn::AdaptiveAvgPool2d gap(1);                             // (N, C, H, W) -> (N, C, 1, 1)
//   nn::Flatten flat;                                         // (N, C, H, W) -> (N, C * H * W)
#pragma once
#include <optional>

#include "koan/nn/module.h"
#include "koan/ops/pool.h"

namespace koan::nn {

struct MaxPool1dOptions {
  int64_t kernel = 0;
  std::optional<int64_t> stride;  // default: kernel
  int64_t padding = 0;
  int64_t dilation = 1;
  bool ceil_mode = false;
};

struct MaxPool2dOptions {
  Int2 kernel = 0;
  std::optional<Int2> stride;  // default: kernel
  Int2 padding = 0;
  Int2 dilation = 1;
  bool ceil_mode = false;
};

struct AvgPool2dOptions {
  Int2 kernel = 0;
  std::optional<Int2> stride;  // default: kernel
  Int2 padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

struct AdaptiveAvgPool2dOptions {
  Int2 output_size = 0;
};

struct FlattenOptions {
  int64_t start_dim = 1;
  int64_t end_dim = -1;
};

class MaxPool1d : public Module {
 public:
  explicit MaxPool1d(MaxPool1dOptions o);
  explicit MaxPool1d(int64_t kernel) : MaxPool1d(MaxPool1dOptions{.kernel = kernel}) {}
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const MaxPool1dOptions& options() const { return opts_; }

 private:
  MaxPool1dOptions opts_;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(MaxPool2dOptions o);
  explicit MaxPool2d(Int2 kernel) : MaxPool2d(MaxPool2dOptions{.kernel = kernel}) {}
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const MaxPool2dOptions& options() const { return opts_; }

 private:
  MaxPool2dOptions opts_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(AvgPool2dOptions o);
  explicit AvgPool2d(Int2 kernel) : AvgPool2d(AvgPool2dOptions{.kernel = kernel}) {}
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const AvgPool2dOptions& options() const { return opts_; }

 private:
  AvgPool2dOptions opts_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions o);
  explicit AdaptiveAvgPool2d(Int2 output_size) : AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions{output_size}) {}
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const AdaptiveAvgPool2dOptions& options() const { return opts_; }

 private:
  AdaptiveAvgPool2dOptions opts_;
};

// Flattens dims start_dim..end_dim into one (by default all but the batch dim).
class Flatten : public Module {
 public:
  explicit Flatten(FlattenOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const FlattenOptions& options() const { return opts_; }

 private:
  FlattenOptions opts_;
};

}  // namespace koan::nn
