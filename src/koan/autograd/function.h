// How an op records itself in the graph.  Used by every op in ops/:
//
//   Tensor out = ...compute with a kernel...;
//   if (autograd::needs_grad({&x}))
//     autograd::record("ExpBackward", {x}, {out},
//         [y = autograd::SavedTensor(out, true)](autograd::FunctionNode& self, auto& g) {
//           return std::vector<Tensor>{mul(g[0], y.unpack(self.self()))};
//         });
//
// The backward closure is written with ops, so with create_graph it is itself recorded and can
// be differentiated again.
#pragma once
#include <initializer_list>

#include "koan/autograd/grad_mode.h"
#include "koan/autograd/node.h"

namespace koan::autograd {

// True when grad mode is on and any defined input requires grad.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// The inputs or outputs of record(): a braced list `{a, b}` or a vector, without copying either
// into a new vector.  Only valid for the call it is passed to.
class TensorList {
 public:
  // The list's array lives until the end of the full expression: the call record() is in.
  TensorList(std::initializer_list<Tensor> l) : data_(std::data(l)), size_(l.size()) {}
  TensorList(const std::vector<Tensor>& v) : data_(v.data()), size_(v.size()) {}
  const Tensor* begin() const { return data_; }
  const Tensor* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  const Tensor& operator[](size_t i) const { return data_[i]; }

 private:
  const Tensor* data_;
  size_t size_;
};

// Makes `node`'s next edges the inputs' gradient edges and makes it the grad_fn of each output
// (record's non-template half).
void connect(FunctionNode& node, TensorList inputs, TensorList outputs);

// Creates a FunctionNode whose next edges are the inputs' gradient edges (in order; inputs that
// need no gradient get an empty edge and their backward result is ignored), and makes it the
// grad_fn of each output.  An output may be one of the inputs (in-place ops): the edge to its
// old history is taken before it is rebased onto the new node.  `backward(FunctionNode& self,
// std::vector<Tensor>& grads) -> std::vector<Tensor>` is stored inside the node.
template <class F>
std::shared_ptr<FunctionNode> record(std::string name, TensorList inputs, TensorList outputs,
                                     F&& backward) {
  auto node = std::make_shared<ClosureNode<std::decay_t<F>>>(std::move(name), std::forward<F>(backward));
  connect(*node, inputs, outputs);
  return node;
}

// a + b of equal shapes, recorded when grad mode is on: the engine's accumulation under
// create_graph (autograd cannot call ops, which sit above it).
Tensor add_for_engine(const Tensor& a, const Tensor& b);

}  // namespace koan::autograd
