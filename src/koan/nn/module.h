// nn::Module: the base of every layer and model.
//
//   struct Net : nn::Module {
//     std::shared_ptr<nn::Linear> fc1, fc2;
//     Net() {
//       fc1 = register_module("fc1", std::make_shared<nn::Linear>(nn::LinearOptions{.in = 784, .out = 128}));
//       fc2 = register_module("fc2", std::make_shared<nn::Linear>(nn::LinearOptions{.in = 128, .out = 10}));
//     }
//     Tensor forward(const Tensor& x) override { return fc2->forward(relu(fc1->forward(x))); }
//   };
//   auto net = std::make_shared<Net>();
//   for (auto& [name, p] : net->named_parameters()) std::cout << name << " " << str(p.shape()) << "\n";
//
// Parameters and buffers are Tensor handles: a layer's `weight` member and the module's registry
// share one TensorImpl, so loading a state dict or converting dtypes (done in place) is seen by both.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::nn {

using StateDict = std::map<std::string, Tensor>;
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module : public std::enable_shared_from_this<Module> {
 public:
  Module() = default;
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;

  // The layer's computation on one tensor.  Modules with other signatures (RNNs) add their own
  // overloads; this one is what Sequential and summary() call.
  virtual Tensor forward(const Tensor& x);
  // forward() plus the forward hooks (summary() uses them).
  Tensor operator()(const Tensor& x);

  // ---- registration (call from the constructor)
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  // Replaces a registered parameter/buffer's value (same name) and returns the new handle.
  void replace_parameter(const std::string& name, const Tensor& t);

  // ---- traversal, with stable dotted names ("features.0.weight"), in registration order
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  std::vector<std::shared_ptr<Module>> children() const;
  // This module ("") and every descendant.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules();
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- modes and housekeeping
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad(bool set_to_none = true);
  // Converts floating parameters and buffers in place (handles stay valid).
  void to(DType dtype);

  // ---- state
  // Parameters and buffers by dotted name (detached; sharing memory with the module).
  StateDict state_dict() const;
  // Copies values in (under NoGradGuard).  Strict: every key must match and no key may be missing
  // or extra; the error lists all missing, unexpected and wrong-shape keys.
  void load_state_dict(const StateDict& state, bool strict = true);

  // Deep copy with independent parameters.  Built-in layers implement it; user modules derive
  // from nn::Cloneable<Derived> (below).
  virtual std::shared_ptr<Module> clone() const;

  // "Linear(in=784, out=128)": the type and its options, for printing and summary().
  virtual std::string repr() const { return type_name(); }
  std::string type_name() const;
  void set_type_name(std::string n) { type_name_ = std::move(n); }

  using ForwardHook = std::function<void(Module&, const Tensor& input, const Tensor& output)>;
  size_t register_forward_hook(ForwardHook hook);
  void remove_forward_hook(size_t id);
  bool has_forward_hooks() const { return !hooks_.empty(); }

  // A Keras-like table: layer, output shape, parameters, totals.  Runs forward on zeros of
  // input_shape (batch dim included) in eval mode without recording a graph.
  std::string summary(const Shape& input_shape, DType dtype = kDefaultFloat);

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  // Used by Cloneable: forget all registrations before re-running reset().
  void clear_registrations();
  // Copies parameter and buffer values from `other` into this module (same structure).
  void copy_state_from(const Module& other);

 private:
  std::string type_name_;
  bool training_ = true;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::pair<size_t, ForwardHook>> hooks_;
  size_t next_hook_ = 0;
};

// For user modules that need clone(): put the construction (register_* calls) in reset() and
// call reset() from the constructor, as with libtorch's Cloneable.
template <class Derived>
class Cloneable : public Module {
 public:
  using Module::Module;
  virtual void reset() = 0;
  std::shared_ptr<Module> clone() const override {
    auto copy = std::make_shared<Derived>(static_cast<const Derived&>(*this));
    copy->clear_registrations();
    copy->reset();
    copy->copy_state_from(*this);
    copy->train(is_training());
    return copy;
  }
};

std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace koan::nn
