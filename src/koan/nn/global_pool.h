// Pooling over a whole sequence, as Keras's GlobalMaxPooling1D / GlobalAveragePooling1D: a
// batch-first sequence (B, T, C) becomes one vector per example (B, C).  A sentence classifier
// reads the outputs of an RNN at every step and keeps each feature's largest (or mean) value, so
// the result does not depend on the sentence's length.  No parameters.
//
//   nn::GlobalMaxPool1d pool;                 // (B, T, C) -> (B, C): max over T
//   nn::GlobalAvgPool1d mean({.dim = 2});     // (B, C, T) -> (B, C): mean over T (channels first)
//
// Gradients: the max sends each feature's gradient to the step that holds its maximum (split
// evenly among ties, as torch.amax); the mean spreads it evenly.
#pragma once
#include "koan/nn/module.h"

namespace koan::nn {

struct GlobalPool1dOptions {
  int64_t dim = 1;  // the time dim of a 3-D input: 1 for (B, T, C), 2 for (B, C, T)
};

class GlobalMaxPool1d : public Module {
 public:
  explicit GlobalMaxPool1d(GlobalPool1dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const GlobalPool1dOptions& options() const { return opts_; }

 private:
  GlobalPool1dOptions opts_;
};

class GlobalAvgPool1d : public Module {
 public:
  explicit GlobalAvgPool1d(GlobalPool1dOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const GlobalPool1dOptions& options() const { return opts_; }

 private:
  GlobalPool1dOptions opts_;
};

}  // namespace koan::nn
