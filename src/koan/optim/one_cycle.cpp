// OneCycleLR, following torch 1.13's constructor checks and get_lr() branch for branch.
#include "koan/optim/one_cycle.h"

#include <cmath>
#include <numbers>

namespace koan::optim {
namespace {

double anneal(Anneal a, double start, double end, double pct) {
  if (a == Anneal::Linear) return (end - start) * pct + start;
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
}

}  // namespace

OneCycleLR::OneCycleLR(Optimizer& opt, OneCycleLROptions o) : LRScheduler(opt), o_(std::move(o)) {
  if (o_.total_steps == 0) {
    KOAN_CHECK(o_.epochs > 0 || o_.steps_per_epoch > 0, ValueError,
               "OneCycleLR: give total_steps, or epochs and steps_per_epoch");
    KOAN_CHECK(o_.epochs > 0, ValueError, "OneCycleLR: epochs must be positive, got ", o_.epochs);
    KOAN_CHECK(o_.steps_per_epoch > 0, ValueError, "OneCycleLR: steps_per_epoch must be positive, got ",
               o_.steps_per_epoch);
    total_steps_ = o_.epochs * o_.steps_per_epoch;
  } else {
    KOAN_CHECK(o_.total_steps > 0, ValueError, "OneCycleLR: total_steps must be positive, got ", o_.total_steps);
    total_steps_ = o_.total_steps;
  }
  KOAN_CHECK(o_.pct_start >= 0 && o_.pct_start <= 1, ValueError, "OneCycleLR: pct_start must be in [0, 1], got ",
             o_.pct_start);
  KOAN_CHECK(o_.div_factor > 0 && o_.final_div_factor > 0, ValueError,
             "OneCycleLR: div_factor and final_div_factor must be positive, got ", o_.div_factor, " and ",
             o_.final_div_factor);
  const size_t groups = num_groups();
  KOAN_CHECK(o_.max_lr.size() == 1 || o_.max_lr.size() == groups, ValueError, "OneCycleLR: expected 1 or ", groups,
             " values for max_lr, got ", o_.max_lr.size());
  max_lrs_ = o_.max_lr.size() == 1 ? std::vector<double>(groups, o_.max_lr[0]) : o_.max_lr;

  const double T = static_cast<double>(total_steps_), pct_end = o_.pct_start * T - 1;
  if (o_.three_phase)
    phases_ = {{pct_end, Initial, Max, MaxMomentum, BaseMomentum},
               {2 * o_.pct_start * T - 2, Max, Initial, BaseMomentum, MaxMomentum},
               {T - 1, Initial, Min, MaxMomentum, MaxMomentum}};
  else
    phases_ = {{pct_end, Initial, Max, MaxMomentum, BaseMomentum}, {T - 1, Max, Min, BaseMomentum, MaxMomentum}};

  if (o_.cycle_momentum) {
    Scalars s = opt.group_options(0);
    momentum_key_ = s.count("betas.0") ? "betas.0" : s.count("momentum") ? "momentum" : "";
    KOAN_CHECK(!momentum_key_.empty(), ValueError, "OneCycleLR: ", opt.name(),
               " has no momentum or betas to cycle; set cycle_momentum = false");
    for (size_t g = 0; g < groups; ++g) opt.set_group_option(g, momentum_key_, o_.max_momentum);
  }
  // torch sets initial_lr before the base class reads it, so base_lrs are max_lr / div_factor.
  for (size_t g = 0; g < groups; ++g) {
    opt.set_initial_lr(g, max_lrs_[g] / o_.div_factor);
    base_lrs_[g] = max_lrs_[g] / o_.div_factor;
  }
  initial_step();
}

double OneCycleLR::level(size_t g, Level l) const {
  switch (l) {
    case Initial: return max_lrs_[g] / o_.div_factor;
    case Max: return max_lrs_[g];
    case Min: return max_lrs_[g] / o_.div_factor / o_.final_div_factor;
    case BaseMomentum: return o_.base_momentum;
    case MaxMomentum: return o_.max_momentum;
  }
  return 0;
}

std::vector<double> OneCycleLR::get_lr() {
  const int64_t t = last_epoch_;
  KOAN_CHECK(t <= total_steps_, ValueError, "OneCycleLR: tried to step ", t + 1, " times; total_steps is ",
             total_steps_);
  std::vector<double> lrs;
  for (size_t g = 0; g < num_groups(); ++g) {
    double start = 0, lr = 0, momentum = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& p = phases_[i];
      if (static_cast<double>(t) <= p.end_step || i + 1 == phases_.size()) {
        const double pct = (static_cast<double>(t) - start) / (p.end_step - start);
        lr = anneal(o_.anneal_strategy, level(g, p.start_lr), level(g, p.end_lr), pct);
        momentum = anneal(o_.anneal_strategy, level(g, p.start_momentum), level(g, p.end_momentum), pct);
        break;
      }
      start = p.end_step;
    }
    lrs.push_back(lr);
    if (!momentum_key_.empty()) opt_->set_group_option(g, momentum_key_, momentum);
  }
  return lrs;
}

}  // namespace koan::optim
