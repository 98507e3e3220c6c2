// The backward engine and its entry points.
//
//   loss.backward();                                        // accumulate into leaves' .grad
//   auto g = koan::autograd::grad({y}, {x}, {}, true, true); // dy/dx, itself differentiable
#pragma once
#include <vector>

#include "koan/autograd/function.h"

namespace koan::autograd {

struct GradOptions {
  bool retain_graph = false;
  bool create_graph = false;
  bool allow_unused = false;
};

// Gradients of `outputs` (weighted by grad_outputs; a scalar output may omit its weight) with
// respect to `inputs`, returned instead of accumulated into .grad.  An input the outputs do not
// depend on is an error unless allow_unused (then its gradient is undefined).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

// Accumulates gradients of `outputs` into the .grad of every leaf they depend on.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

}  // namespace koan::autograd
