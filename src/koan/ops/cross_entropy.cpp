// nll_loss and cross_entropy.  cross_entropy over class indices is one fused op: a kernel does
// log-softmax, the target pick, label smoothing and class weights in one pass and keeps only
// each position's (max, log-sum); its backward is softmax(x) - onehot in one more pass, or the
// same rule written with ops under create_graph.  Probability targets, nll_loss, and the rare
// case of a class weight that itself needs a gradient are compositions of ops.
#include "koan/kernels/loss.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/index.h"
#include "koan/ops/loss.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/softmax.h"
#include "koan/ops/unary.h"

namespace koan {
using namespace ops_detail;

namespace {

// Class-index input in batched form: x (N, C, d...), t (N, d...) contiguous int64.
struct Batched {
  Tensor x, t;
  bool unbatched = false;  // the caller passed (C) and a 0-d target
};

Shape without_class_dim(const Shape& s) {
  Shape r;
  for (size_t d = 0; d < s.size(); ++d)
    if (d != 1) r.push_back(s[d]);
  return r;
}

void check_input(const Tensor& input, const Tensor& target, const char* op) {
  KOAN_CHECK(input.defined() && target.defined(), ValueError, op, ": undefined input or target");
  KOAN_CHECK(is_floating(input.dtype()), DTypeError, op, ": input needs a floating dtype, got ",
             name(input.dtype()));
  KOAN_CHECK(input.dim() >= 1, ShapeError, op, ": input needs a class dim, got shape ", input.shape());
}

// The weight, if any: (C) of the input's dtype.
void check_class_weight(const Tensor& w, const Tensor& input, int64_t classes, const char* op) {
  if (!w.defined()) return;
  KOAN_CHECK(w.dim() == 1 && w.size(0) == classes, ShapeError, op, ": weight shape ", w.shape(),
             " should be (", classes, ") for ", classes, " classes");
  KOAN_CHECK(w.dtype() == input.dtype(), DTypeError, op, ": weight dtype ", name(w.dtype()),
             " differs from input dtype ", name(input.dtype()));
}

Batched check_class_target(const Tensor& input, const Tensor& target, const Tensor& weight,
                           int64_t ignore_index, const char* op) {
  check_input(input, target, op);
  KOAN_CHECK(target.dtype() == DType::Int64, DTypeError, op, ": class-index target must be int64, got ",
             name(target.dtype()));
  Batched b;
  b.unbatched = input.dim() == 1;
  b.x = b.unbatched ? unsqueeze(input, 0) : input;
  Tensor t = b.unbatched && target.dim() == 0 ? unsqueeze(target, 0) : target;
  Shape want = without_class_dim(b.x.shape());
  KOAN_CHECK(t.shape() == want && (!b.unbatched || target.dim() == 0), ShapeError, op, ": target shape ",
             target.shape(), " does not fit input shape ", input.shape(), " (expected ",
             b.unbatched ? Shape{} : want, ")");
  int64_t classes = b.x.size(1);
  check_class_weight(weight, input, classes, op);
  b.t = dense(t);
  kernels::check_class_indices(b.t, classes, ignore_index, op);
  return b;
}

// Per-class weights shaped to broadcast along dim 1 of an (N, C, d...) tensor.
Tensor class_view(const Tensor& w, int64_t ndim) {
  Shape s(ndim, 1);
  s[1] = w.size(0);
  return reshape(w, s);
}

// Per-position weight of the target, 0 where ignored (w_t, or 1 without weights).
struct Picks {
  Tensor safe;  // targets with ignored ones replaced by class 0 (a valid index)
  Tensor keep;  // 1 where not ignored, input dtype
  Tensor wt;    // keep * w_t
};

Picks picks(const Tensor& t, const Tensor& weight, int64_t ignore_index, DType dtype) {
  Picks p;
  Tensor ignored = eq(t, ignore_index);
  p.safe = masked_fill(t, ignored, 0);
  p.keep = to(logical_not(ignored), dtype);
  p.wt = weight.defined() ? mul(reshape(index_select(weight, 0, flatten(p.safe)), t.shape()), p.keep) : p.keep;
  return p;
}

// (1 - eps) * nll + eps / C * smooth, reduced; mean divides by the summed target weight.
Tensor combine(const Tensor& nll, const Tensor& smooth, const Tensor& wt, double eps, int64_t classes,
               Reduction r, bool unbatched) {
  Tensor per = eps > 0 ? add(mul(nll, 1 - eps), mul(smooth, eps / static_cast<double>(classes))) : nll;
  switch (r) {
    case Reduction::None: return unbatched ? squeeze(per, 0) : per;
    case Reduction::Sum: return sum(per);
    case Reduction::Mean: return div(sum(per), sum(wt));
  }
  return per;
}

// cross_entropy over class indices with ops only: the reference the fused op must equal, and
// the path for a weight that needs a gradient.
Tensor cross_entropy_composite(const Batched& b, const CrossEntropyOptions& o) {
  Tensor lp = log_softmax(b.x, 1);
  Picks p = picks(b.t, o.weight, o.ignore_index, lp.dtype());
  Tensor nll = neg(mul(squeeze(gather(lp, 1, unsqueeze(p.safe, 1)), 1), p.wt));
  Tensor smooth;
  if (o.label_smoothing > 0) {
    Tensor weighted = o.weight.defined() ? mul(lp, class_view(o.weight, lp.dim())) : lp;
    smooth = mul(neg(sum(weighted, {1})), p.keep);
  }
  return combine(nll, smooth, p.wt, o.label_smoothing, b.x.size(1), o.reduction, b.unbatched);
}

// Gradient of the fused op: g scales alpha * w_t * (softmax - onehot) + beta * (softmax * sum(w) - w).
Tensor cross_entropy_backward(const Tensor& g, const Tensor& x, const Tensor& t, const Tensor& w,
                              const Tensor& stats, int64_t ignore_index, double alpha, double beta,
                              Reduction r) {
  if (!autograd::needs_grad({&g, &x})) {
    Tensor gx = new_output(x.shape(), x.dtype());
    kernels::cross_entropy_backward(dense(x), t, w, ignore_index, stats, dense(g),
                                    alpha, beta, gx);
    return gx;
  }
  // create_graph: the same rule with ops, so it can be differentiated again.
  Tensor p = softmax(x, 1);
  Tensor gs = r == Reduction::None ? unsqueeze(g, 1) : g;
  Picks k = picks(t, w, ignore_index, x.dtype());
  Tensor a = mul(mul(gs, unsqueeze(k.wt, 1)), alpha);  // (N, 1, d...)
  Tensor gx = sub(mul(a, p), scatter(zeros_like(x), 1, unsqueeze(k.safe, 1), a));
  if (beta != 0) {
    Tensor b = mul(mul(gs, unsqueeze(k.keep, 1)), beta);
    double wsum = w.defined() ? sum(w).item<double>() : static_cast<double>(x.size(1));
    Tensor wv = w.defined() ? class_view(w, x.dim()) : ones({1}, {.dtype = x.dtype()});
    gx = add(gx, mul(b, sub(mul(p, wsum), wv)));
  }
  return gx;
}

Tensor cross_entropy_fused(const Batched& b, const CrossEntropyOptions& o) {
  const Tensor& x = b.x;
  const DType dt = x.dtype();
  const double eps = o.label_smoothing;
  const int64_t classes = x.size(1);
  Tensor w = dense(o.weight);
  Tensor stats = new_output({b.t.numel(), 2}, dt), nll = new_output(b.t.shape(), dt),
         wt = new_output(b.t.shape(), dt), smooth = eps > 0 ? new_output(b.t.shape(), dt) : Tensor();
  kernels::cross_entropy_forward(dense(x), b.t, w, o.ignore_index, stats, nll, smooth, wt);
  double alpha = 1 - eps, beta = eps / static_cast<double>(classes);
  Tensor out;
  {
    NoGradGuard ng;
    Tensor per = eps > 0 ? add(mul(nll, alpha), mul(smooth, beta)) : nll;
    if (o.reduction == Reduction::None) {
      out = per;
    } else {
      out = sum(per);
      if (o.reduction == Reduction::Mean) {
        Tensor wsum = sum(wt);
        out = div(out, wsum);
        double W = wsum.item<double>();
        alpha /= W;
        beta /= W;
      }
    }
  }
  if (autograd::needs_grad({&x})) {
    autograd::record("CrossEntropyBackward", {x}, {out},
                     [sx = SavedTensor(x, false), st = SavedTensor(b.t, false), w, stats,
                      ignore = o.ignore_index, alpha, beta, r = o.reduction](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       return Grads{cross_entropy_backward(g[0], sx.unpack(me), st.unpack(me), w, stats,
                                                           ignore, alpha, beta, r)};
                     });
  }
  return b.unbatched && o.reduction == Reduction::None ? squeeze(out, 0) : out;
}

Tensor cross_entropy_probs(const Tensor& input, const Tensor& target, const CrossEntropyOptions& o) {
  const char* op = "cross_entropy";
  KOAN_CHECK(target.dtype() == input.dtype(), DTypeError, op, ": probability target dtype ",
             name(target.dtype()), " differs from input dtype ", name(input.dtype()),
             " (class-index targets are int64)");
  KOAN_CHECK(target.shape() == input.shape(), ShapeError, op, ": probability target shape ", target.shape(),
             " differs from input shape ", input.shape());
  KOAN_CHECK(o.ignore_index < 0, ValueError, op, ": ignore_index=", o.ignore_index,
             " is not supported for probability targets");
  bool unbatched = input.dim() == 1;
  Tensor x = unbatched ? unsqueeze(input, 0) : input, t = unbatched ? unsqueeze(target, 0) : target;
  const int64_t classes = x.size(1);
  check_class_weight(o.weight, input, classes, op);
  const double eps = o.label_smoothing;
  Tensor lp = log_softmax(x, 1);
  Tensor tt = eps > 0 ? add(mul(t, 1 - eps), eps / static_cast<double>(classes)) : t;
  Tensor prod = mul(lp, tt);
  if (o.weight.defined()) prod = mul(prod, class_view(o.weight, x.dim()));
  Tensor per = neg(sum(prod, {1}));
  switch (o.reduction) {
    case Reduction::None: return unbatched ? squeeze(per, 0) : per;
    case Reduction::Sum: return sum(per);
    case Reduction::Mean: return div(sum(per), static_cast<double>(per.numel()));
  }
  return per;
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& o) {
  Batched b = check_class_target(input, target, o.weight, o.ignore_index, "nll_loss");
  Picks p = picks(b.t, o.weight, o.ignore_index, b.x.dtype());
  Tensor nll = neg(mul(squeeze(gather(b.x, 1, unsqueeze(p.safe, 1)), 1), p.wt));
  return combine(nll, Tensor(), p.wt, 0, b.x.size(1), o.reduction, b.unbatched);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& o) {
  const char* op = "cross_entropy";
  check_input(input, target, op);
  KOAN_CHECK(o.label_smoothing >= 0 && o.label_smoothing <= 1, ValueError, op,
             ": label_smoothing must be in [0, 1], got ", o.label_smoothing);
  if (is_floating(target.dtype())) return cross_entropy_probs(input, target, o);
  Batched b = check_class_target(input, target, o.weight, o.ignore_index, op);
  if (o.weight.defined() && autograd::needs_grad({&o.weight})) return cross_entropy_composite(b, o);
  return cross_entropy_fused(b, o);
}

}  // namespace koan
