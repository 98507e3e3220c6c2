// Optimizer: parameter groups, per-parameter state, zero_grad, step, state_dict.
//
//   auto opt = optim::SGD(net->parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//   for (auto& [x, y] : batches) {
//     opt.zero_grad();
//     loss_fn((*net)(x), y).backward();
//     opt.step();
//   }
//   optim::StateDict sd = opt.state_dict();     // tensors + named numbers (io/ writes them)
//
// Groups with their own options (unset options come from the optimizer's defaults):
//
//   optim::Adam opt({{.params = {w}}, {.params = {b}, .options = optim::AdamOptions{.lr = 1e-2}}},
//                   {.lr = 1e-3});
//   opt.add_param_group({head_w, head_b}, optim::AdamOptions{.lr = 1e-4});
//
// Updates run under NoGradGuard with in-place ops and follow torch.optim 1.13 exactly
// (docs/optimizers.md writes each rule beside its code).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::optim {

// Named numbers (hyper-parameters, step counts; bools as 0/1): a flat JSON object.
using Scalars = std::map<std::string, double>;

// Everything an optimizer, schedule or weight average needs to resume bit-identically.  Keys are
// dotted ("state.3.exp_avg", "param_groups.0.lr"), so io/ can write `tensors` as safetensors and
// `scalars` as JSON.  Values are copies: stepping on does not change a saved dict.
struct StateDict {
  std::map<std::string, Tensor> tensors;
  Scalars scalars;
};

// One parameter's state: the number of updates it received and named buffers (momentum_buffer,
// exp_avg, ...), created on the first step the parameter has a gradient (as torch.optim).
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers;
  Tensor& operator[](const std::string& name) { return buffers[name]; }
};

// A group of parameters with their options; `options` unset means the optimizer's defaults.
template <class Options>
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<Options> options;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;

  // One update of every parameter that has a gradient.
  virtual void step() = 0;
  // Re-evaluates the loss (zero_grad + forward + backward inside `closure`), then steps; returns it.
  Tensor step(const std::function<Tensor()>& closure);
  // set_to_none drops the gradients (the next backward allocates fresh ones); otherwise they are
  // zeroed in place (a gradient that carries a graph is replaced by detached zeros).
  void zero_grad(bool set_to_none = true);

  // "SGD", "Adam", ... for messages.
  const std::string& name() const { return name_; }
  size_t num_param_groups() const { return groups_.size(); }
  const std::vector<Tensor>& params(size_t group) const;
  // Every parameter, group by group: the order state_dict numbers them in.
  std::vector<Tensor> parameters() const;
  virtual double lr(size_t group) const = 0;
  virtual void set_lr(size_t group, double lr) = 0;
  // The lr a schedule started from (torch's group["initial_lr"]), set by the first schedule.
  std::optional<double> initial_lr(size_t group) const;
  void set_initial_lr(size_t group, double lr);
  // Group g's options as named numbers ("lr", "momentum", "betas.0", "nesterov" as 0/1).
  virtual Scalars group_options(size_t group) const = 0;
  // Sets one of group g's options by its group_options() name (schedules that cycle momentum
  // set "momentum" or "betas.0" this way).  An unknown name is a ValueError.
  void set_group_option(size_t group, const std::string& key, double value);
  // State of parameter i of group g (step 0 and no buffers before its first update).
  const ParamState& state(size_t group, size_t i) const;

  // "param_groups.<g>.<option>", "param_groups.<g>.params" (the count), and for each parameter
  // k that has state (numbered across groups): "state.<k>.step" and tensors "state.<k>.<buffer>".
  StateDict state_dict() const;
  // Restores options and state from state_dict() of an optimizer of the same type over
  // parameters of the same shapes, grouped the same way.  Checks everything before changing
  // anything; state tensors are copied and converted to their parameter's dtype.
  void load_state_dict(const StateDict& state);

 protected:
  explicit Optimizer(std::string name) : name_(std::move(name)) {}
  struct Group {
    std::vector<Tensor> params;
    std::vector<ParamState> state;
    std::optional<double> initial_lr;
  };
  // Checks params (defined, floating, leaves, not already in a group) and appends a group.
  void append_group(std::vector<Tensor> params);
  virtual void set_group_options(size_t group, const Scalars& options) = 0;
  // f(group index, param, grad, state) for every parameter with a gradient, under NoGradGuard.
  void for_each_param(const std::function<void(size_t, Tensor&, const Tensor&, ParamState&)>& f);

  std::string name_;
  std::vector<Group> groups_;
};

// The typed half: options of type Options per group.  Options is an aggregate with an `lr`
// member, `void check(const char* who) const` (throws ValueError on bad values) and
// `template <class F> void fields(F&& f)` calling f("name", member) for each double/bool/int
// member, which state_dict uses to name them.
template <class Options>
class OptimizerWith : public Optimizer {
 public:
  using OptionsType = Options;

  OptimizerWith(std::string name, std::vector<Tensor> params, Options defaults)
      : Optimizer(std::move(name)), defaults_(defaults) {
    defaults_.check(name_.c_str());
    add_param_group(std::move(params));
  }
  OptimizerWith(std::string name, std::vector<ParamGroup<Options>> groups, Options defaults)
      : Optimizer(std::move(name)), defaults_(defaults) {
    defaults_.check(name_.c_str());
    for (auto& g : groups) add_param_group(std::move(g.params), g.options);
  }

  void add_param_group(std::vector<Tensor> params, std::optional<Options> options = std::nullopt) {
    Options o = options.value_or(defaults_);
    o.check(name_.c_str());
    append_group(std::move(params));
    options_.push_back(o);
  }

  const Options& defaults() const { return defaults_; }
  Options& options(size_t group) { return options_.at(group); }
  const Options& options(size_t group) const { return options_.at(group); }
  double lr(size_t group) const override { return options_.at(group).lr; }
  void set_lr(size_t group, double lr) override { options_.at(group).lr = lr; }

  Scalars group_options(size_t group) const override {
    Scalars s;
    Options o = options_.at(group);
    o.fields([&](const char* key, auto& v) { s[key] = static_cast<double>(v); });
    return s;
  }

 protected:
  void set_group_options(size_t group, const Scalars& s) override {
    Options& o = options_.at(group);
    o.fields([&](const char* key, auto& v) {
      using T = std::decay_t<decltype(v)>;
      double x = s.at(key);  // present: load_state_dict checked the keys
      if constexpr (std::is_same_v<T, bool>) v = x != 0;
      else v = static_cast<T>(x);
    });
  }

  Options defaults_;
  std::vector<Options> options_;
};

}  // namespace koan::optim
