// Pointwise losses (regression, binary cross entropy, KL divergence) as compositions of ops:
// each is a handful of elementwise passes, their gradients reach every floating argument
// (targets and weights included) and differentiate again under create_graph.
#include "koan/ops/loss.h"

#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"

namespace koan {
using namespace ops_detail;

Reduction parse_reduction(const std::string& r, const char* op) {
  if (r == "none") return Reduction::None;
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  throw ValueError(str(op, ": reduction must be \"none\", \"mean\" or \"sum\", got \"", r, "\""));
}

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
  }
  return "?";
}

namespace ops_detail {

Tensor reduce_loss(const Tensor& loss, Reduction r) {
  switch (r) {
    case Reduction::None: return loss;
    case Reduction::Mean: return mean(loss);
    case Reduction::Sum: return sum(loss);
  }
  return loss;
}

// Prediction and target: defined, same floating dtype, same shape.
void check_pair(const Tensor& input, const Tensor& target, const char* op) {
  KOAN_CHECK(input.defined() && target.defined(), ValueError, op, ": undefined input or target");
  KOAN_CHECK(is_floating(input.dtype()), DTypeError, op, ": input needs a floating dtype, got ",
             name(input.dtype()));
  KOAN_CHECK(target.dtype() == input.dtype(), DTypeError, op, ": target dtype ", name(target.dtype()),
             " differs from input dtype ", name(input.dtype()));
  KOAN_CHECK(target.shape() == input.shape(), ShapeError, op, ": target shape ", target.shape(),
             " differs from input shape ", input.shape());
}

// An optional weight: floating, of the input's dtype (broadcasting is checked by the ops).
void check_weight(const Tensor& w, const Tensor& input, const char* op, const char* what) {
  if (!w.defined()) return;
  KOAN_CHECK(w.dtype() == input.dtype(), DTypeError, op, ": ", what, " dtype ", name(w.dtype()),
             " differs from input dtype ", name(input.dtype()));
}

}  // namespace ops_detail

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_pair(input, target, "mse_loss");
  return reduce_loss(square(sub(input, target)), r);
}
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& r) {
  return mse_loss(input, target, parse_reduction(r, "mse_loss"));
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_pair(input, target, "l1_loss");
  return reduce_loss(abs(sub(input, target)), r);
}
Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& r) {
  return l1_loss(input, target, parse_reduction(r, "l1_loss"));
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r, double beta) {
  check_pair(input, target, "smooth_l1_loss");
  KOAN_CHECK(beta >= 0, ValueError, "smooth_l1_loss: beta must be >= 0, got ", beta);
  if (beta == 0) return reduce_loss(abs(sub(input, target)), r);
  Tensor d = sub(input, target);
  Tensor ad = abs(d);
  Tensor quad = mul(square(d), 0.5 / beta);
  return reduce_loss(where(lt(ad, beta), quad, sub(ad, 0.5 * beta)), r);
}
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& r, double beta) {
  return smooth_l1_loss(input, target, parse_reduction(r, "smooth_l1_loss"), beta);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r, double delta) {
  check_pair(input, target, "huber_loss");
  KOAN_CHECK(delta > 0, ValueError, "huber_loss: delta must be > 0, got ", delta);
  Tensor d = sub(input, target);
  Tensor ad = abs(d);
  Tensor quad = mul(square(d), 0.5);
  return reduce_loss(where(lt(ad, delta), quad, mul(sub(ad, 0.5 * delta), delta)), r);
}
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& r, double delta) {
  return huber_loss(input, target, parse_reduction(r, "huber_loss"), delta);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r) {
  const char* op = "binary_cross_entropy";
  check_pair(input, target, op);
  check_weight(weight, input, op, "weight");
  {
    NoGradGuard ng;
    Tensor x = detach(input);
    KOAN_CHECK(!any(logical_or(lt(x, 0), gt(x, 1))).item<bool>(), ValueError, op,
               ": input holds values outside [0, 1]; pass probabilities (or use "
               "binary_cross_entropy_with_logits on logits)");
  }
  // PyTorch clamps each log at -100 so p = 0 or 1 gives a finite loss.
  Tensor log_p = clamp(log(input), -100.0, std::nullopt);
  Tensor log_1mp = clamp(log(rsub(input, 1)), -100.0, std::nullopt);
  Tensor loss = neg(add(mul(target, log_p), mul(rsub(target, 1), log_1mp)));
  if (weight.defined()) loss = mul(loss, weight);
  return reduce_loss(loss, r);
}
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            const std::string& r) {
  return binary_cross_entropy(input, target, weight, parse_reduction(r, "binary_cross_entropy"));
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction r) {
  const char* op = "binary_cross_entropy_with_logits";
  check_pair(input, target, op);
  check_weight(weight, input, op, "weight");
  check_weight(pos_weight, input, op, "pos_weight");
  // softplus(-x) = log(1 + exp(-x)), computed without overflow for any x (and its gradient
  // -sigmoid(-x) is exact at x = 0, unlike a max(-x, 0) + log1p(exp(-|x|)) split).
  Tensor sp = softplus(neg(input));
  Tensor pos = sp;
  if (pos_weight.defined()) pos = mul(add(mul(sub(pos_weight, 1), target), 1), sp);
  Tensor loss = add(mul(rsub(target, 1), input), pos);
  if (weight.defined()) loss = mul(loss, weight);
  return reduce_loss(loss, r);
}
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, const std::string& r) {
  return binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                          parse_reduction(r, "binary_cross_entropy_with_logits"));
}

namespace {

Tensor kl_div_impl(const Tensor& input, const Tensor& target, const std::string& reduction, bool log_target) {
  check_pair(input, target, "kl_div");
  Tensor loss;
  if (log_target) {
    loss = mul(exp(target), sub(target, input));
  } else {
    // xlogy(t, t) - t x: 0 where t == 0.  log reads 1 there, so neither the value nor the
    // gradient meets 0 * log(0).
    Tensor zero = eq(detach(target), 0);
    Tensor safe = where(zero, ones_like(target), target);
    loss = sub(mul(target, log(safe)), mul(target, input));
  }
  if (reduction == "batchmean") {
    Tensor s = sum(loss);
    return input.dim() == 0 ? s : div(s, static_cast<double>(input.size(0)));
  }
  return reduce_loss(loss, parse_reduction(reduction, "kl_div"));
}

}  // namespace

Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction, bool log_target) {
  KOAN_CHECK(reduction == "none" || reduction == "mean" || reduction == "sum" || reduction == "batchmean",
             ValueError, "kl_div: reduction must be \"none\", \"mean\", \"sum\" or \"batchmean\", got \"",
             reduction, "\"");
  return kl_div_impl(input, target, reduction, log_target);
}
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  return kl_div_impl(input, target, reduction_name(reduction), log_target);
}

}  // namespace koan
