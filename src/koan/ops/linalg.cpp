#include "koan/ops/linalg.h"

#include "koan/kernels/matmul.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;

namespace {

// The core: batched product of 3-D tensors whose batch dims broadcast (stride 0 allowed).
// Backward: dA = dC @ B^T, dB = A^T @ dC, each summed back over broadcast batch dims.
Tensor bmm_raw(const Tensor& a, const Tensor& b, const char* op) {
  KOAN_CHECK(a.dtype() == b.dtype(), DTypeError, op, ": expected both operands to have the same ",
             "dtype, got ", name(a.dtype()), " and ", name(b.dtype()));
  KOAN_CHECK(a.dtype() != DType::Bool, DTypeError, op, ": not defined for bool tensors");
  KOAN_CHECK(a.shape()[2] == b.shape()[1], ShapeError, op, ": shapes ", a.shape(), " and ",
             b.shape(), " cannot be multiplied (", a.shape()[1], "x", a.shape()[2], " and ",
             b.shape()[1], "x", b.shape()[2], ")");
  int64_t batch = std::max(a.shape()[0], b.shape()[0]);
  KOAN_CHECK(a.shape()[0] == b.shape()[0] || a.shape()[0] == 1 || b.shape()[0] == 1, ShapeError,
             op, ": batch sizes ", a.shape()[0], " and ", b.shape()[0], " do not broadcast");
  Tensor ea = a.shape()[0] == batch ? a : expand(a, {batch, a.shape()[1], a.shape()[2]});
  Tensor eb = b.shape()[0] == batch ? b : expand(b, {batch, b.shape()[1], b.shape()[2]});
  Tensor out = new_output({batch, a.shape()[1], b.shape()[2]}, a.dtype());
  kernels::bmm(ea, eb, out);
  if (autograd::needs_grad({&ea, &eb})) {
    autograd::record("BmmBackward", {ea, eb}, {out},
                     [sa = SavedTensor(ea, false), sb = SavedTensor(eb, false)](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       Tensor av = sa.unpack(me), bv = sb.unpack(me);
                       Grads r(2);
                       r[0] = bmm_raw(g[0], transpose(bv, 1, 2), "matmul backward");
                       r[1] = bmm_raw(transpose(av, 1, 2), g[0], "matmul backward");
                       return r;
                     });
  }
  return out;
}

// dense() (ops/common.h) of t flattened to rows: (..., k) -> (rows, k).
Tensor rows_for_kernel(const Tensor& t, int64_t k) {
  if (t.dim() == 2 && t.is_contiguous()) return t;
  NoGradGuard g;
  return reshape(contiguous(t), {-1, k});
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  KOAN_CHECK(a_in.dim() >= 1 && b_in.dim() >= 1, ShapeError, "matmul: both arguments need at ",
             "least 1 dim, got shapes ", a_in.shape(), " and ", b_in.shape());
  DType dt = promote_types(a_in.dtype(), b_in.dtype());
  Tensor a = cast(a_in, dt), b = cast(b_in, dt);
  // 1-D operands become matrices, and the added dim is removed from the result.
  bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
  if (a_vec) a = unsqueeze(a, 0);
  if (b_vec) b = unsqueeze(b, 1);
  KOAN_CHECK(a.shape().back() == b.shape()[b.dim() - 2], ShapeError, "matmul: shapes ",
             a_in.shape(), " and ", b_in.shape(), " cannot be multiplied (inner dims ",
             a.shape().back(), " and ", b.shape()[b.dim() - 2], " differ)");
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  int64_t m = a.shape()[a.dim() - 2], k = a.shape().back(), n = b.shape().back();
  int64_t nb = numel(batch);
  Tensor a3, b3;
  // A batched a times a plain matrix b folds the batch into rows: one large GEMM.
  if (bb.empty() && !ba.empty()) {
    a3 = reshape(a, {1, nb * m, k});
    b3 = unsqueeze(b, 0);
    m = nb * m;
    nb = 1;
  } else {
    Shape fa = batch, fb = batch;
    fa.push_back(m); fa.push_back(k);
    fb.push_back(k); fb.push_back(n);
    a3 = reshape(ba == batch ? a : expand(a, fa), {nb, m, k});
    b3 = bb == batch ? reshape(b, {nb, k, n}) : reshape(expand(b, fb), {nb, k, n});
    if (bb.empty()) b3 = expand(unsqueeze(b, 0), {nb, k, n});
  }
  Tensor out = bmm_raw(a3, b3, "matmul");
  Shape os = batch;
  if (!a_vec) os.push_back(a.shape()[a.dim() - 2]);
  if (!b_vec) os.push_back(n);
  return reshape(out, os);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  KOAN_CHECK(a.dim() == 2 && b.dim() == 2, ShapeError, "mm: expected 2-D tensors, got shapes ",
             a.shape(), " and ", b.shape());
  return matmul(a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  KOAN_CHECK(a.dim() == 3 && b.dim() == 3, ShapeError, "bmm: expected 3-D tensors, got shapes ",
             a.shape(), " and ", b.shape());
  KOAN_CHECK(a.shape()[0] == b.shape()[0], ShapeError, "bmm: batch sizes differ: ", a.shape(),
             " and ", b.shape());
  return matmul(a, b);
}

// y = x w^T + b as one node: one GEMM forward, and a backward whose weight gradient gy^T x comes
// out of one GEMM already in w's (out, in) layout.  Composed of matmul, t and add it took four
// nodes, and the weight gradient arrived as a transposed view that every accumulation then read
// with strides.  A first-order backward calls the two GEMMs directly (kernels::linear_backward);
// under create_graph it is made of ops, so it differentiates again.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  KOAN_CHECK(weight.dim() == 2, ShapeError, "linear: weight must be 2-D (out, in), got ", weight.shape());
  KOAN_CHECK(x.dim() >= 1 && x.shape().back() == weight.shape()[1], ShapeError, "linear: input ",
             x.shape(), " has ", x.dim() ? x.shape().back() : 0, " features but weight ",
             weight.shape(), " expects ", weight.shape()[1]);
  KOAN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), ShapeError, "linear: bias ",
             bias.defined() ? bias.shape() : Shape{}, " must have shape [", weight.size(0), "] (one per output)");
  const DType dt = x.dtype();
  if (!is_floating(dt) || weight.dtype() != dt || (bias.defined() && bias.dtype() != dt)) {
    Tensor y = matmul(x, t(weight));  // mixed or integer dtypes: matmul's promotion rules
    return bias.defined() ? add(y, bias) : y;
  }
  const int64_t in = weight.size(1), out = weight.size(0);
  Tensor x2 = rows_for_kernel(x, in);
  Tensor y = new_output({x2.size(0), out}, dt);
  kernels::linear(x2, dense(weight), dense(bias), y);
  if (autograd::needs_grad({&x, &weight, &bias})) {
    autograd::record("AddmmBackward", {x, weight, bias}, {y},
                     [sx = weight.requires_grad() ? SavedTensor(x, false) : SavedTensor(),
                      sw = x.requires_grad() ? SavedTensor(weight, false) : SavedTensor(),
                      in, xs = x.shape()](FunctionNode& self, Grads& g) {
                       auto me = self.self();
                       Grads r(3);
                       const bool want_x = wants(self, 0), want_w = wants(self, 1);
                       Tensor w = want_x ? sw.unpack(me) : Tensor(), xv = want_w ? sx.unpack(me) : Tensor();
                       const bool first_order = !autograd::needs_grad({&g[0], &w, &xv});
                       if ((want_x || want_w) && first_order && g[0].dtype() == (want_x ? w : xv).dtype()) {
                         // The two GEMMs straight on the kernel: no matmul views or nodes.
                         Tensor g2 = rows_for_kernel(g[0], g[0].size(-1));
                         if (want_x) r[0] = new_output({g2.size(0), in}, g2.dtype());
                         if (want_w) r[1] = new_output({g2.size(1), in}, g2.dtype());
                         kernels::linear_backward(g2, want_w ? rows_for_kernel(xv, in) : Tensor(),
                                                  want_x ? dense(w) : Tensor(), r[0], r[1]);
                         if (want_x && static_cast<int64_t>(xs.size()) != 2) r[0] = reshape(r[0], xs);
                       } else {  // under create_graph: ops, so the gradient differentiates again
                         if (want_x) r[0] = reshape(matmul(g[0], w), xs);
                         if (want_w) r[1] = matmul(t(g[0]), reshape(xv, {-1, in}));
                       }
                       if (wants(self, 2)) r[2] = sum(g[0], {0});
                       return r;
                     });
  }
  if (x.dim() == 2) return y;
  Shape ys = x.shape();
  ys.back() = out;
  return reshape(y, ys);
}

}  // namespace koan
