// Elementwise kernels: unary maps, binary maps, where, copy with conversion, fill.
//
// Kernels know layouts and pointers, nothing of autograd.  Callers (ops/) pass inputs already
// broadcast to the output's shape and already converted to the compute dtype.
#pragma once
#include "koan/tensor/tensor.h"

namespace koan::kernels {

enum class UnaryOp {
  Neg, Abs, Exp, Log, Log1p, Expm1, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu,
  LeakyRelu,  // a = negative slope
  Elu,        // a = alpha
  Gelu,       // a = 1 for the tanh approximation
  Silu, Softplus,  // softplus: a = beta, b = threshold
  Erf, Sign, Floor, Ceil, Round, Reciprocal, Square,
  Clamp,      // a = min, b = max (NaN bound means none)
  PowScalar,  // a = exponent
  LogicalNot, // output bool
  IsNan,      // output bool
  // Derivative helpers used by backward rules, so a gradient is one pass, not a chain of ops.
  Step,       // x > 0 ? 1 : 0
};
// out = op(in).  in and out have the same shape; dtypes equal except LogicalNot/IsNan (bool out).
void unary(UnaryOp op, const Tensor& in, const Tensor& out, double a = 0, double b = 0);

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Remainder, Atan2,
  Eq, Ne, Lt, Le, Gt, Ge,      // output bool
  LogicalAnd, LogicalOr, LogicalXor,  // output bool
};
// out = op(a, b); a, b expanded to out's shape with equal dtype (comparisons: out is bool).
// Add and Sub scale b by alpha (torch.add(a, b, alpha=)).
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, double alpha = 1);
bool is_comparison(BinaryOp op);

// out = x > 0 ? g : 0: ReLU's gradient in one pass (a NaN x gives 0, as torch's
// threshold_backward).  g, x expanded to out's shape, one floating dtype.
void relu_backward(const Tensor& g, const Tensor& x, const Tensor& out);
// out = g * gelu'(x) in one pass (the exact form, or the tanh approximation's).  g, x expanded
// to out's shape, one floating dtype.
void gelu_backward(const Tensor& g, const Tensor& x, const Tensor& out, bool tanh_approx);

// out = cond ? a : b; cond bool, a and b of out's dtype, all expanded to out's shape.
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
// dst = src, converting dtype; any strides; shapes equal (expand src first).
void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, Scalar value);

}  // namespace koan::kernels
