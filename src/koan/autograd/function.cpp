#include "koan/autograd/function.h"

#include "koan/kernels/elementwise.h"

namespace koan::autograd {

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void connect(FunctionNode& node, TensorList inputs, TensorList outputs) {
  auto& edges = node.mutable_next_edges();
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(gradient_edge(t));
  const size_t n = outputs.size();
  node.set_num_outputs(static_cast<uint32_t>(n));
  node.outputs.resize(n);
  std::shared_ptr<Node> self;  // made once, then copied into each output
  for (uint32_t i = 0; i < n; ++i) {
    TensorImpl* o = outputs[i].impl();
    node.outputs[i].shape = o->layout.shape;
    node.outputs[i].dtype = o->dtype;
    if (!is_floating(o->dtype)) continue;  // integer outputs (indices) carry no gradient
    if (!self) self = node.shared_from_this();
    o->requires_grad = true;
    o->grad_fn = self;
    o->output_nr = i;
    node.outputs[i].tensor = outputs[i].impl_ptr();
  }
}

Tensor add_for_engine(const Tensor& a, const Tensor& b) {
  Tensor out = empty(a.shape(), {.dtype = a.dtype()});
  kernels::binary(kernels::BinaryOp::Add, a, b, out);
  if (needs_grad({&a, &b}))
    record("AddBackward", {a, b}, {out},
           [](FunctionNode&, std::vector<Tensor>& g) { return std::vector<Tensor>{g[0], g[0]}; });
  return out;
}

}  // namespace koan::autograd
