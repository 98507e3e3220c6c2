#include "koan/ops/unary.h"

#include <cmath>
#include <numbers>

#include "koan/kernels/elementwise.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;
using kernels::UnaryOp;

namespace {

// Runs the kernel into a fresh output.  `floating`: integer inputs compute in the default float.
Tensor apply(UnaryOp op, const Tensor& x, bool floating, double a = 0, double b = 0) {
  Tensor in = floating && !is_floating(x.dtype()) ? to(x, kDefaultFloat) : x;
  Tensor out = new_output(in.shape(), in.dtype());
  kernels::unary(op, in, out, a, b);
  return out;
}

// A mask computed from x (a step, a sign), in x's dtype.  It is piecewise constant, so its
// gradient is zero; it is still recorded when x needs one, so that a gradient taken through a
// backward that uses it reaches x as zeros, as through PyTorch's threshold_backward, instead of
// reporting x as unused.
Tensor as_mask_of(const Tensor& x, Tensor mask) {
  if (autograd::needs_grad({&x}))
    autograd::record("MaskBackward", {x}, {mask},
                     [](FunctionNode&, Grads& g) { return Grads{zeros_like(g[0])}; });
  return mask;
}
Tensor constant(UnaryOp op, const Tensor& x, double a = 0, double b = 0) {
  Tensor out = new_output(x.shape(), x.dtype());
  kernels::unary(op, x, out, a, b);
  return as_mask_of(x, out);
}

using Rule = std::function<Tensor(const Tensor& g, const Tensor& x, const Tensor& y)>;

// out = op(x) with backward g -> rule(g, x, y).  `save_out`: the rule reads y (saved as output).
// Rules read x, y (the output) or neither; only what they read is saved, so an in-place op on
// the other does not invalidate the graph.
enum Save : unsigned { kX = 1, kY = 2 };

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, bool floating, Rule rule,
                double a = 0, double b = 0, unsigned save = kX) {
  Tensor xin = floating && !is_floating(x.dtype()) ? to(x, kDefaultFloat) : x;
  Tensor out = apply(op, xin, false, a, b);
  if (rule && autograd::needs_grad({&xin})) {
    autograd::record(name, {xin}, {out},
                     [rule, sx = SavedTensor(save & kX ? xin : Tensor(), false),
                      sy = SavedTensor(save & kY ? out : Tensor(), true)](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       return Grads{rule(g[0], sx.defined() ? sx.unpack(me) : Tensor(),
                                         sy.defined() ? sy.unpack(me) : Tensor())};
                     });
  }
  return out;
}

Tensor zero_grad_rule(const Tensor& g, const Tensor&, const Tensor&) { return zeros_like(g); }

}  // namespace

Tensor neg(const Tensor& x) {
  return unary_op("NegBackward", UnaryOp::Neg, x, false,
                  [](const Tensor& g, const Tensor&, const Tensor&) { return neg(g); });
}
Tensor abs(const Tensor& x) {
  return unary_op("AbsBackward", UnaryOp::Abs, x, false,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, constant(UnaryOp::Sign, x)); });
}
Tensor exp(const Tensor& x) {
  return unary_op("ExpBackward", UnaryOp::Exp, x, true,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, y); }, 0, 0, kY);
}
Tensor log(const Tensor& x) {
  return unary_op("LogBackward", UnaryOp::Log, x, true,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, x); });
}
Tensor log1p(const Tensor& x) {
  return unary_op("Log1pBackward", UnaryOp::Log1p, x, true,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, add(x, 1)); });
}
Tensor expm1(const Tensor& x) {
  return unary_op("Expm1Backward", UnaryOp::Expm1, x, true,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, add(y, 1)); }, 0, 0, kY);
}
Tensor sqrt(const Tensor& x) {
  return unary_op("SqrtBackward", UnaryOp::Sqrt, x, true,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return div(g, mul(y, 2)); }, 0, 0, kY);
}
Tensor rsqrt(const Tensor& x) {
  return unary_op("RsqrtBackward", UnaryOp::Rsqrt, x, true,
                  [](const Tensor& g, const Tensor&, const Tensor& y) {
                    return mul(g, mul(pow(y, 3), -0.5));
                  }, 0, 0, kY);
}
Tensor sin(const Tensor& x) {
  return unary_op("SinBackward", UnaryOp::Sin, x, true,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, cos(x)); });
}
Tensor cos(const Tensor& x) {
  return unary_op("CosBackward", UnaryOp::Cos, x, true,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return neg(mul(g, sin(x))); });
}
Tensor tanh(const Tensor& x) {
  return unary_op("TanhBackward", UnaryOp::Tanh, x, true,
                  [](const Tensor& g, const Tensor&, const Tensor& y) {
                    return mul(g, rsub(square(y), 1));
                  }, 0, 0, kY);
}
Tensor sigmoid(const Tensor& x) {
  return unary_op("SigmoidBackward", UnaryOp::Sigmoid, x, true,
                  [](const Tensor& g, const Tensor&, const Tensor& y) {
                    return mul(g, mul(y, rsub(y, 1)));
                  }, 0, 0, kY);
}
Tensor relu(const Tensor& x) {
  return unary_op("ReluBackward", UnaryOp::Relu, x, false,
                  [](const Tensor& g, const Tensor& x, const Tensor&) {
                    // One fused pass when nothing records this backward (the common case);
                    // under create_graph, ops that differentiate again (through g, and to x as
                    // zeros).
                    if (!autograd::needs_grad({&g, &x}) && g.dtype() == x.dtype() && g.shape() == x.shape()) {
                      Tensor gx = new_output(x.shape(), x.dtype());
                      kernels::relu_backward(g, x, gx);
                      return gx;
                    }
                    return mul(g, constant(UnaryOp::Step, x));
                  });
}
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_op(
      "LeakyReluBackward", UnaryOp::LeakyRelu, x, true,
      [slope](const Tensor& g, const Tensor& x, const Tensor&) {
        Tensor pos = constant(UnaryOp::Step, x);  // 1 where x > 0
        return mul(g, add(mul(pos, 1 - slope), slope));
      },
      slope);
}
Tensor elu(const Tensor& x, double alpha) {
  return unary_op(
      "EluBackward", UnaryOp::Elu, x, true,
      [alpha](const Tensor& g, const Tensor& x, const Tensor&) {
        Tensor pos = constant(UnaryOp::Step, x);
        // d/dx = 1 for x > 0, alpha * exp(x) otherwise
        return mul(g, add(pos, mul(rsub(pos, 1), mul(exp(x), alpha))));
      },
      alpha);
}
Tensor gelu(const Tensor& x, const std::string& approximate) {
  KOAN_CHECK(approximate == "none" || approximate == "tanh", ValueError,
             "gelu: approximate must be \"none\" or \"tanh\", got \"", approximate, "\"");
  bool tanh_approx = approximate == "tanh";
  return unary_op(
      "GeluBackward", UnaryOp::Gelu, x, true,
      [tanh_approx](const Tensor& g, const Tensor& x, const Tensor&) {
        // One fused pass when nothing records this backward; under create_graph, ops (the
        // result depends on x, so x alone needing a gradient is enough to take them).
        if (!autograd::needs_grad({&g, &x}) && g.dtype() == x.dtype() && g.shape() == x.shape()) {
          Tensor gx = new_output(x.shape(), x.dtype());
          kernels::gelu_backward(g, x, gx, tanh_approx);
          return gx;
        }
        if (tanh_approx) {
          const double k = std::sqrt(2.0 / std::numbers::pi), c = 0.044715;
          Tensor inner = mul(add(x, mul(pow(x, 3), c)), k);
          Tensor t = tanh(inner);
          Tensor dinner = mul(add(mul(square(x), 3 * c), 1), k);
          Tensor d = add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), rsub(square(t), 1)), dinner));
          return mul(g, d);
        }
        Tensor cdf = mul(add(erf(mul(x, 1 / std::numbers::sqrt2)), 1), 0.5);
        Tensor pdf = mul(exp(mul(square(x), -0.5)), 1 / std::sqrt(2 * std::numbers::pi));
        return mul(g, add(cdf, mul(x, pdf)));
      },
      tanh_approx ? 1 : 0);
}
Tensor silu(const Tensor& x) {
  return unary_op("SiluBackward", UnaryOp::Silu, x, true,
                  [](const Tensor& g, const Tensor& x, const Tensor&) {
                    Tensor s = sigmoid(x);
                    return mul(g, mul(s, add(mul(x, rsub(s, 1)), 1)));
                  });
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  return unary_op(
      "SoftplusBackward", UnaryOp::Softplus, x, true,
      [beta, threshold](const Tensor& g, const Tensor& x, const Tensor&) {
        Tensor bx = mul(x, beta);
        Tensor linear = gt(bx, threshold);
        return mul(g, where(linear, ones_like(x), sigmoid(bx)));
      },
      beta, threshold);
}
Tensor erf(const Tensor& x) {
  return unary_op("ErfBackward", UnaryOp::Erf, x, true,
                  [](const Tensor& g, const Tensor& x, const Tensor&) {
                    return mul(g, mul(exp(neg(square(x))), 2 / std::sqrt(std::numbers::pi)));
                  });
}
Tensor sign(const Tensor& x) { return unary_op("SignBackward", UnaryOp::Sign, x, false, zero_grad_rule); }
Tensor floor(const Tensor& x) { return unary_op("FloorBackward", UnaryOp::Floor, x, false, zero_grad_rule); }
Tensor ceil(const Tensor& x) { return unary_op("CeilBackward", UnaryOp::Ceil, x, false, zero_grad_rule); }
Tensor round(const Tensor& x) { return unary_op("RoundBackward", UnaryOp::Round, x, false, zero_grad_rule); }
Tensor reciprocal(const Tensor& x) {
  return unary_op("ReciprocalBackward", UnaryOp::Reciprocal, x, true,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return neg(mul(g, square(y))); }, 0, 0, kY);
}
Tensor square(const Tensor& x) {
  return unary_op("SquareBackward", UnaryOp::Square, x, false,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, mul(x, 2)); });
}
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  KOAN_CHECK(min || max, ValueError, "clamp: at least one of min and max must be given");
  double lo = min.value_or(NAN), hi = max.value_or(NAN);
  return unary_op(
      "ClampBackward", UnaryOp::Clamp, x, false,
      [min, max](const Tensor& g, const Tensor& x, const Tensor&) {
        Tensor xd = detach(x);
        Tensor keep = ones_like(x);
        if (min) keep = mul(keep, to(ge(xd, *min), x.dtype()));
        if (max) keep = mul(keep, to(le(xd, *max), x.dtype()));
        return mul(g, as_mask_of(x, keep));
      },
      lo, hi);
}
Tensor pow(const Tensor& x, Scalar exponent) {
  double p = exponent.to_double();
  bool floating = exponent.is_floating() || is_floating(x.dtype());
  Tensor xin = floating && !is_floating(x.dtype()) ? to(x, kDefaultFloat) : x;
  if (!is_floating(xin.dtype())) return pow(xin, scalar_tensor(exponent, xin.dtype()));
  return unary_op(
      "PowBackward", UnaryOp::PowScalar, xin, true,
      [p](const Tensor& g, const Tensor& x, const Tensor&) {
        if (p == 0) return zeros_like(g);
        return mul(g, mul(pow(x, p - 1), p));
      },
      p);
}
Tensor logical_not(const Tensor& x) {
  Tensor out = new_output(x.shape(), DType::Bool);
  kernels::unary(UnaryOp::LogicalNot, x, out);
  return out;
}
Tensor isnan(const Tensor& x) {
  Tensor out = new_output(x.shape(), DType::Bool);
  kernels::unary(UnaryOp::IsNan, x, out);
  return out;
}

}  // namespace koan
