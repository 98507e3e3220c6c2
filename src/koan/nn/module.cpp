#include "koan/nn/module.h"

#include <cxxabi.h>

#include <algorithm>
#include <iomanip>
#include <set>
#include <sstream>

#include "koan/autograd/grad_mode.h"
#include "koan/kernels/elementwise.h"
#include "koan/ops/inplace.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

namespace koan::nn {

std::string Module::type_name() const {
  if (!type_name_.empty()) return type_name_;
  int status = 0;
  char* d = abi::__cxa_demangle(typeid(*this).name(), nullptr, nullptr, &status);
  std::string n = status == 0 && d ? d : typeid(*this).name();
  std::free(d);
  auto pos = n.rfind("::");
  return pos == std::string::npos ? n : n.substr(pos + 2);
}

Tensor Module::forward(const Tensor&) {
  throw ValueError(str(type_name(), ": this module has no single-tensor forward(); call its own "
                                    "forward overload"));
}

Tensor Module::operator()(const Tensor& x) {
  Tensor y = forward(x);
  for (auto& [id, h] : hooks_) h(*this, x, y);
  return y;
}

namespace {
void check_name(const std::string& name, const char* what) {
  KOAN_CHECK(!name.empty() && name.find('.') == std::string::npos, ValueError, what, ": name \"",
             name, "\" must be non-empty and contain no '.'");
}
template <class V>
bool has(const V& v, const std::string& name) {
  return std::any_of(v.begin(), v.end(), [&](const auto& p) { return p.first == name; });
}
}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_name(name, "register_parameter");
  KOAN_CHECK(!has(params_, name) && !has(buffers_, name) && !has(children_, name), ValueError,
             "register_parameter: \"", name, "\" is already registered in ", type_name());
  KOAN_CHECK(t.defined(), ValueError, "register_parameter: \"", name, "\" is undefined");
  t = detach(t);  // a parameter is a leaf
  if (requires_grad) t.requires_grad_();
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_name(name, "register_buffer");
  KOAN_CHECK(!has(params_, name) && !has(buffers_, name) && !has(children_, name), ValueError,
             "register_buffer: \"", name, "\" is already registered in ", type_name());
  buffers_.emplace_back(name, t);
  return t;
}

void Module::replace_parameter(const std::string& name, const Tensor& t) {
  for (auto& [n, p] : params_)
    if (n == name) {
      p = t;
      return;
    }
  throw ValueError(str("replace_parameter: ", type_name(), " has no parameter \"", name, "\""));
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_name(name, "register_module");
  KOAN_CHECK(m != nullptr, ValueError, "register_module: \"", name, "\" is null");
  KOAN_CHECK(!has(params_, name) && !has(buffers_, name) && !has(children_, name), ValueError,
             "register_module: \"", name, "\" is already registered in ", type_name());
  children_.emplace_back(name, std::move(m));
}

void Module::clear_registrations() {
  params_.clear();
  buffers_.clear();
  children_.clear();
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out = params_;
  if (recurse)
    for (auto& [cn, c] : children_)
      for (auto& [n, t] : c->named_parameters(true)) out.emplace_back(cn + "." + n, t);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> v;
  for (auto& [n, t] : named_parameters(recurse)) v.push_back(t);
  return v;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out = buffers_;
  if (recurse)
    for (auto& [cn, c] : children_)
      for (auto& [n, t] : c->named_buffers(true)) out.emplace_back(cn + "." + n, t);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> v;
  for (auto& [n, t] : named_buffers(recurse)) v.push_back(t);
  return v;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> v;
  for (auto& [n, c] : children_) v.push_back(c);
  return v;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  // Iterative pre-order walk.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> stack;
  std::shared_ptr<Module> self;
  try {
    self = shared_from_this();
  } catch (const std::bad_weak_ptr&) {
    self = std::shared_ptr<Module>(this, [](Module*) {});  // a module on the stack
  }
  stack.emplace_back("", self);
  while (!stack.empty()) {
    auto [name, m] = stack.back();
    stack.pop_back();
    out.emplace_back(name, m);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it)
      stack.emplace_back(name.empty() ? it->first : name + "." + it->first, it->second);
  }
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (auto& t : parameters())
    if (!trainable_only || t.requires_grad()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (auto& p : parameters()) {
    if (!p.grad().defined()) continue;
    if (set_to_none) {
      p.set_grad(Tensor());
    } else {
      Tensor g = p.grad();
      NoGradGuard ng;
      zero_(g);
    }
  }
}

void Module::to(DType dtype) {
  auto convert = [&](Tensor& t) {
    if (!t.defined() || !is_floating(t.dtype()) || t.dtype() == dtype) return;
    Tensor c = empty(t.shape(), {.dtype = dtype});
    kernels::copy(t, c);
    // Swap the data under the same TensorImpl so every handle (layer members, optimizers) sees it.
    TensorImpl* impl = t.impl();
    impl->storage = c.storage();
    impl->layout = c.layout();
    impl->dtype = dtype;
    impl->grad.reset();
  };
  for (auto& [n, t] : params_) convert(t);
  for (auto& [n, t] : buffers_) convert(t);
  for (auto& [n, c] : children_) c->to(dtype);
}

StateDict Module::state_dict() const {
  StateDict sd;
  for (auto& [n, t] : named_parameters()) sd[n] = detach(t);
  for (auto& [n, t] : named_buffers())
    if (t.defined()) sd[n] = detach(t);
  return sd;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  NamedTensors own = named_parameters();
  for (auto& b : named_buffers())
    if (b.second.defined()) own.push_back(b);
  std::vector<std::string> missing, unexpected, bad_shape;
  std::set<std::string> own_names;
  for (auto& [n, t] : own) {
    own_names.insert(n);
    auto it = state.find(n);
    if (it == state.end()) {
      missing.push_back(n);
    } else if (it->second.shape() != t.shape()) {
      bad_shape.push_back(n + " (checkpoint " + str(it->second.shape()) + ", model " + str(t.shape()) + ")");
    }
  }
  for (auto& [n, t] : state)
    if (!own_names.count(n)) unexpected.push_back(n);
  bool fail = !bad_shape.empty() || (strict && (!missing.empty() || !unexpected.empty()));
  if (fail) {
    std::ostringstream os;
    os << "load_state_dict: state does not match " << type_name() << ":";
    if (!missing.empty()) os << " missing keys " << str(missing) << ";";
    if (!unexpected.empty()) os << " unexpected keys " << str(unexpected) << ";";
    if (!bad_shape.empty()) os << " wrong shapes " << str(bad_shape) << ";";
    throw ValueError(os.str());
  }
  NoGradGuard ng;
  for (auto& [n, t] : own) {
    auto it = state.find(n);
    if (it == state.end()) continue;
    Tensor dst = t;
    copy_(dst, it->second);
  }
}

void Module::copy_state_from(const Module& other) { load_state_dict(other.state_dict(), true); }

std::shared_ptr<Module> Module::clone() const {
  throw ValueError(str("clone: ", type_name(), " does not implement clone(); derive it from "
                       "nn::Cloneable<", type_name(), "> and put its construction in reset()"));
}

size_t Module::register_forward_hook(ForwardHook hook) {
  hooks_.emplace_back(next_hook_, std::move(hook));
  return next_hook_++;
}

void Module::remove_forward_hook(size_t id) {
  std::erase_if(hooks_, [&](const auto& h) { return h.first == id; });
}

std::string Module::summary(const Shape& input_shape, DType dtype) {
  struct Row {
    std::string name, type, shape;
    int64_t params;
  };
  std::vector<Row> rows;
  std::vector<std::pair<Module*, size_t>> installed;
  // One row per leaf module (or per direct child when there are no leaves below it), in call order.
  for (auto& [name, m] : named_modules()) {
    if (name.empty() || !m->children_.empty()) continue;
    Module* mp = m.get();
    std::string nm = name;
    size_t id = m->register_forward_hook([&rows, nm, mp](Module&, const Tensor&, const Tensor& y) {
      rows.push_back({nm, mp->repr(), str(y.shape()), mp->num_parameters()});
    });
    installed.emplace_back(mp, id);
  }
  bool was_training = training_;
  eval();
  Tensor y;
  {
    NoGradGuard ng;
    y = (*this)(zeros(input_shape, {.dtype = dtype}));
  }
  train(was_training);
  for (auto& [m, id] : installed) m->remove_forward_hook(id);
  if (rows.empty()) rows.push_back({type_name(), repr(), str(y.shape()), num_parameters()});

  size_t w0 = 28, w1 = 24;
  for (auto& r : rows) {
    w0 = std::max(w0, r.name.size() + r.type.size() + 4);
    w1 = std::max(w1, r.shape.size() + 2);
  }
  std::ostringstream os;
  std::string rule(w0 + w1 + 14, '=');
  os << "Model: \"" << type_name() << "\"\n" << rule << "\n";
  os << std::left << std::setw(w0) << "Layer (type)" << std::setw(w1) << "Output Shape" << "Param #\n";
  os << rule << "\n";
  for (auto& r : rows)
    os << std::left << std::setw(w0) << (r.name + " (" + r.type + ")") << std::setw(w1) << r.shape
       << r.params << "\n";
  os << rule << "\n";
  int64_t total = num_parameters(), trainable = num_parameters(true);
  os << "Total params: " << total << "\n";
  os << "Trainable params: " << trainable << "\n";
  os << "Non-trainable params: " << total - trainable << "\n";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  // Iterative would be nicer for very deep nests; models are shallow.
  std::function<void(const Module&, int)> rec = [&](const Module& mod, int indent) {
    auto ch = mod.named_children();
    os << mod.repr();
    if (ch.empty()) return;
    os << "(\n";
    for (auto& [n, c] : ch) {
      os << std::string(indent + 2, ' ') << "(" << n << "): ";
      rec(*c, indent + 2);
      os << "\n";
    }
    os << std::string(indent, ' ') << ")";
  };
  rec(m, 0);
  return os;
}

}  // namespace koan::nn
