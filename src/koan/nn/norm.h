// Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm, as in torch.nn (same defaults,
// same buffers and state_dict names).
//
//   nn::BatchNorm2d bn({.num_features = 32});          // after a Conv2d with 32 channels
//   Tensor y = bn.forward(x);                          // training: batch statistics
//   bn.eval();                                         // now: running_mean / running_var
//   nn::LayerNorm ln({.normalized_shape = {512}});
#pragma once
#include <optional>

#include "koan/nn/module.h"

namespace koan::nn {

struct BatchNormOptions {
  int64_t num_features = 0;
  double eps = 1e-5;
  // Weight of the newest batch in the running statistics; nullopt gives the cumulative average
  // (1 / num_batches_tracked), as torch's momentum=None.
  std::optional<double> momentum = 0.1;
  bool affine = true;               // learnable weight (ones) and bias (zeros)
  bool track_running_stats = true;  // without: batch statistics in eval mode too, no buffers
  DType dtype = kDefaultFloat;
};

// The shared body of BatchNorm1d / BatchNorm2d; they differ only in the input dims they accept.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;
  const BatchNormOptions& options() const { return opts_; }

  Tensor weight, bias;                 // (C) parameters, undefined without affine
  Tensor running_mean, running_var;    // (C) buffers, undefined without track_running_stats
  Tensor num_batches_tracked;          // 0-d int64 buffer

 protected:
  BatchNorm(const char* type, BatchNormOptions o);
  virtual void check_input(const Tensor& x) const = 0;
  BatchNormOptions opts_;
};

// Input (N, C) or (N, C, L).
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(BatchNormOptions o);
  std::shared_ptr<Module> clone() const override;

 protected:
  void check_input(const Tensor& x) const override;
};

// Input (N, C, H, W).
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(BatchNormOptions o);
  std::shared_ptr<Module> clone() const override;

 protected:
  void check_input(const Tensor& x) const override;
};

struct LayerNormOptions {
  Shape normalized_shape;  // the trailing dims normalised over
  double eps = 1e-5;
  bool elementwise_affine = true;  // weight (ones) and bias (zeros) of normalized_shape
  DType dtype = kDefaultFloat;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(LayerNormOptions o);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const LayerNormOptions& options() const { return opts_; }

  Tensor weight, bias;  // undefined without elementwise_affine

 private:
  LayerNormOptions opts_;
};

}  // namespace koan::nn
