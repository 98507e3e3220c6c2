// The base schedule and the single schedules; formulas and branches are torch 1.13's get_lr()
// and _get_closed_form_lr(), so trajectories (and rounding) match PyTorch's.
#include "koan/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace koan::optim {

LRScheduler::LRScheduler(Optimizer& opt) : opt_(&opt) {
  for (size_t g = 0; g < opt.num_param_groups(); ++g) {
    if (!opt.initial_lr(g)) opt.set_initial_lr(g, opt.lr(g));
    base_lrs_.push_back(*opt.initial_lr(g));
  }
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < num_groups(); ++g) lrs.push_back(opt_->lr(g));
  return lrs;
}

void LRScheduler::apply(const std::vector<double>& lrs) {
  KOAN_CHECK(lrs.size() == num_groups(), ValueError, "LRScheduler: ", lrs.size(), " lrs for ", num_groups(),
             " param groups (were groups added after the schedule was made?)");
  for (size_t g = 0; g < lrs.size(); ++g) opt_->set_lr(g, lrs[g]);
  last_lr_ = group_lrs();
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  apply(get_lr());
}

void LRScheduler::step_to(int64_t epoch) {
  ++step_count_;
  last_epoch_ = epoch;
  auto closed = closed_form_lr();
  apply(closed ? *closed : get_lr());
}

StateDict LRScheduler::state_dict() const {
  StateDict sd;
  sd.scalars["last_epoch"] = static_cast<double>(last_epoch_);
  sd.scalars["step_count"] = static_cast<double>(step_count_);
  for (size_t g = 0; g < base_lrs_.size(); ++g) sd.scalars["base_lrs." + std::to_string(g)] = base_lrs_[g];
  for (size_t g = 0; g < last_lr_.size(); ++g) sd.scalars["last_lr." + std::to_string(g)] = last_lr_[g];
  return sd;
}

void LRScheduler::load_state_dict(const StateDict& sd) {
  auto get = [&](const std::string& key) {
    auto it = sd.scalars.find(key);
    KOAN_CHECK(it != sd.scalars.end(), ValueError, "LRScheduler.load_state_dict: missing key '", key, "'");
    return it->second;
  };
  std::vector<double> base(num_groups()), last(num_groups());
  for (size_t g = 0; g < num_groups(); ++g) {
    base[g] = get("base_lrs." + std::to_string(g));
    last[g] = get("last_lr." + std::to_string(g));
  }
  last_epoch_ = static_cast<int64_t>(get("last_epoch"));
  step_count_ = static_cast<int64_t>(get("step_count"));
  base_lrs_ = base;
  last_lr_ = last;
}

namespace {
std::vector<double> scaled(const std::vector<double>& lrs, double factor) {
  std::vector<double> r(lrs);
  for (double& x : r) x *= factor;
  return r;
}
}  // namespace

// ---- LambdaLR, MultiplicativeLR

LambdaLR::LambdaLR(Optimizer& opt, Fn f) : LambdaLR(opt, std::vector<Fn>(opt.num_param_groups(), f)) {}
LambdaLR::LambdaLR(Optimizer& opt, std::vector<Fn> per_group) : LRScheduler(opt), fns_(std::move(per_group)) {
  KOAN_CHECK(fns_.size() == num_groups(), ValueError, "LambdaLR: expected ", num_groups(), " lr lambdas, got ",
             fns_.size());
  initial_step();
}
std::vector<double> LambdaLR::get_lr() {
  std::vector<double> r;
  for (size_t g = 0; g < fns_.size(); ++g) r.push_back(base_lrs_[g] * fns_[g](last_epoch_));
  return r;
}

MultiplicativeLR::MultiplicativeLR(Optimizer& opt, Fn f)
    : MultiplicativeLR(opt, std::vector<Fn>(opt.num_param_groups(), f)) {}
MultiplicativeLR::MultiplicativeLR(Optimizer& opt, std::vector<Fn> per_group)
    : LRScheduler(opt), fns_(std::move(per_group)) {
  KOAN_CHECK(fns_.size() == num_groups(), ValueError, "MultiplicativeLR: expected ", num_groups(),
             " lr lambdas, got ", fns_.size());
  initial_step();
}
std::vector<double> MultiplicativeLR::get_lr() {
  std::vector<double> r = group_lrs();
  if (last_epoch_ > 0)
    for (size_t g = 0; g < r.size(); ++g) r[g] *= fns_[g](last_epoch_);
  return r;
}

// ---- StepLR, MultiStepLR

StepLR::StepLR(Optimizer& opt, StepLROptions o) : LRScheduler(opt), o_(o) {
  KOAN_CHECK(o.step_size > 0, ValueError, "StepLR: step_size must be positive, got ", o.step_size);
  initial_step();
}
std::vector<double> StepLR::get_lr() {
  if (last_epoch_ == 0 || last_epoch_ % o_.step_size != 0) return group_lrs();
  return scaled(group_lrs(), o_.gamma);
}
std::optional<std::vector<double>> StepLR::closed_form_lr() const {
  return scaled(base_lrs_, std::pow(o_.gamma, static_cast<double>(last_epoch_ / o_.step_size)));
}

MultiStepLR::MultiStepLR(Optimizer& opt, MultiStepLROptions o) : LRScheduler(opt), o_(std::move(o)) {
  std::sort(o_.milestones.begin(), o_.milestones.end());
  initial_step();
}
std::vector<double> MultiStepLR::get_lr() {
  auto n = std::count(o_.milestones.begin(), o_.milestones.end(), last_epoch_);
  if (n == 0) return group_lrs();
  return scaled(group_lrs(), std::pow(o_.gamma, static_cast<double>(n)));
}
std::optional<std::vector<double>> MultiStepLR::closed_form_lr() const {
  auto passed = std::upper_bound(o_.milestones.begin(), o_.milestones.end(), last_epoch_) - o_.milestones.begin();
  return scaled(base_lrs_, std::pow(o_.gamma, static_cast<double>(passed)));
}

// ---- ConstantLR, LinearLR

ConstantLR::ConstantLR(Optimizer& opt, ConstantLROptions o) : LRScheduler(opt), o_(o) {
  KOAN_CHECK(o.factor >= 0 && o.factor <= 1, ValueError, "ConstantLR: factor must be in [0, 1], got ", o.factor);
  initial_step();
}
std::vector<double> ConstantLR::get_lr() {
  if (last_epoch_ == 0) return scaled(group_lrs(), o_.factor);
  if (last_epoch_ != o_.total_iters) return group_lrs();
  return scaled(group_lrs(), 1.0 / o_.factor);
}
std::optional<std::vector<double>> ConstantLR::closed_form_lr() const {
  return scaled(base_lrs_, o_.factor + (last_epoch_ >= o_.total_iters ? 1.0 : 0.0) * (1 - o_.factor));
}

LinearLR::LinearLR(Optimizer& opt, LinearLROptions o) : LRScheduler(opt), o_(o) {
  KOAN_CHECK(o.start_factor > 0 && o.start_factor <= 1, ValueError,
             "LinearLR: start_factor must be in (0, 1], got ", o.start_factor);
  KOAN_CHECK(o.end_factor >= 0 && o.end_factor <= 1, ValueError, "LinearLR: end_factor must be in [0, 1], got ",
             o.end_factor);
  KOAN_CHECK(o.total_iters > 0, ValueError, "LinearLR: total_iters must be positive, got ", o.total_iters);
  initial_step();
}
std::vector<double> LinearLR::get_lr() {
  if (last_epoch_ == 0) return scaled(group_lrs(), o_.start_factor);
  if (last_epoch_ > o_.total_iters) return group_lrs();
  double d = o_.end_factor - o_.start_factor;
  return scaled(group_lrs(), 1. + d / (static_cast<double>(o_.total_iters) * o_.start_factor +
                                       static_cast<double>(last_epoch_ - 1) * d));
}
std::optional<std::vector<double>> LinearLR::closed_form_lr() const {
  double t = static_cast<double>(std::min(o_.total_iters, last_epoch_));
  return scaled(base_lrs_, o_.start_factor + (o_.end_factor - o_.start_factor) * t / static_cast<double>(o_.total_iters));
}

// ---- ExponentialLR, PolynomialLR

ExponentialLR::ExponentialLR(Optimizer& opt, ExponentialLROptions o) : LRScheduler(opt), o_(o) { initial_step(); }
std::vector<double> ExponentialLR::get_lr() {
  if (last_epoch_ == 0) return group_lrs();
  return scaled(group_lrs(), o_.gamma);
}
std::optional<std::vector<double>> ExponentialLR::closed_form_lr() const {
  return scaled(base_lrs_, std::pow(o_.gamma, static_cast<double>(last_epoch_)));
}

PolynomialLR::PolynomialLR(Optimizer& opt, PolynomialLROptions o) : LRScheduler(opt), o_(o) {
  KOAN_CHECK(o.total_iters > 0, ValueError, "PolynomialLR: total_iters must be positive, got ", o.total_iters);
  initial_step();
}
std::vector<double> PolynomialLR::get_lr() {
  if (last_epoch_ == 0 || last_epoch_ > o_.total_iters) return group_lrs();
  double T = static_cast<double>(o_.total_iters), t = static_cast<double>(last_epoch_);
  return scaled(group_lrs(), std::pow((1.0 - t / T) / (1.0 - (t - 1) / T), o_.power));
}
std::optional<std::vector<double>> PolynomialLR::closed_form_lr() const {
  double T = static_cast<double>(o_.total_iters);
  return scaled(base_lrs_, std::pow(1.0 - static_cast<double>(std::min(o_.total_iters, last_epoch_)) / T, o_.power));
}

// ---- CosineAnnealingLR

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, CosineAnnealingLROptions o) : LRScheduler(opt), o_(o) {
  KOAN_CHECK(o.t_max > 0, ValueError, "CosineAnnealingLR: t_max must be positive, got ", o.t_max);
  initial_step();
}
std::vector<double> CosineAnnealingLR::get_lr() {
  constexpr double pi = std::numbers::pi;
  const double T = static_cast<double>(o_.t_max), t = static_cast<double>(last_epoch_), m = o_.eta_min;
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) return lrs;
  if ((last_epoch_ - 1 - o_.t_max) % (2 * o_.t_max) == 0) {
    // The trough of the wave: the ratio below would divide by zero; torch adds the rise instead.
    for (size_t g = 0; g < lrs.size(); ++g) lrs[g] += (base_lrs_[g] - m) * (1 - std::cos(pi / T)) / 2;
    return lrs;
  }
  for (double& lr : lrs) lr = (1 + std::cos(pi * t / T)) / (1 + std::cos(pi * (t - 1) / T)) * (lr - m) + m;
  return lrs;
}
std::optional<std::vector<double>> CosineAnnealingLR::closed_form_lr() const {
  constexpr double pi = std::numbers::pi;
  std::vector<double> r;
  for (double b : base_lrs_)
    r.push_back(o_.eta_min + (b - o_.eta_min) *
                                 (1 + std::cos(pi * static_cast<double>(last_epoch_) / static_cast<double>(o_.t_max))) / 2);
  return r;
}

}  // namespace koan::optim
