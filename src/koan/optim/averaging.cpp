#include "koan/optim/averaging.h"

#include <algorithm>

#include "koan/autograd/grad_mode.h"
#include "koan/ops/binary.h"
#include "koan/ops/inplace.h"
#include "koan/ops/shape.h"

namespace koan::optim {

WeightAverage::WeightAverage(std::vector<Tensor> params, const char* name) : name_(name), params_(std::move(params)) {
  NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    KOAN_CHECK(params_[i].defined() && params_[i].is_floating_point(), ValueError, name_, ": parameter ", i,
               " is undefined or not floating");
    avg_.push_back(clone(detach(params_[i])));
  }
}

void WeightAverage::check_match(const std::vector<Tensor>& params, const char* op) const {
  KOAN_CHECK(params.size() == avg_.size(), ValueError, name_, ".", op, ": ", params.size(),
             " parameters given but the average has ", avg_.size());
  for (size_t i = 0; i < params.size(); ++i)
    KOAN_CHECK(params[i].defined() && params[i].shape() == avg_[i].shape(), ShapeError, name_, ".", op,
               ": parameter ", i, " has shape ", params[i].defined() ? params[i].shape() : Shape{},
               " but its average has shape ", avg_[i].shape());
}

void WeightAverage::apply_to(const std::vector<Tensor>& params) {
  check_match(params, "apply_to");
  NoGradGuard ng;
  backup_.clear();
  for (size_t i = 0; i < params.size(); ++i) {
    backup_.push_back(clone(detach(params[i])));
    Tensor p = params[i];
    copy_(p, avg_[i]);
  }
}

void WeightAverage::restore(const std::vector<Tensor>& params) {
  check_match(params, "restore");
  KOAN_CHECK(backup_.size() == params.size(), ValueError, name_, ".restore: nothing to restore (call apply_to first)");
  NoGradGuard ng;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i];
    copy_(p, backup_[i]);
  }
  backup_.clear();
}

StateDict WeightAverage::state_dict() const {
  StateDict sd;
  NoGradGuard ng;
  for (size_t i = 0; i < avg_.size(); ++i) sd.tensors["averaged." + std::to_string(i)] = clone(avg_[i]);
  sd.scalars["num_updates"] = static_cast<double>(num_updates_);
  return sd;
}

void WeightAverage::load_state_dict(const StateDict& sd) {
  std::vector<Tensor> vals;
  for (size_t i = 0; i < avg_.size(); ++i) {
    std::string key = "averaged." + std::to_string(i);
    auto it = sd.tensors.find(key);
    KOAN_CHECK(it != sd.tensors.end(), ValueError, name_, ".load_state_dict: missing '", key, "'");
    KOAN_CHECK(it->second.shape() == avg_[i].shape(), ShapeError, name_, ".load_state_dict: '", key, "' has shape ",
               it->second.shape(), ", expected ", avg_[i].shape());
    vals.push_back(it->second);
  }
  KOAN_CHECK(sd.tensors.size() == avg_.size(), ValueError, name_, ".load_state_dict: ", sd.tensors.size(),
             " tensors for ", avg_.size(), " averaged parameters");
  auto n = sd.scalars.find("num_updates");
  KOAN_CHECK(n != sd.scalars.end(), ValueError, name_, ".load_state_dict: missing 'num_updates'");
  NoGradGuard ng;
  for (size_t i = 0; i < avg_.size(); ++i) copy_(avg_[i], vals[i]);
  num_updates_ = static_cast<int64_t>(n->second);
}

// ---- EMA

EMA::EMA(std::vector<Tensor> params, EMAOptions o) : WeightAverage(std::move(params), "EMA"), o_(o) {
  KOAN_CHECK(o.decay >= 0 && o.decay <= 1, ValueError, "EMA: decay must be in [0, 1], got ", o.decay);
}

double EMA::current_decay() const {
  if (!o_.warmup) return o_.decay;
  double t = static_cast<double>(num_updates_);
  return std::min(o_.decay, (1 + t) / (10 + t));
}

void EMA::update() {
  NoGradGuard ng;
  double d = current_decay();
  for (size_t i = 0; i < avg_.size(); ++i) {
    mul_(avg_[i], d);
    add_(avg_[i], params_[i], 1 - d);
  }
  ++num_updates_;
}

// ---- SWA

SWA::SWA(std::vector<Tensor> params) : WeightAverage(std::move(params), "SWA") {}

void SWA::update() {
  NoGradGuard ng;
  for (size_t i = 0; i < avg_.size(); ++i) {
    if (num_updates_ == 0) {
      copy_(avg_[i], params_[i]);
    } else {
      // torch's avg_fn: avg + (p - avg) / (n + 1)
      add_(avg_[i], div(sub(params_[i], avg_[i]), static_cast<double>(num_updates_ + 1)));
    }
  }
  ++num_updates_;
}

}  // namespace koan::optim
