#include "koan/nn/container.h"

#include "koan/nn/conv.h"
#include "koan/nn/pool.h"

namespace koan::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> layers) : Module("Sequential") {
  for (auto& l : layers) push_back(l);
}

void Sequential::push_back(std::shared_ptr<Module> m) { push_back(std::to_string(layers_.size()), std::move(m)); }

void Sequential::push_back(const std::string& name, std::shared_ptr<Module> m) {
  add_child(name, m);
  layers_.push_back(std::move(m));
}

namespace {

// A Conv2d with activation "relu" followed by MaxPool2d(2) runs as one kernel,
// conv2d_relu_max_pool2d, which never stores the full-size activation.  Not when a forward hook
// watches either layer (it would miss the activation in between).
bool fuses_conv_pool(const Module& a, const Module& b) {
  const auto* conv = dynamic_cast<const Conv2d*>(&a);
  const auto* pool = dynamic_cast<const MaxPool2d*>(&b);
  if (!conv || !pool || conv->has_forward_hooks() || pool->has_forward_hooks()) return false;
  const MaxPool2dOptions& p = pool->options();
  return conv->options().activation == "relu" && p.kernel == Int2(2) && p.stride.value_or(p.kernel) == Int2(2) &&
         p.padding == Int2(0) && p.dilation == Int2(1) && !p.ceil_mode;
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (i + 1 < layers_.size() && fuses_conv_pool(*layers_[i], *layers_[i + 1])) {
      const auto& conv = static_cast<const Conv2d&>(*layers_[i]);
      const Conv2dOptions& o = conv.options();
      y = conv2d_relu_max_pool2d(y, conv.weight, conv.bias, o.stride, o.padding, o.dilation, o.groups);
      ++i;
      continue;
    }
    y = (*layers_[i])(y);
  }
  return y;
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  KOAN_CHECK(i < layers_.size(), IndexError, "Sequential: index ", i, " out of range for ",
             layers_.size(), " layers");
  return layers_[i];
}

std::shared_ptr<Module> Sequential::clone() const {
  auto c = std::make_shared<Sequential>();
  for (auto& [name, m] : named_children()) c->push_back(name, m->clone());
  c->train(is_training());
  return c;
}

void ModuleList::push_back(std::shared_ptr<Module> m) {
  add_child(std::to_string(items_.size()), m);
  items_.push_back(std::move(m));
}

std::shared_ptr<Module> ModuleList::operator[](size_t i) const {
  KOAN_CHECK(i < items_.size(), IndexError, "ModuleList: index ", i, " out of range for ",
             items_.size(), " modules");
  return items_[i];
}

std::shared_ptr<Module> ModuleList::clone() const {
  auto c = std::make_shared<ModuleList>();
  for (auto& m : items_) c->push_back(m->clone());
  c->train(is_training());
  return c;
}

void ModuleDict::insert(const std::string& key, std::shared_ptr<Module> m) { add_child(key, std::move(m)); }

bool ModuleDict::contains(const std::string& key) const {
  for (auto& [n, m] : named_children())
    if (n == key) return true;
  return false;
}

std::shared_ptr<Module> ModuleDict::operator[](const std::string& key) const {
  for (auto& [n, m] : named_children())
    if (n == key) return m;
  throw IndexError(str("ModuleDict: no module named \"", key, "\" (keys: ", keys(), ")"));
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> k;
  for (auto& [n, m] : named_children()) k.push_back(n);
  return k;
}

std::shared_ptr<Module> ModuleDict::clone() const {
  auto c = std::make_shared<ModuleDict>();
  for (auto& [n, m] : named_children()) c->insert(n, m->clone());
  c->train(is_training());
  return c;
}

}  // namespace koan::nn
