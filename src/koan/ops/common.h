// Helpers shared by the op families: type promotion, broadcasting, sum-to-shape.
#pragma once
#include "koan/autograd/function.h"
#include "koan/tensor/creation.h"

namespace koan::ops_detail {

using autograd::FunctionNode;
using autograd::SavedTensor;
using Grads = std::vector<Tensor>;

// The result dtype of a binary op on tensors a and b (torch.result_type, ignoring 0-d
// special-casing: 0-d tensors and scalars of the same category do not widen the other operand).
DType result_type(const Tensor& a, const Tensor& b);
DType result_type(const Tensor& a, Scalar b);
// `t` converted to dtype (no copy if it already has it), recorded for autograd.
Tensor cast(const Tensor& t, DType dtype);
// A tensor's data as a kernel reads it: the tensor itself when contiguous (kernels ignore the
// autograd metadata, so no detached alias is made), else a contiguous copy made without recording;
// undefined stays undefined.
Tensor dense(const Tensor& t);
// Whether the gradient for input i of the node recording an op is wanted (its edge is valid).
inline bool wants(const FunctionNode& self, size_t i) { return self.next_edges()[i].valid(); }
// A fresh contiguous tensor for an op's result.
inline Tensor new_output(const Shape& shape, DType dtype) { return empty(shape, {.dtype = dtype}); }
// Broadcast backward: sum `grad` over the dims that broadcasting added or stretched, so it has
// `shape` again (docs/notes/broadcast-backward.md).
Tensor sum_to(const Tensor& grad, const Shape& shape);
// Refuses in-place ops autograd cannot follow (leaves that require grad, views of tracked tensors).
void check_inplace(const Tensor& t, const char* op);

}  // namespace koan::ops_detail
