#include "koan/optim/optimizer.h"

#include <charconv>
#include <set>

#include "koan/autograd/grad_mode.h"
#include "koan/ops/inplace.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

namespace koan::optim {

Tensor Optimizer::step(const std::function<Tensor()>& closure) {
  Tensor loss;
  {
    EnableGradGuard g;  // the closure runs backward, whatever mode the caller is in
    loss = closure();
  }
  step();
  return loss;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (auto& g : groups_)
    for (auto& p : g.params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none) {
        p.set_grad(Tensor());
      } else if (grad.grad_fn()) {
        // A gradient from backward(create_graph) is part of a graph: zeroing it in place would
        // change that graph's saved values, so put plain zeros in its place (torch detaches it).
        p.set_grad(zeros_like(grad));
      } else {
        NoGradGuard ng;
        zero_(grad);
      }
    }
}

const std::vector<Tensor>& Optimizer::params(size_t group) const {
  KOAN_CHECK(group < groups_.size(), IndexError, name_, ": param group ", group, " out of range (",
             groups_.size(), " groups)");
  return groups_[group].params;
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> all;
  for (auto& g : groups_) all.insert(all.end(), g.params.begin(), g.params.end());
  return all;
}

std::optional<double> Optimizer::initial_lr(size_t group) const {
  params(group);  // range check
  return groups_[group].initial_lr;
}

void Optimizer::set_group_option(size_t group, const std::string& key, double value) {
  KOAN_CHECK(group < groups_.size(), IndexError, name_, ": param group ", group, " out of range (", groups_.size(),
             " groups)");
  Scalars s = group_options(group);
  auto it = s.find(key);
  KOAN_CHECK(it != s.end(), ValueError, name_, " has no option \"", key, "\"");
  it->second = value;
  set_group_options(group, s);
}

void Optimizer::set_initial_lr(size_t group, double lr) {
  params(group);
  groups_[group].initial_lr = lr;
}

const ParamState& Optimizer::state(size_t group, size_t i) const {
  const auto& ps = params(group);
  KOAN_CHECK(i < ps.size(), IndexError, name_, ": parameter ", i, " out of range (group ", group,
             " has ", ps.size(), ")");
  return groups_[group].state[i];
}

void Optimizer::append_group(std::vector<Tensor> params) {
  KOAN_CHECK(!params.empty(), ValueError, name_, ": a parameter group needs at least one parameter");
  std::set<TensorImpl*> seen;
  for (auto& g : groups_)
    for (auto& p : g.params) seen.insert(p.impl());
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    KOAN_CHECK(p.defined(), ValueError, name_, ": parameter ", i, " of group ", groups_.size(), " is undefined");
    KOAN_CHECK(p.is_floating_point(), DTypeError, name_, ": can only optimize floating tensors, parameter ", i,
               " of group ", groups_.size(), " is ", koan::name(p.dtype()));
    KOAN_CHECK(p.is_leaf(), ValueError, name_, ": can't optimize a non-leaf tensor (parameter ", i, " of group ",
               groups_.size(), "); pass the leaf (e.g. the weight itself, not weight * 2)");
    KOAN_CHECK(seen.insert(p.impl()).second, ValueError, name_, ": parameter ", i, " of group ", groups_.size(),
               " (shape ", p.shape(), ") appears in more than one place; a parameter may be in one group only");
  }
  Group g;
  g.state.resize(params.size());
  g.params = std::move(params);
  groups_.push_back(std::move(g));
}

void Optimizer::for_each_param(const std::function<void(size_t, Tensor&, const Tensor&, ParamState&)>& f) {
  NoGradGuard ng;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    Group& g = groups_[gi];
    for (size_t i = 0; i < g.params.size(); ++i) {
      Tensor grad = g.params[i].grad();
      if (!grad.defined()) continue;
      KOAN_CHECK(grad.shape() == g.params[i].shape(), ShapeError, name_, ": gradient shape ", grad.shape(),
                 " does not match its parameter's shape ", g.params[i].shape());
      f(gi, g.params[i], grad, g.state[i]);
    }
  }
}

// ---- state_dict

StateDict Optimizer::state_dict() const {
  StateDict sd;
  size_t k = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    std::string gp = "param_groups." + std::to_string(gi) + ".";
    for (auto& [key, v] : group_options(gi)) sd.scalars[gp + key] = v;
    sd.scalars[gp + "params"] = static_cast<double>(g.params.size());
    if (g.initial_lr) sd.scalars[gp + "initial_lr"] = *g.initial_lr;
    for (size_t i = 0; i < g.params.size(); ++i, ++k) {
      const ParamState& st = g.state[i];
      if (st.step == 0 && st.buffers.empty()) continue;
      std::string sp = "state." + std::to_string(k) + ".";
      sd.scalars[sp + "step"] = static_cast<double>(st.step);
      for (auto& [name, t] : st.buffers) sd.tensors[sp + name] = clone(detach(t));
    }
  }
  return sd;
}

namespace {
// "state.12.exp_avg" -> (12, "exp_avg"); false if the key has another shape.
bool parse_indexed(const std::string& key, const std::string& prefix, size_t& index, std::string& rest) {
  if (key.compare(0, prefix.size(), prefix) != 0) return false;
  const char* b = key.data() + prefix.size();
  const char* e = key.data() + key.size();
  auto [p, ec] = std::from_chars(b, e, index);
  if (ec != std::errc() || p == b || p == e || *p != '.') return false;
  rest.assign(p + 1, e);
  return !rest.empty();
}
}  // namespace

void Optimizer::load_state_dict(const StateDict& sd) {
  // Where each global parameter index lives.
  std::vector<std::pair<size_t, size_t>> where;
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t i = 0; i < groups_[gi].params.size(); ++i) where.emplace_back(gi, i);

  // Check everything first, so a bad dict leaves the optimizer as it was.
  std::vector<Scalars> options(groups_.size());
  std::vector<std::optional<double>> initial(groups_.size());
  std::map<size_t, ParamState> states;
  for (auto& [key, v] : sd.scalars) {
    size_t idx;
    std::string rest;
    if (parse_indexed(key, "param_groups.", idx, rest)) {
      KOAN_CHECK(idx < groups_.size(), ValueError, name_, ".load_state_dict: the state has a param group ", idx,
                 " but this optimizer has ", groups_.size(), " groups");
      if (rest == "params") {
        KOAN_CHECK(static_cast<size_t>(v) == groups_[idx].params.size(), ValueError, name_,
                   ".load_state_dict: param group ", idx, " has ", v, " parameters in the state but ",
                   groups_[idx].params.size(), " here");
      } else if (rest == "initial_lr") {
        initial[idx] = v;
      } else {
        options[idx][rest] = v;
      }
    } else if (parse_indexed(key, "state.", idx, rest) && rest == "step") {
      KOAN_CHECK(idx < where.size(), ValueError, name_, ".load_state_dict: state for parameter ", idx,
                 " but this optimizer has ", where.size(), " parameters");
      states[idx].step = static_cast<int64_t>(v);
    } else {
      KOAN_CHECK(false, ValueError, name_, ".load_state_dict: unexpected scalar key '", key, "'");
    }
  }
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    Scalars want = group_options(gi);
    KOAN_CHECK(sd.scalars.count("param_groups." + std::to_string(gi) + ".params"), ValueError, name_,
               ".load_state_dict: the state has no param group ", gi, " (this optimizer has ", groups_.size(),
               " groups)");
    for (auto& [key, v] : want)
      KOAN_CHECK(options[gi].count(key), ValueError, name_, ".load_state_dict: param group ", gi,
                 " lacks option '", key, "' (is the state from another optimizer type?)");
    for (auto& [key, v] : options[gi])
      KOAN_CHECK(want.count(key), ValueError, name_, ".load_state_dict: param group ", gi, " has option '", key,
                 "' that ", name_, " does not know (is the state from another optimizer type?)");
  }
  for (auto& [key, t] : sd.tensors) {
    size_t idx;
    std::string rest;
    KOAN_CHECK(parse_indexed(key, "state.", idx, rest) && rest != "step", ValueError, name_,
               ".load_state_dict: unexpected tensor key '", key, "'");
    KOAN_CHECK(idx < where.size(), ValueError, name_, ".load_state_dict: state for parameter ", idx,
               " but this optimizer has ", where.size(), " parameters");
    KOAN_CHECK(states.count(idx), ValueError, name_, ".load_state_dict: tensor '", key, "' has no 'state.", idx,
               ".step'");
    const Tensor& p = groups_[where[idx].first].params[where[idx].second];
    KOAN_CHECK(t.defined() && t.shape() == p.shape(), ShapeError, name_, ".load_state_dict: '", key, "' has shape ",
               t.defined() ? t.shape() : Shape{}, " but parameter ", idx, " has shape ", p.shape());
    NoGradGuard ng;
    states[idx].buffers[rest] = clone(to(detach(t), p.dtype()));
  }

  // Apply.
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    set_group_options(gi, options[gi]);
    groups_[gi].initial_lr = initial[gi];
    for (auto& st : groups_[gi].state) st = ParamState{};
  }
  for (auto& [idx, st] : states) groups_[where[idx].first].state[where[idx].second] = std::move(st);
}

}  // namespace koan::optim
