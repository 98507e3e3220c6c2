#include "koan/ops/norm.h"

#include "koan/kernels/norm.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/inplace.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/unary.h"

namespace koan {
using namespace ops_detail;

namespace {

Tensor unpack_opt(const SavedTensor& s, FunctionNode& self) {
  return s.defined() ? s.unpack(self.self()) : Tensor();
}
bool tracks(const Tensor& t) { return t.defined() && t.requires_grad(); }

// ---- batch norm

void check_channel_tensor(const Tensor& t, const char* what, const Tensor& x) {
  if (!t.defined()) return;
  KOAN_CHECK(t.dim() == 1 && t.size(0) == x.size(1), ShapeError, "batch_norm: ", what, " has shape ",
             t.shape(), " but the input ", x.shape(), " has ", x.size(1), " channels (dim 1)");
  KOAN_CHECK(t.dtype() == x.dtype(), DTypeError, "batch_norm: ", what, " is ", name(t.dtype()),
             " but the input is ", name(x.dtype()));
}

// A (C) tensor shaped (1, C, 1, ...) to broadcast against an ndim input.
Tensor per_channel(const Tensor& t, int64_t ndim) {
  Shape s(ndim, 1);
  s[1] = t.size(0);
  return reshape(t, s);
}

std::vector<int64_t> all_but_channel(int64_t ndim) {
  std::vector<int64_t> r{0};
  for (int64_t d = 2; d < ndim; ++d) r.push_back(d);
  return r;
}

struct BnGrads {
  Tensor x, w, b, rm, rv;
};

// The batch-norm gradients written with ops, so they can be differentiated again.  training
// recomputes the batch statistics from x (they are functions of x); eval reads the running ones.
BnGrads batch_norm_backward_ops(const Tensor& G, const Tensor& X, const Tensor& W, const Tensor& RM,
                                const Tensor& RV, bool training, double eps, const bool need[5]) {
  const int64_t nd = X.dim();
  const auto r = all_but_channel(nd);
  Tensor Wv = W.defined() ? per_channel(W, nd) : Tensor();
  Tensor gwi = Wv.defined() ? mul(G, Wv) : G;  // g w: the gradient of the normalised x
  BnGrads out;
  if (need[2]) out.b = sum(G, r);
  if (training) {
    Tensor xc = sub(X, mean(X, r, true));
    Tensor is = rsqrt(add(mean(mul(xc, xc), r, true), eps));
    Tensor xhat = mul(xc, is);
    if (need[1]) out.w = sum(mul(G, xhat), r);
    if (need[0])
      out.x = mul(is, sub(sub(gwi, mean(gwi, r, true)), mul(xhat, mean(mul(gwi, xhat), r, true))));
    return out;
  }
  Tensor isc = rsqrt(add(RV, eps));
  Tensor is = per_channel(isc, nd);
  Tensor xc = sub(X, per_channel(RM, nd));
  if (need[0]) out.x = mul(gwi, is);
  if (need[1]) out.w = sum(mul(G, mul(xc, is)), r);
  if (need[3]) out.rm = neg(sum(mul(gwi, is), r));
  // d/dv (v + eps)^(-1/2) = -1/2 (v + eps)^(-3/2)
  if (need[4]) out.rv = mul(sum(mul(gwi, xc), r), mul(pow(isc, 3), -0.5));
  return out;
}

// ---- layer norm

std::vector<int64_t> dim_range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t d = from; d < to; ++d) v.push_back(d);
  return v;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps) {
  KOAN_CHECK(x.defined(), ValueError, "batch_norm: undefined input");
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, "batch_norm: needs a floating input, got ",
             name(x.dtype()));
  KOAN_CHECK(x.dim() >= 2, ShapeError, "batch_norm: input ", x.shape(),
             " needs at least 2 dims (N, C, ...)");
  check_channel_tensor(weight, "weight", x);
  check_channel_tensor(bias, "bias", x);
  check_channel_tensor(running_mean, "running_mean", x);
  check_channel_tensor(running_var, "running_var", x);
  KOAN_CHECK(running_mean.defined() == running_var.defined(), ValueError,
             "batch_norm: give both running_mean and running_var, or neither");
  KOAN_CHECK(training || running_mean.defined(), ValueError,
             "batch_norm: eval mode (training=false) needs running_mean and running_var");
  KOAN_CHECK(eps >= 0, ValueError, "batch_norm: eps must be >= 0, got ", eps);
  const int64_t C = x.size(1);
  const int64_t M = C > 0 ? x.numel() / C : 0;  // values per channel
  KOAN_CHECK(!training || M > 1, ValueError, "batch_norm: expected more than 1 value per channel when "
             "training, got input ", x.shape());
  const DType dt = x.dtype();

  Tensor xc = dense(x);
  Tensor mean_c, invstd;
  {
    NoGradGuard ng;
    if (training) {
      mean_c = new_output({C}, dt);
      Tensor var = new_output({C}, dt);
      kernels::batch_norm_stats(xc, mean_c, var);
      invstd = rsqrt(add(var, eps));
      if (running_mean.defined()) {
        // The running variance is the unbiased estimate, as in PyTorch.
        Tensor rm = running_mean, rv = running_var;
        Tensor unbiased = mul(var, static_cast<double>(M) / static_cast<double>(M - 1));
        mul_(rm, 1 - momentum);
        add_(rm, mean_c, momentum);
        mul_(rv, 1 - momentum);
        add_(rv, unbiased, momentum);
      }
    } else {
      mean_c = dense(running_mean);
      invstd = rsqrt(add(detach(running_var), eps));
    }
  }
  Tensor w = dense(weight), b = dense(bias);
  Tensor out = new_output(x.shape(), dt);
  kernels::batch_norm_forward(xc, mean_c, invstd, w, b, out);

  // Training statistics come from the batch, so the running ones get no gradient then.
  Tensor rm_in = training ? Tensor() : running_mean, rv_in = training ? Tensor() : running_var;
  if (autograd::needs_grad({&x, &weight, &bias, &rm_in, &rv_in})) {
    struct Need {
      bool v[5];
    } need{{tracks(x), tracks(weight), tracks(bias), tracks(rm_in), tracks(rv_in)}};
    bool stats_grad = need.v[3] || need.v[4];
    autograd::record(
        "BatchNormBackward", {x, weight, bias, rm_in, rv_in}, {out},
        [sx = SavedTensor(x, false), sw = SavedTensor(weight, false), srm = SavedTensor(rm_in, false),
         srv = SavedTensor(rv_in, false), smean = SavedTensor(mean_c, false),
         sinv = SavedTensor(invstd, false), need, stats_grad, training, eps, C](FunctionNode& self,
                                                                                Grads& g) {
          Tensor G = g[0], X = sx.unpack(self.self()), W = unpack_opt(sw, self);
          Tensor RM = unpack_opt(srm, self), RV = unpack_opt(srv, self);
          if (!stats_grad && !autograd::needs_grad({&G, &X, &W})) {
            // Plain backward: one fused pass for the channel sums, one for gx.
            Tensor gx = need.v[0] ? new_output(X.shape(), X.dtype()) : Tensor();
            Tensor gw = need.v[1] ? new_output({C}, X.dtype()) : Tensor();
            Tensor gb = need.v[2] ? new_output({C}, X.dtype()) : Tensor();
            kernels::batch_norm_backward(dense(G), dense(X),
                                         smean.unpack(self.self()), sinv.unpack(self.self()),
                                         dense(W), training, gx, gw, gb);
            return Grads{gx, gw, gb, Tensor(), Tensor()};
          }
          BnGrads r = batch_norm_backward_ops(G, X, W, RM, RV, training, eps, need.v);
          return Grads{r.x, r.w, r.b, r.rm, r.rv};
        });
  }
  return out;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  KOAN_CHECK(x.defined(), ValueError, "layer_norm: undefined input");
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, "layer_norm: needs a floating input, got ",
             name(x.dtype()));
  const int64_t k = static_cast<int64_t>(normalized_shape.size()), nd = x.dim();
  KOAN_CHECK(k >= 1, ShapeError, "layer_norm: normalized_shape must have at least 1 dim, got ",
             normalized_shape);
  KOAN_CHECK(k <= nd && Shape(x.shape().end() - k, x.shape().end()) == normalized_shape, ShapeError,
             "layer_norm: normalized_shape ", normalized_shape, " must equal the last dims of the input ",
             x.shape());
  for (const auto& [t, what] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}}) {
    if (!t->defined()) continue;
    KOAN_CHECK(t->shape() == normalized_shape, ShapeError, "layer_norm: ", what, " has shape ",
               t->shape(), " but normalized_shape is ", normalized_shape);
    KOAN_CHECK(t->dtype() == x.dtype(), DTypeError, "layer_norm: ", what, " is ", name(t->dtype()),
               " but the input is ", name(x.dtype()));
  }
  KOAN_CHECK(eps >= 0, ValueError, "layer_norm: eps must be >= 0, got ", eps);
  const int64_t n = numel(normalized_shape);
  const int64_t rows = n > 0 ? x.numel() / n : 0;
  const DType dt = x.dtype();
  Tensor out = new_output(x.shape(), dt), mean_r = new_output({rows}, dt), rstd = new_output({rows}, dt);
  kernels::layer_norm(dense(x), n, dense(weight), dense(bias), eps, out,
                      mean_r, rstd);
  if (autograd::needs_grad({&x, &weight, &bias})) {
    bool need[3] = {tracks(x), tracks(weight), tracks(bias)};
    autograd::record(
        "LayerNormBackward", {x, weight, bias}, {out},
        [sx = SavedTensor(x, false), sw = SavedTensor(weight, false), smean = SavedTensor(mean_r, false),
         srstd = SavedTensor(rstd, false), nx = need[0], nw = need[1], nb = need[2], k, n, eps,
         wshape = normalized_shape](FunctionNode& self, Grads& g) {
          Tensor G = g[0], X = sx.unpack(self.self()), W = unpack_opt(sw, self);
          if (!autograd::needs_grad({&G, &X, &W})) {
            Tensor gx = nx ? new_output(X.shape(), X.dtype()) : Tensor();
            Tensor gw = nw ? new_output(wshape, X.dtype()) : Tensor();
            Tensor gb = nb ? new_output(wshape, X.dtype()) : Tensor();
            kernels::layer_norm_backward(dense(G), dense(X), n,
                                         smean.unpack(self.self()), srstd.unpack(self.self()),
                                         dense(W), gx, gw, gb);
            return Grads{gx, gw, gb};
          }
          // Written with ops for create_graph: the statistics are recomputed from x.
          const int64_t nd = X.dim();
          const auto d = dim_range(nd - k, nd), lead = dim_range(0, nd - k);
          Tensor xc = sub(X, mean(X, d, true));
          Tensor rs = rsqrt(add(mean(mul(xc, xc), d, true), eps));
          Tensor xhat = mul(xc, rs);
          Tensor gx, gw, gb;
          // sum over no dims would mean every dim: an input of exactly normalized_shape has no
          // leading dims to reduce.
          if (nw) gw = lead.empty() ? mul(G, xhat) : sum(mul(G, xhat), lead);
          if (nb) gb = lead.empty() ? G : sum(G, lead);
          if (nx) {
            Tensor dxh = W.defined() ? mul(G, W) : G;
            gx = mul(rs, sub(sub(dxh, mean(dxh, d, true)), mul(xhat, mean(mul(dxh, xhat), d, true))));
          }
          return Grads{gx, gw, gb};
        });
  }
  return out;
}

}  // namespace koan
