// Loss modules (torch.nn.*Loss) over the functional losses in <koan/ops/loss.h>, and weight
// penalties for regularising a chosen list of tensors.
//
//   nn::CrossEntropyLoss criterion({.label_smoothing = 0.1});
//   Tensor loss = criterion.forward(model->forward(x), labels);
//   nn::BCEWithLogitsLoss bce({.pos_weight = koan::full({5}, 3.0)});
//   Tensor reg = koan::l2_penalty(model->parameters()) * 1e-4;   // sum of squares
//   (loss + reg).backward();
//
// Class weights and pos_weight are registered as buffers (as PyTorch does), so they follow
// to(dtype) and appear in state_dict().
#pragma once
#include "koan/nn/module.h"
#include "koan/ops/loss.h"

namespace koan {

// sum over tensors of sum(|p|); a 0-d tensor (0 for an empty list), differentiable in each p.
Tensor l1_penalty(const std::vector<Tensor>& params);
// sum over tensors of sum(p^2) (no 1/2 factor); gradient 2p.
Tensor l2_penalty(const std::vector<Tensor>& params);

}  // namespace koan

namespace koan::nn {

// A loss: forward(input, target) -> the loss tensor.
class Loss : public Module {
 public:
  using Module::Module;
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  using Module::forward;
};

struct MSELossOptions {
  Reduction reduction = Reduction::Mean;
};
class MSELoss : public Loss {
 public:
  explicit MSELoss(MSELossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const MSELossOptions& options() const { return opts_; }

 private:
  MSELossOptions opts_;
};

struct L1LossOptions {
  Reduction reduction = Reduction::Mean;
};
class L1Loss : public Loss {
 public:
  explicit L1Loss(L1LossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const L1LossOptions& options() const { return opts_; }

 private:
  L1LossOptions opts_;
};

struct SmoothL1LossOptions {
  Reduction reduction = Reduction::Mean;
  double beta = 1.0;
};
class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(SmoothL1LossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const SmoothL1LossOptions& options() const { return opts_; }

 private:
  SmoothL1LossOptions opts_;
};

struct HuberLossOptions {
  Reduction reduction = Reduction::Mean;
  double delta = 1.0;
};
class HuberLoss : public Loss {
 public:
  explicit HuberLoss(HuberLossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const HuberLossOptions& options() const { return opts_; }

 private:
  HuberLossOptions opts_;
};

struct BCELossOptions {
  Tensor weight = {};  // broadcast to the input; buffer "weight"
  Reduction reduction = Reduction::Mean;
};
class BCELoss : public Loss {
 public:
  explicit BCELoss(BCELossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const BCELossOptions& options() const { return opts_; }

  Tensor weight;

 private:
  BCELossOptions opts_;
};

struct BCEWithLogitsLossOptions {
  Tensor weight = {};      // buffer "weight"
  Tensor pos_weight = {};  // (C), buffer "pos_weight"
  Reduction reduction = Reduction::Mean;
};
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const BCEWithLogitsLossOptions& options() const { return opts_; }

  Tensor weight, pos_weight;

 private:
  BCEWithLogitsLossOptions opts_;
};

using CrossEntropyLossOptions = CrossEntropyOptions;
class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(CrossEntropyLossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const CrossEntropyLossOptions& options() const { return opts_; }

  Tensor weight;

 private:
  CrossEntropyLossOptions opts_;
};

using NLLLossOptions = NllLossOptions;
class NLLLoss : public Loss {
 public:
  explicit NLLLoss(NLLLossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const NLLLossOptions& options() const { return opts_; }

  Tensor weight;

 private:
  NLLLossOptions opts_;
};

struct KLDivLossOptions {
  std::string reduction = "mean";  // "none" | "mean" | "sum" | "batchmean"
  bool log_target = false;
};
class KLDivLoss : public Loss {
 public:
  explicit KLDivLoss(KLDivLossOptions o = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::shared_ptr<Module> clone() const override;
  std::string repr() const override;
  const KLDivLossOptions& options() const { return opts_; }

 private:
  KLDivLossOptions opts_;
};

}  // namespace koan::nn
