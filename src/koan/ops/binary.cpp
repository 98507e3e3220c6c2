#include "koan/ops/binary.h"

#include <cmath>

#include "koan/kernels/elementwise.h"
#include "koan/ops/common.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"

namespace koan {
using namespace ops_detail;
using kernels::BinaryOp;

namespace {

const char* op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Pow: return "pow";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
    case BinaryOp::Remainder: return "remainder";
    case BinaryOp::Atan2: return "atan2";
    case BinaryOp::Eq: return "eq";
    case BinaryOp::Ne: return "ne";
    case BinaryOp::Lt: return "lt";
    case BinaryOp::Le: return "le";
    case BinaryOp::Gt: return "gt";
    case BinaryOp::Ge: return "ge";
    case BinaryOp::LogicalAnd: return "logical_and";
    case BinaryOp::LogicalOr: return "logical_or";
    case BinaryOp::LogicalXor: return "logical_xor";
  }
  return "binary";
}

// Promotes, broadcasts and runs the kernel; a and b come back converted (for backward rules).
Tensor compute(BinaryOp op, Tensor& a, Tensor& b, double alpha = 1, bool floating = false) {
  DType dt = result_type(a, b);
  if (floating && !is_floating(dt)) dt = kDefaultFloat;
  a = cast(a, dt);
  b = cast(b, dt);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op_name(op));
  DType out_dt = kernels::is_comparison(op) ? DType::Bool : dt;
  Tensor out = new_output(shape, out_dt);
  // Only an operand that broadcasting stretches needs a view of the output's shape.
  auto expanded = [&](const Tensor& t) {
    return t.shape() == shape ? t : alias_with_layout(t, koan::expand(t.layout(), shape));
  };
  kernels::binary(op, expanded(a), expanded(b), out, alpha);
  return out;
}

// Operands that need neither promotion nor broadcasting (the common case in a training step):
// the kernel reads them as they are, without the broadcast views compute() makes.  Same result.
bool plain_operands(const Tensor& a, const Tensor& b, bool floating) {
  return a.dtype() == b.dtype() && (!floating || is_floating(a.dtype())) && a.shape() == b.shape();
}
Tensor compute_plain(BinaryOp op, const Tensor& a, const Tensor& b, double alpha) {
  Tensor out = new_output(a.shape(), kernels::is_comparison(op) ? DType::Bool : a.dtype());
  kernels::binary(op, a, b, out, alpha);
  return out;
}

Tensor compare(BinaryOp op, Tensor a, Tensor b) {
  if (op == BinaryOp::LogicalAnd || op == BinaryOp::LogicalOr || op == BinaryOp::LogicalXor) {
    a = to(detach(a), DType::Bool);
    b = to(detach(b), DType::Bool);
  }
  if (plain_operands(a, b, false)) return compute_plain(op, a, b, 1);
  return compute(op, a, b);
}

Tensor wrap(const Tensor& like, Scalar s) { return scalar_tensor(s, result_type(like, s)); }

// What a backward rule reads; only that is saved, so in-place writes to anything else are fine.
enum Save : unsigned { kNone = 0, kA = 1, kB = 2, kOut = 4 };

// `rule(g, a, b, y) -> Grads` is a lambda type, not a std::function, so the whole backward
// closure (rule, saved tensors, input shapes) lives in the one allocation record() makes.
template <class Rule>
Tensor binary_op(const char* name, BinaryOp op, const Tensor& a_in, const Tensor& b_in, Rule rule,
                 unsigned save, double alpha = 1, bool floating = false) {
  const bool plain = plain_operands(a_in, b_in, floating);
  Tensor ca, cb;  // the promoted operands when compute() converts them
  Tensor out;
  if (plain) {
    out = compute_plain(op, a_in, b_in, alpha);
  } else {
    ca = a_in;
    cb = b_in;
    out = compute(op, ca, cb, alpha, floating);
  }
  const Tensor& a = plain ? a_in : ca;
  const Tensor& b = plain ? b_in : cb;
  if (autograd::needs_grad({&a, &b})) {
    // An input of the output's shape needs no sum_to; its shape is then not kept at all.
    const bool reduce_a = a.shape() != out.shape(), reduce_b = b.shape() != out.shape();
    autograd::record(name, {a, b}, {out},
                     [rule, save, reduce_a, reduce_b, sa = reduce_a ? a.shape() : Shape(),
                      sb = reduce_b ? b.shape() : Shape(),
                      xa = SavedTensor(save & kA ? a : Tensor(), false),
                      xb = SavedTensor(save & kB ? b : Tensor(), false),
                      y = SavedTensor(save & kOut ? out : Tensor(), true)](FunctionNode& self, Grads& g) {
                       std::shared_ptr<autograd::Node> me;
                       if (save) me = self.self();
                       auto get = [&](const SavedTensor& t) { return t.defined() ? t.unpack(me) : Tensor(); };
                       Grads r = rule(g[0], get(xa), get(xb), get(y));
                       if (reduce_a && r[0].defined()) r[0] = sum_to(r[0], sa);
                       if (reduce_b && r[1].defined()) r[1] = sum_to(r[1], sb);
                       return r;
                     });
  }
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  double al = alpha.to_double();
  return binary_op("AddBackward", BinaryOp::Add, a, b,
                   [al](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) {
                     return Grads{g, al == 1 ? g : mul(g, al)};
                   }, kNone, al);
}
Tensor add(const Tensor& a, Scalar b) { return add(a, wrap(a, b)); }
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  double al = alpha.to_double();
  return binary_op("SubBackward", BinaryOp::Sub, a, b,
                   [al](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) {
                     return Grads{g, mul(g, -al)};
                   }, kNone, al);
}
Tensor sub(const Tensor& a, Scalar b) { return sub(a, wrap(a, b)); }
Tensor rsub(const Tensor& a, Scalar b) { return sub(wrap(a, b), a); }
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_op("MulBackward", BinaryOp::Mul, a, b,
                   [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                     return Grads{mul(g, b), mul(g, a)};
                   }, kA | kB);
}
Tensor mul(const Tensor& a, Scalar b) { return mul(a, wrap(a, b)); }
Tensor div(const Tensor& a, const Tensor& b) {
  return binary_op(
      "DivBackward", BinaryOp::Div, a, b,
      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
        Tensor ga = div(g, b);
        return Grads{ga, neg(mul(ga, div(a, b)))};
      },
      kA | kB, 1, /*floating=*/true);
}
Tensor div(const Tensor& a, Scalar b) { return div(a, wrap(a, b)); }
Tensor pow(const Tensor& a, const Tensor& b) {
  return binary_op("PowBackward", BinaryOp::Pow, a, b,
                   [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& y) {
                     Tensor ga = mul(g, mul(b, pow(a, sub(b, 1))));
                     // d/db a^b = a^b log a, taken as 0 where a == 0 and b >= 0 (as PyTorch)
                     Tensor safe = where(eq(detach(a), 0), ones_like(a), a);
                     Tensor gb = mul(g, mul(y, log(safe)));
                     return Grads{ga, gb};
                   }, kA | kB | kOut);
}
Tensor pow(Scalar a, const Tensor& b) { return pow(wrap(b, a), b); }
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op("MaximumBackward", BinaryOp::Maximum, a, b,
                   [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                     // Ties split the gradient evenly, as PyTorch does.
                     Tensor wa = add(to(gt(a, b), g.dtype()), mul(to(eq(a, b), g.dtype()), 0.5));
                     Tensor ga = mul(g, wa);
                     return Grads{ga, sub(g, ga)};
                   }, kA | kB);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op("MinimumBackward", BinaryOp::Minimum, a, b,
                   [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                     Tensor wa = add(to(lt(a, b), g.dtype()), mul(to(eq(a, b), g.dtype()), 0.5));
                     Tensor ga = mul(g, wa);
                     return Grads{ga, sub(g, ga)};
                   }, kA | kB);
}
Tensor remainder(const Tensor& a, const Tensor& b) {
  return binary_op("RemainderBackward", BinaryOp::Remainder, a, b,
                   [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                     return Grads{g, mul(neg(g), floor(div(detach(a), detach(b))))};
                   }, kA | kB);
}
Tensor atan2(const Tensor& a, const Tensor& b) {
  return binary_op(
      "Atan2Backward", BinaryOp::Atan2, a, b,
      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
        Tensor r = add(square(a), square(b));
        return Grads{mul(g, div(b, r)), mul(g, div(neg(a), r))};
      },
      kA | kB, 1, true);
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ge, a, b); }
Tensor eq(const Tensor& a, Scalar b) { return eq(a, wrap(a, b)); }
Tensor ne(const Tensor& a, Scalar b) { return ne(a, wrap(a, b)); }
Tensor lt(const Tensor& a, Scalar b) { return lt(a, wrap(a, b)); }
Tensor le(const Tensor& a, Scalar b) { return le(a, wrap(a, b)); }
Tensor gt(const Tensor& a, Scalar b) { return gt(a, wrap(a, b)); }
Tensor ge(const Tensor& a, Scalar b) { return ge(a, wrap(a, b)); }
Tensor logical_and(const Tensor& a, const Tensor& b) { return compare(BinaryOp::LogicalAnd, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return compare(BinaryOp::LogicalOr, a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return compare(BinaryOp::LogicalXor, a, b); }

Tensor where(const Tensor& cond, const Tensor& a_in, const Tensor& b_in) {
  KOAN_CHECK(cond.dtype() == DType::Bool, DTypeError, "where: condition must be bool, got ",
             name(cond.dtype()));
  DType dt = result_type(a_in, b_in);
  Tensor a = cast(a_in, dt), b = cast(b_in, dt);
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = new_output(shape, dt);
  kernels::where(alias_with_layout(cond, koan::expand(cond.layout(), shape)),
                 alias_with_layout(a, koan::expand(a.layout(), shape)),
                 alias_with_layout(b, koan::expand(b.layout(), shape)), out);
  if (autograd::needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    autograd::record("WhereBackward", {a, b}, {out},
                     [sa, sb, c = SavedTensor(cond, false)](FunctionNode& self, Grads& g) {
                       Tensor cd = c.unpack(self.self());
                       Tensor z = zeros_like(g[0]);
                       return Grads{sum_to(where(cd, g[0], z), sa), sum_to(where(cd, z, g[0]), sb)};
                     });
  }
  return out;
}
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) { return where(cond, a, wrap(a, b)); }

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  if (a.shape() != b.shape()) return false;
  auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) || std::isnan(vb[i])) {
      if (!(equal_nan && std::isnan(va[i]) && std::isnan(vb[i]))) return false;
      continue;
    }
    if (va[i] == vb[i]) continue;  // equal infinities
    if (!(std::fabs(va[i] - vb[i]) <= atol + rtol * std::fabs(vb[i]))) return false;
  }
  return true;
}

bool equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace koan
