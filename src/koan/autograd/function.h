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

// Creates a FunctionNode whose next edges are the inputs' gradient edges (in order; inputs that
// need no gradient get an empty edge and their backward result is ignored), and makes it the
// grad_fn of each output.  An output may be one of the inputs (in-place ops): the edge to its
// old history is taken before it is rebased onto the new node.
std::shared_ptr<FunctionNode> record(std::string name, const std::vector<Tensor>& inputs,
                                     const std::vector<Tensor>& outputs,
                                     FunctionNode::Backward backward);

// a + b of equal shapes, recorded when grad mode is on: the engine's accumulation under
// create_graph (autograd cannot call ops, which sit above it).
Tensor add_for_engine(const Tensor& a, const Tensor& b);

}  // namespace koan::autograd
