// SequentialLR and ChainedScheduler: schedules built from other schedules (torch 1.13 semantics).
#include <algorithm>

#include "koan/optim/lr_scheduler.h"

namespace koan::optim {

namespace {
void check_children(const std::vector<std::shared_ptr<LRScheduler>>& s, const Optimizer* opt, const char* who) {
  KOAN_CHECK(!s.empty(), ValueError, who, ": needs at least one schedule");
  for (size_t i = 0; i < s.size(); ++i) {
    KOAN_CHECK(s[i] != nullptr, ValueError, who, ": schedule ", i, " is null");
    KOAN_CHECK(&s[i]->optimizer() == opt, ValueError, who, ": schedule ", i,
               " drives another optimizer than the first; all must drive the same one");
  }
}

void nest(StateDict& into, const StateDict& child, const std::string& prefix) {
  for (auto& [k, v] : child.scalars) into.scalars[prefix + k] = v;
  for (auto& [k, t] : child.tensors) into.tensors[prefix + k] = t;
}

StateDict unnest(const StateDict& from, const std::string& prefix) {
  StateDict child;
  for (auto& [k, v] : from.scalars)
    if (k.compare(0, prefix.size(), prefix) == 0) child.scalars[k.substr(prefix.size())] = v;
  for (auto& [k, t] : from.tensors)
    if (k.compare(0, prefix.size(), prefix) == 0) child.tensors[k.substr(prefix.size())] = t;
  return child;
}
}  // namespace

// ---- SequentialLR

SequentialLR::SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : LRScheduler(opt), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
  check_children(schedulers_, &opt, "SequentialLR");
  KOAN_CHECK(milestones_.size() + 1 == schedulers_.size(), ValueError, "SequentialLR: ", schedulers_.size(),
             " schedules need ", schedulers_.size() - 1, " milestones, got ", milestones_.size());
  KOAN_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()), ValueError,
             "SequentialLR: milestones must be increasing");
  // As torch: undo what constructing the children did, then start the first one again.
  last_epoch_ = 0;
  for (size_t g = 0; g < num_groups(); ++g) opt.set_lr(g, *opt.initial_lr(g));
  for (auto& s : schedulers_) s->last_epoch_ -= 1;
  schedulers_[0]->initial_step();
  last_lr_ = schedulers_[0]->last_lr();
}

void SequentialLR::step() {
  ++last_epoch_;
  size_t idx = static_cast<size_t>(std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) -
                                   milestones_.begin());
  LRScheduler& s = *schedulers_[idx];
  if (idx > 0 && milestones_[idx - 1] == last_epoch_) s.step_to(0);
  else s.step();
  last_lr_ = s.last_lr();
}

StateDict SequentialLR::state_dict() const {
  StateDict sd = LRScheduler::state_dict();
  for (size_t i = 0; i < schedulers_.size(); ++i)
    nest(sd, schedulers_[i]->state_dict(), "schedulers." + std::to_string(i) + ".");
  return sd;
}

void SequentialLR::load_state_dict(const StateDict& sd) {
  for (size_t i = 0; i < schedulers_.size(); ++i)
    schedulers_[i]->load_state_dict(unnest(sd, "schedulers." + std::to_string(i) + "."));
  LRScheduler::load_state_dict(sd);
}

// ---- ChainedScheduler

ChainedScheduler::ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers)
    : LRScheduler((check_children(schedulers, schedulers.empty() || !schedulers[0] ? nullptr : &schedulers[0]->optimizer(),
                                  "ChainedScheduler"),
                   schedulers[0]->optimizer())),
      schedulers_(std::move(schedulers)) {
  last_lr_ = group_lrs();
}

void ChainedScheduler::step() {
  for (auto& s : schedulers_) s->step();
  last_lr_ = group_lrs();
}

StateDict ChainedScheduler::state_dict() const {
  StateDict sd = LRScheduler::state_dict();
  for (size_t i = 0; i < schedulers_.size(); ++i)
    nest(sd, schedulers_[i]->state_dict(), "schedulers." + std::to_string(i) + ".");
  return sd;
}

void ChainedScheduler::load_state_dict(const StateDict& sd) {
  for (size_t i = 0; i < schedulers_.size(); ++i)
    schedulers_[i]->load_state_dict(unnest(sd, "schedulers." + std::to_string(i) + "."));
  LRScheduler::load_state_dict(sd);
}

}  // namespace koan::optim
