#include "koan/optim/plateau.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace koan::optim {

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, ReduceLROnPlateauOptions o) : opt_(&opt), o_(std::move(o)) {
  KOAN_CHECK(o_.factor < 1.0, ValueError, "ReduceLROnPlateau: factor must be < 1, got ", o_.factor);
  KOAN_CHECK(o_.mode == "min" || o_.mode == "max", ValueError, "ReduceLROnPlateau: mode '", o_.mode,
             "' is unknown (min or max)");
  KOAN_CHECK(o_.threshold_mode == "rel" || o_.threshold_mode == "abs", ValueError,
             "ReduceLROnPlateau: threshold mode '", o_.threshold_mode, "' is unknown (rel or abs)");
  if (o_.min_lrs.empty()) o_.min_lrs.assign(opt.num_param_groups(), o_.min_lr);
  KOAN_CHECK(o_.min_lrs.size() == opt.num_param_groups(), ValueError, "ReduceLROnPlateau: expected ",
             opt.num_param_groups(), " min_lrs, got ", o_.min_lrs.size());
  best_ = worst();
  for (size_t g = 0; g < opt.num_param_groups(); ++g) last_lr_.push_back(opt.lr(g));
}

double ReduceLROnPlateau::worst() const {
  return o_.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  bool rel = o_.threshold_mode == "rel";
  if (o_.mode == "min") return rel ? a < best * (1. - o_.threshold) : a < best - o_.threshold;
  return rel ? a > best * (o_.threshold + 1.) : a > best + o_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (in_cooldown()) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs in cooldown don't count
  }
  if (num_bad_epochs_ > o_.patience) {
    for (size_t g = 0; g < opt_->num_param_groups(); ++g) {
      double old_lr = opt_->lr(g);
      double new_lr = std::max(old_lr * o_.factor, o_.min_lrs[g]);
      if (old_lr - new_lr > o_.eps) opt_->set_lr(g, new_lr);
    }
    cooldown_counter_ = o_.cooldown;
    num_bad_epochs_ = 0;
  }
  last_lr_.clear();
  for (size_t g = 0; g < opt_->num_param_groups(); ++g) last_lr_.push_back(opt_->lr(g));
}

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict sd;
  sd.scalars["last_epoch"] = static_cast<double>(last_epoch_);
  sd.scalars["num_bad_epochs"] = static_cast<double>(num_bad_epochs_);
  sd.scalars["cooldown_counter"] = static_cast<double>(cooldown_counter_);
  if (std::isfinite(best_)) sd.scalars["best"] = best_;
  return sd;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& sd) {
  auto get = [&](const char* key) {
    auto it = sd.scalars.find(key);
    KOAN_CHECK(it != sd.scalars.end(), ValueError, "ReduceLROnPlateau.load_state_dict: missing key '", key, "'");
    return it->second;
  };
  int64_t last = static_cast<int64_t>(get("last_epoch"));
  int64_t bad = static_cast<int64_t>(get("num_bad_epochs"));
  int64_t cool = static_cast<int64_t>(get("cooldown_counter"));
  auto it = sd.scalars.find("best");
  best_ = it == sd.scalars.end() ? worst() : it->second;
  last_epoch_ = last, num_bad_epochs_ = bad, cooldown_counter_ = cool;
}

}  // namespace koan::optim
