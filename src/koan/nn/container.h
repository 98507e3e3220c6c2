// Containers: Sequential (a pipeline), ModuleList and ModuleDict (registered collections).
//
//   auto net = std::make_shared<nn::Sequential>();
//   net->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = 784, .out = 128}));
//   net->push_back(std::make_shared<nn::ReLU>());
//   Tensor y = (*net)(x);                 // children are named "0", "1", ... as in PyTorch
#pragma once
#include <initializer_list>

#include "koan/nn/module.h"

namespace koan::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> layers);
  // Appends under the next index name ("0", "1", ...).
  void push_back(std::shared_ptr<Module> m);
  // Appends under an explicit name (torch's OrderedDict form).
  void push_back(const std::string& name, std::shared_ptr<Module> m);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override;
  size_t size() const { return layers_.size(); }
  std::shared_ptr<Module> operator[](size_t i) const;

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  void push_back(std::shared_ptr<Module> m);
  size_t size() const { return items_.size(); }
  std::shared_ptr<Module> operator[](size_t i) const;
  std::shared_ptr<Module> clone() const override;
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> items_;
};

class ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  void insert(const std::string& key, std::shared_ptr<Module> m);
  bool contains(const std::string& key) const;
  std::shared_ptr<Module> operator[](const std::string& key) const;
  std::shared_ptr<Module> clone() const override;
  std::vector<std::string> keys() const;
};

}  // namespace koan::nn
