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

std::shared_ptr<FunctionNode> record(std::string name, const std::vector<Tensor>& inputs,
                                     const std::vector<Tensor>& outputs,
                                     FunctionNode::Backward backward) {
  auto node = std::make_shared<FunctionNode>(std::move(name), std::move(backward));
  auto& edges = node->mutable_next_edges();
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(gradient_edge(t));
  node->set_num_outputs(static_cast<uint32_t>(outputs.size()));
  node->outputs.resize(outputs.size());
  for (uint32_t i = 0; i < outputs.size(); ++i) {
    TensorImpl* o = outputs[i].impl();
    node->output_shapes.push_back(o->layout.shape);
    node->output_dtypes.push_back(o->dtype);
    if (!is_floating(o->dtype)) continue;  // integer outputs (indices) carry no gradient
    o->requires_grad = true;
    o->grad_fn = node;
    o->output_nr = i;
    node->outputs[i] = outputs[i].impl_ptr();
  }
  return node;
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
