#include "koan/nn/loss.h"

#include "koan/ops/binary.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan {

namespace {
Tensor penalty(const std::vector<Tensor>& params, bool squared) {
  Tensor total;
  for (const Tensor& p : params) {
    KOAN_CHECK(p.defined(), ValueError, squared ? "l2_penalty" : "l1_penalty", ": undefined tensor in the list");
    Tensor term = sum(squared ? square(p) : abs(p));
    total = total.defined() ? add(total, term) : term;
  }
  return total.defined() ? total : zeros({});
}
}  // namespace

Tensor l1_penalty(const std::vector<Tensor>& params) { return penalty(params, false); }
Tensor l2_penalty(const std::vector<Tensor>& params) { return penalty(params, true); }

}  // namespace koan

namespace koan::nn {

namespace {
// A copy for clone(): weights are buffers, which clone() must not share.
Tensor copy_of(const Tensor& t) { return t.defined() ? t.detach().clone() : Tensor(); }

template <class L>
std::shared_ptr<Module> finish_clone(std::shared_ptr<L> c, const Module& from) {
  c->train(from.is_training());
  return c;
}
}  // namespace

// ---- MSELoss, L1Loss, SmoothL1Loss, HuberLoss
MSELoss::MSELoss(MSELossOptions o) : Loss("MSELoss"), opts_(o) {}
Tensor MSELoss::forward(const Tensor& input, const Tensor& target) {
  return mse_loss(input, target, opts_.reduction);
}
std::shared_ptr<Module> MSELoss::clone() const { return finish_clone(std::make_shared<MSELoss>(opts_), *this); }
std::string MSELoss::repr() const { return str("MSELoss(reduction=", reduction_name(opts_.reduction), ")"); }

L1Loss::L1Loss(L1LossOptions o) : Loss("L1Loss"), opts_(o) {}
Tensor L1Loss::forward(const Tensor& input, const Tensor& target) {
  return l1_loss(input, target, opts_.reduction);
}
std::shared_ptr<Module> L1Loss::clone() const { return finish_clone(std::make_shared<L1Loss>(opts_), *this); }
std::string L1Loss::repr() const { return str("L1Loss(reduction=", reduction_name(opts_.reduction), ")"); }

SmoothL1Loss::SmoothL1Loss(SmoothL1LossOptions o) : Loss("SmoothL1Loss"), opts_(o) {
  KOAN_CHECK(o.beta >= 0, ValueError, "SmoothL1Loss: beta must be >= 0, got ", o.beta);
}
Tensor SmoothL1Loss::forward(const Tensor& input, const Tensor& target) {
  return smooth_l1_loss(input, target, opts_.reduction, opts_.beta);
}
std::shared_ptr<Module> SmoothL1Loss::clone() const {
  return finish_clone(std::make_shared<SmoothL1Loss>(opts_), *this);
}
std::string SmoothL1Loss::repr() const {
  return str("SmoothL1Loss(reduction=", reduction_name(opts_.reduction), ", beta=", opts_.beta, ")");
}

HuberLoss::HuberLoss(HuberLossOptions o) : Loss("HuberLoss"), opts_(o) {
  KOAN_CHECK(o.delta > 0, ValueError, "HuberLoss: delta must be > 0, got ", o.delta);
}
Tensor HuberLoss::forward(const Tensor& input, const Tensor& target) {
  return huber_loss(input, target, opts_.reduction, opts_.delta);
}
std::shared_ptr<Module> HuberLoss::clone() const { return finish_clone(std::make_shared<HuberLoss>(opts_), *this); }
std::string HuberLoss::repr() const {
  return str("HuberLoss(reduction=", reduction_name(opts_.reduction), ", delta=", opts_.delta, ")");
}

// ---- BCELoss, BCEWithLogitsLoss
BCELoss::BCELoss(BCELossOptions o) : Loss("BCELoss"), opts_(o) {
  if (o.weight.defined()) weight = register_buffer("weight", o.weight);
}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy(input, target, weight, opts_.reduction);
}
std::shared_ptr<Module> BCELoss::clone() const {
  BCELossOptions o = opts_;
  o.weight = copy_of(weight);
  return finish_clone(std::make_shared<BCELoss>(o), *this);
}
std::string BCELoss::repr() const {
  return str("BCELoss(reduction=", reduction_name(opts_.reduction), weight.defined() ? ", weight" : "", ")");
}

BCEWithLogitsLoss::BCEWithLogitsLoss(BCEWithLogitsLossOptions o) : Loss("BCEWithLogitsLoss"), opts_(o) {
  if (o.weight.defined()) weight = register_buffer("weight", o.weight);
  if (o.pos_weight.defined()) pos_weight = register_buffer("pos_weight", o.pos_weight);
}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy_with_logits(input, target, weight, pos_weight, opts_.reduction);
}
std::shared_ptr<Module> BCEWithLogitsLoss::clone() const {
  BCEWithLogitsLossOptions o = opts_;
  o.weight = copy_of(weight);
  o.pos_weight = copy_of(pos_weight);
  return finish_clone(std::make_shared<BCEWithLogitsLoss>(o), *this);
}
std::string BCEWithLogitsLoss::repr() const {
  return str("BCEWithLogitsLoss(reduction=", reduction_name(opts_.reduction), weight.defined() ? ", weight" : "",
             pos_weight.defined() ? ", pos_weight" : "", ")");
}

// ---- CrossEntropyLoss, NLLLoss, KLDivLoss
CrossEntropyLoss::CrossEntropyLoss(CrossEntropyLossOptions o) : Loss("CrossEntropyLoss"), opts_(o) {
  KOAN_CHECK(o.label_smoothing >= 0 && o.label_smoothing <= 1, ValueError,
             "CrossEntropyLoss: label_smoothing must be in [0, 1], got ", o.label_smoothing);
  if (o.weight.defined()) weight = register_buffer("weight", o.weight);
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  CrossEntropyOptions o = opts_;
  o.weight = weight;  // the buffer: follows to(dtype) and load_state_dict
  return cross_entropy(input, target, o);
}
std::shared_ptr<Module> CrossEntropyLoss::clone() const {
  CrossEntropyLossOptions o = opts_;
  o.weight = copy_of(weight);
  return finish_clone(std::make_shared<CrossEntropyLoss>(o), *this);
}
std::string CrossEntropyLoss::repr() const {
  return str("CrossEntropyLoss(reduction=", reduction_name(opts_.reduction), ", ignore_index=", opts_.ignore_index,
             ", label_smoothing=", opts_.label_smoothing, weight.defined() ? ", weight" : "", ")");
}

NLLLoss::NLLLoss(NLLLossOptions o) : Loss("NLLLoss"), opts_(o) {
  if (o.weight.defined()) weight = register_buffer("weight", o.weight);
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  NllLossOptions o = opts_;
  o.weight = weight;
  return nll_loss(input, target, o);
}
std::shared_ptr<Module> NLLLoss::clone() const {
  NLLLossOptions o = opts_;
  o.weight = copy_of(weight);
  return finish_clone(std::make_shared<NLLLoss>(o), *this);
}
std::string NLLLoss::repr() const {
  return str("NLLLoss(reduction=", reduction_name(opts_.reduction), ", ignore_index=", opts_.ignore_index,
             weight.defined() ? ", weight" : "", ")");
}

KLDivLoss::KLDivLoss(KLDivLossOptions o) : Loss("KLDivLoss"), opts_(std::move(o)) {
  const std::string& r = opts_.reduction;
  KOAN_CHECK(r == "none" || r == "mean" || r == "sum" || r == "batchmean", ValueError,
             "KLDivLoss: reduction must be \"none\", \"mean\", \"sum\" or \"batchmean\", got \"", r, "\"");
}
Tensor KLDivLoss::forward(const Tensor& input, const Tensor& target) {
  return kl_div(input, target, opts_.reduction, opts_.log_target);
}
std::shared_ptr<Module> KLDivLoss::clone() const { return finish_clone(std::make_shared<KLDivLoss>(opts_), *this); }
std::string KLDivLoss::repr() const {
  return str("KLDivLoss(reduction=", opts_.reduction, opts_.log_target ? ", log_target=true" : "", ")");
}

}  // namespace koan::nn
