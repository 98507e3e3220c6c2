// conv1d, conv2d and conv_transpose2d on three internal ops that are each other's gradients:
//
//   conv_fwd(x, w, b)  -> y    d/dx: conv_dx(g, w)   d/dw: conv_dw(x, g)    d/db: sum(g)
//   conv_dx(y, w, b)   -> x    d/dy: conv_fwd(g, w)  d/dw: conv_dw(g, y)    d/db: sum(g)
//   conv_dw(x, y)      -> w    d/dx: conv_dx(y, g)   d/dy: conv_fwd(x, g)
//
// All three share one explicit geometry (kernels::ConvGeom), so the set is closed under
// differentiation and gradients of any order come out of the same three kernels.
#include "koan/ops/conv.h"

#include <ostream>

#include "koan/kernels/conv.h"
#include "koan/kernels/elementwise.h"
#include "koan/kernels/pool.h"
#include "koan/ops/binary.h"
#include "koan/ops/common.h"
#include "koan/ops/pool.h"
#include "koan/ops/pool_internal.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;
using kernels::ConvGeom;

std::ostream& operator<<(std::ostream& os, const Int2& v) {
  if (v.h == v.w) return os << v.h;
  return os << "(" << v.h << ", " << v.w << ")";
}

static PadMode parse_pad_mode(std::string_view s) {
  if (s == "same") return PadMode::Same;
  if (s == "valid") return PadMode::Valid;
  throw ValueError(str("padding: expected an int, \"same\" or \"valid\", got \"", std::string(s), "\""));
}

Padding2::Padding2(std::string_view s) : mode(parse_pad_mode(s)) {}
Padding1::Padding1(std::string_view s) : mode(parse_pad_mode(s)) {}

std::ostream& operator<<(std::ostream& os, const Padding2& p) {
  if (p.mode == PadMode::Same) return os << "\"same\"";
  if (p.mode == PadMode::Valid) return os << "\"valid\"";
  return os << p.size;
}
std::ostream& operator<<(std::ostream& os, const Padding1& p) {
  if (p.mode == PadMode::Same) return os << "\"same\"";
  if (p.mode == PadMode::Valid) return os << "\"valid\"";
  return os << p.size;
}

namespace {

Tensor conv_dx(const Tensor& gy, const Tensor& w, const Tensor& b, const ConvGeom& g);
Tensor conv_dw(const Tensor& x, const Tensor& gy, const ConvGeom& g);
Tensor conv_fwd(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g, bool relu = false);

// The first-order backward of conv_fwd (relu_out = y when it applied the ReLU) as one kernel, when the
// weight gradient is wanted (the training case): the activations' gradient is read once.
Grads fused_backward(FunctionNode& self, const Tensor& gy, const Tensor& relu_out, const Tensor& x, const Tensor& w,
                     const ConvGeom& g) {
  const DType dt = gy.dtype();
  Grads r(3);
  if (wants(self, 0)) r[0] = new_output({g.n, g.c, g.h, g.w}, dt);
  r[1] = new_output({g.o, g.c / g.groups, g.kh, g.kw}, dt);
  if (wants(self, 2)) r[2] = new_output({g.o}, dt);
  kernels::conv2d_backward(dense(gy), dense(relu_out), dense(x),
                           wants(self, 0) ? dense(w) : Tensor(), g, r[0], r[1], r[2]);
  return r;
}

// y = conv(x, w) + b, or with relu relu(conv(x, w) + b): the bias and the ReLU then applied inside
// the kernel while each sample's output is still in cache, a whole pass over the activations
// less.  The ReLU's backward masks the gradient with y > 0 (the same mask as x > 0) and goes on as
// the convolution's rule.
Tensor conv_fwd(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g, bool relu) {
  Tensor y = new_output({g.n, g.o, g.oh, g.ow}, x.dtype());
  kernels::conv2d_forward(dense(x), dense(w), dense(b), g, y, relu);
  if (autograd::needs_grad({&x, &w, &b})) {
    bool need_x = x.requires_grad(), need_w = w.requires_grad();
    autograd::record(relu ? "ConvolutionReluBackward" : "ConvolutionBackward", {x, w, b}, {y},
                     [sx = need_w ? SavedTensor(x, false) : SavedTensor(),
                      sw = need_x ? SavedTensor(w, false) : SavedTensor(),
                      sy = relu ? SavedTensor(y, true) : SavedTensor(), g](FunctionNode& self, Grads& gr) {
                       auto me = self.self();
                       Tensor y = sy.defined() ? sy.unpack(me) : Tensor();
                       if (wants(self, 1) && !GradMode::enabled())  // no graph to record: one kernel
                         return fused_backward(self, gr[0], y, sx.unpack(me), sw.defined() ? sw.unpack(me) : Tensor(), g);
                       Tensor gy = gr[0];
                       if (y.defined() && !autograd::needs_grad({&gr[0]})) {  // one fused pass
                         gy = new_output(y.shape(), y.dtype());
                         kernels::relu_backward(dense(gr[0]), y, gy);
                       } else if (y.defined()) {  // under create_graph: ops that differentiate again
                         gy = mul(gr[0], to(gt(detach(y), 0), y.dtype()));
                       }
                       Grads r(3);
                       if (wants(self, 0)) r[0] = conv_dx(gy, sw.unpack(me), {}, g);
                       if (wants(self, 1)) r[1] = conv_dw(sx.unpack(me), gy, g);
                       if (wants(self, 2)) r[2] = sum(gy, {0, 2, 3});
                       return r;
                     });
  }
  return y;
}

// max_pool2d(relu(conv(x, w) + b), 2) in one kernel: the full-size activation is never stored.
// The backward needs only the pooled output and the taps: the ReLU's mask at a window's argmax is
// pooled > 0.  Under create_graph it recomputes the activation and goes through ops that
// differentiate again (the pooling's scatter, the ReLU's mask, conv_dx / conv_dw), as the unfused
// layers would.
Tensor conv_relu_pool_fwd(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g) {
  const Shape os{g.n, g.o, g.oh / 2, g.ow / 2};
  Tensor out = new_output(os, x.dtype()), taps = new_output(os, DType::UInt8);
  const bool grad = autograd::needs_grad({&x, &w, &b});
  // What the kernel can hand its backward (Winograd's transformed input), kept only when the
  // weights train: the backward's one-kernel path below runs only then.
  const int64_t rn = autograd::needs_grad({&w}) ? kernels::conv2d_relu_pool2x2_reserve(g) : 0;
  Tensor reserve = rn ? new_output({rn}, x.dtype()) : Tensor();
  kernels::conv2d_relu_pool2x2_forward(dense(x), dense(w), dense(b), g, out, taps, kernels::ConvAlgo::automatic,
                                       reserve);
  if (grad) {
    autograd::record("ConvolutionReluMaxPoolBackward", {x, w, b}, {out},
                     [sx = SavedTensor(x, false), sw = SavedTensor(w, false),
                      sb = b.defined() ? SavedTensor(b, false) : SavedTensor(), sout = SavedTensor(out, true), taps,
                      reserve, g](FunctionNode& self, Grads& gr) {
                       auto me = self.self();
                       Tensor x = sx.unpack(me), w = sw.unpack(me);
                       if (wants(self, 1) && !GradMode::enabled()) {  // no graph to record: one kernel
                         const DType dt = gr[0].dtype();
                         Grads r(3);
                         if (wants(self, 0)) r[0] = new_output(x.shape(), dt);
                         r[1] = new_output(w.shape(), dt);
                         if (wants(self, 2)) r[2] = new_output({g.o}, dt);
                         kernels::conv2d_relu_pool2x2_backward(dense(gr[0]), sout.unpack(me), taps, dense(x),
                                                               wants(self, 0) ? dense(w) : Tensor(), g, r[0], r[1], r[2],
                                                               kernels::ConvAlgo::automatic, reserve);
                         return r;
                       }
                       const kernels::PoolGeom pg{.planes = g.n * g.o, .h = g.oh, .w = g.ow, .oh = g.oh / 2,
                                                  .ow = g.ow / 2, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
                       Tensor y = new_output({g.n, g.o, g.oh, g.ow}, x.dtype());
                       kernels::conv2d_forward(dense(x), dense(w), sb.defined() ? dense(sb.unpack(me)) : Tensor(), g,
                                               y, true);
                       Tensor pos = new_output(taps.shape(), DType::Int64), pooled = new_output(taps.shape(), y.dtype());
                       kernels::max_pool2d(y, pg, pooled, pos);
                       Tensor gy = mul(max_pool_grad(gr[0], pos, y.shape(), pg), to(gt(y, 0), y.dtype()));
                       Grads r(3);
                       if (wants(self, 0)) r[0] = conv_dx(gy, w, {}, g);
                       if (wants(self, 1)) r[1] = conv_dw(x, gy, g);
                       if (wants(self, 2)) r[2] = sum(gy, {0, 2, 3});
                       return r;
                     });
  }
  return out;
}

Tensor conv_dx(const Tensor& gy, const Tensor& w, const Tensor& b, const ConvGeom& g) {
  Tensor gx = new_output({g.n, g.c, g.h, g.w}, gy.dtype());
  kernels::conv2d_input_grad(dense(gy), dense(w), dense(b), g, gx);
  if (autograd::needs_grad({&gy, &w, &b})) {
    bool need_gy = gy.requires_grad(), need_w = w.requires_grad();
    autograd::record("ConvolutionTransposeBackward", {gy, w, b}, {gx},
                     [sgy = need_w ? SavedTensor(gy, false) : SavedTensor(),
                      sw = need_gy ? SavedTensor(w, false) : SavedTensor(), g](FunctionNode& self, Grads& gr) {
                       auto me = self.self();
                       Grads r(3);
                       if (wants(self, 0)) r[0] = conv_fwd(gr[0], sw.unpack(me), {}, g);
                       if (wants(self, 1)) r[1] = conv_dw(gr[0], sgy.unpack(me), g);
                       if (wants(self, 2)) r[2] = sum(gr[0], {0, 2, 3});
                       return r;
                     });
  }
  return gx;
}

Tensor conv_dw(const Tensor& x, const Tensor& gy, const ConvGeom& g) {
  Tensor gw = new_output({g.o, g.c / g.groups, g.kh, g.kw}, x.dtype());
  kernels::conv2d_weight_grad(dense(x), dense(gy), g, gw);
  if (autograd::needs_grad({&x, &gy})) {
    bool need_x = x.requires_grad(), need_gy = gy.requires_grad();
    autograd::record("ConvolutionWeightBackward", {x, gy}, {gw},
                     [sx = need_gy ? SavedTensor(x, false) : SavedTensor(),
                      sgy = need_x ? SavedTensor(gy, false) : SavedTensor(), g](FunctionNode& self, Grads& gr) {
                       auto me = self.self();
                       Grads r(2);
                       if (wants(self, 0)) r[0] = conv_dx(sgy.unpack(me), gr[0], {}, g);
                       if (wants(self, 1)) r[1] = conv_fwd(sx.unpack(me), gr[0], {}, g);
                       return r;
                     });
  }
  return gw;
}

void check_dtypes(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  KOAN_CHECK(x.defined() && w.defined(), ValueError, op, ": undefined input or weight");
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, op, ": needs a floating input, got ", name(x.dtype()));
  KOAN_CHECK(w.dtype() == x.dtype(), DTypeError, op, ": input is ", name(x.dtype()), " but weight is ",
             name(w.dtype()), "; convert one with to()");
  KOAN_CHECK(!b.defined() || b.dtype() == x.dtype(), DTypeError, op, ": input is ", name(x.dtype()),
             " but bias is ", name(b.dtype()));
}

void check_positive(const char* op, const char* what, Int2 v) {
  KOAN_CHECK(v.h > 0 && v.w > 0, ValueError, op, ": ", what, " must be positive, got ", str(v));
}

// Shared by conv1d (as a conv2d of height 1) and conv2d.  xb is 4-D.
Tensor conv2d_impl(const char* op, const Tensor& xb, const Tensor& w, const Tensor& bias, Int2 stride,
                   Padding2 padding, Int2 dilation, int64_t groups, bool relu = false, bool pool = false) {
  KOAN_CHECK(groups > 0, ValueError, op, ": groups must be positive, got ", groups);
  check_positive(op, "stride", stride);
  check_positive(op, "dilation", dilation);
  const int64_t C = xb.size(1), O = w.size(0);
  KOAN_CHECK(C % groups == 0, ValueError, op, ": groups=", groups, " does not divide the ", C,
             " input channels");
  KOAN_CHECK(O % groups == 0, ValueError, op, ": groups=", groups, " does not divide the ", O,
             " output channels of weight ", w.shape());
  KOAN_CHECK(w.size(1) * groups == C, ShapeError, op, ": weight ", w.shape(), " with groups=", groups,
             " expects ", w.size(1) * groups, " input channels, but the input has ", C);
  KOAN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == O), ShapeError, op, ": bias ",
             bias.defined() ? bias.shape() : Shape{}, " must have shape [", O, "] (one per output channel)");
  const Int2 k(w.size(2), w.size(3)), in(xb.size(2), xb.size(3));
  int64_t before[2], total[2];
  for (int d = 0; d < 2; ++d) {
    if (padding.mode == PadMode::Same) {
      KOAN_CHECK(stride.h == 1 && stride.w == 1, ValueError, op, ": padding=\"same\" needs stride 1, got stride ",
                 str(stride));
      total[d] = dilation[d] * (k[d] - 1);
      before[d] = total[d] / 2;  // an odd total puts the extra row / column at the end, as PyTorch
    } else if (padding.mode == PadMode::Valid) {
      total[d] = before[d] = 0;
    } else {
      KOAN_CHECK(padding.size[d] >= 0, ValueError, op, ": padding must be >= 0, got ", str(padding.size));
      before[d] = padding.size[d];
      total[d] = 2 * padding.size[d];
    }
    const int64_t eff = dilation[d] * (k[d] - 1) + 1;
    KOAN_CHECK(in[d] + total[d] >= eff, ShapeError, op, ": kernel ", str(k), " (dilated size ", eff,
               ") is larger than the padded input ", in[d] + total[d], " (input ", xb.shape(), ", padding ",
               str(padding), ")");
  }
  ConvGeom g{.n = xb.size(0), .c = C, .h = in.h, .w = in.w, .o = O, .kh = k.h, .kw = k.w,
             .oh = (in.h + total[0] - dilation.h * (k.h - 1) - 1) / stride.h + 1,
             .ow = (in.w + total[1] - dilation.w * (k.w - 1) - 1) / stride.w + 1,
             .sh = stride.h, .sw = stride.w, .ph = before[0], .pw = before[1],
             .dh = dilation.h, .dw = dilation.w, .groups = groups};
  if (pool) {  // relu and a 2x2 max pool; a plane too small to pool gets max_pool2d's own error
    if (g.oh >= 2 && g.ow >= 2) return conv_relu_pool_fwd(xb, w, bias, g);
    return max_pool2d(conv_fwd(xb, w, bias, g, true), 2);
  }
  return conv_fwd(xb, w, bias, g, relu);
}

}  // namespace

namespace {
Tensor conv2d_checked(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias, Int2 stride,
                      Padding2 padding, Int2 dilation, int64_t groups, bool relu, bool pool = false) {
  check_dtypes(op, x, w, bias);
  KOAN_CHECK(x.dim() == 4 || x.dim() == 3, ShapeError, op, ": input ", x.shape(),
             " needs 4 dims (N, C, H, W) or 3 (C, H, W)");
  KOAN_CHECK(w.dim() == 4, ShapeError, op, ": weight ", w.shape(), " needs 4 dims (O, C / groups, kh, kw)");
  if (x.dim() == 3)
    return squeeze(conv2d_impl(op, unsqueeze(x, 0), w, bias, stride, padding, dilation, groups, relu, pool), 0);
  return conv2d_impl(op, x, w, bias, stride, padding, dilation, groups, relu, pool);
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Int2 stride, Padding2 padding,
              Int2 dilation, int64_t groups) {
  return conv2d_checked("conv2d", x, w, bias, stride, padding, dilation, groups, false);
}

Tensor conv2d_relu(const Tensor& x, const Tensor& w, const Tensor& bias, Int2 stride, Padding2 padding,
                   Int2 dilation, int64_t groups) {
  return conv2d_checked("conv2d_relu", x, w, bias, stride, padding, dilation, groups, true);
}

Tensor conv2d_relu_max_pool2d(const Tensor& x, const Tensor& w, const Tensor& bias, Int2 stride, Padding2 padding,
                              Int2 dilation, int64_t groups) {
  return conv2d_checked("conv2d_relu_max_pool2d", x, w, bias, stride, padding, dilation, groups, true, true);
}

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t stride, Padding1 padding,
              int64_t dilation, int64_t groups) {
  check_dtypes("conv1d", x, w, bias);
  KOAN_CHECK(x.dim() == 3 || x.dim() == 2, ShapeError, "conv1d: input ", x.shape(),
             " needs 3 dims (N, C, L) or 2 (C, L)");
  KOAN_CHECK(w.dim() == 3, ShapeError, "conv1d: weight ", w.shape(), " needs 3 dims (O, C / groups, k)");
  Padding2 p2(0, padding.size);
  p2.mode = padding.mode;
  // A length-L sequence is an image of height 1.
  Tensor xb = x.dim() == 2 ? unsqueeze(x, 0) : x;
  Tensor y = conv2d_impl("conv1d", unsqueeze(xb, 2), unsqueeze(w, 2), bias, Int2(1, stride), p2,
                         Int2(1, dilation), groups);
  y = squeeze(y, 2);
  return x.dim() == 2 ? squeeze(y, 0) : y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias, Int2 stride, Int2 padding,
                        Int2 output_padding, int64_t groups, Int2 dilation) {
  const char* op = "conv_transpose2d";
  check_dtypes(op, x, w, bias);
  KOAN_CHECK(x.dim() == 4 || x.dim() == 3, ShapeError, op, ": input ", x.shape(),
             " needs 4 dims (N, C, H, W) or 3 (C, H, W)");
  KOAN_CHECK(w.dim() == 4, ShapeError, op, ": weight ", w.shape(), " needs 4 dims (Cin, Cout / groups, kh, kw)");
  KOAN_CHECK(groups > 0, ValueError, op, ": groups must be positive, got ", groups);
  check_positive(op, "stride", stride);
  check_positive(op, "dilation", dilation);
  Tensor xb = x.dim() == 3 ? unsqueeze(x, 0) : x;
  const int64_t cin = xb.size(1), cout = w.size(1) * groups;
  KOAN_CHECK(cin % groups == 0, ValueError, op, ": groups=", groups, " does not divide the ", cin,
             " input channels");
  KOAN_CHECK(w.size(0) == cin, ShapeError, op, ": weight ", w.shape(), " expects ", w.size(0),
             " input channels, but the input ", x.shape(), " has ", cin);
  KOAN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == cout), ShapeError, op, ": bias ",
             bias.defined() ? bias.shape() : Shape{}, " must have shape [", cout, "] (one per output channel)");
  const Int2 k(w.size(2), w.size(3)), in(xb.size(2), xb.size(3));
  int64_t out[2];
  for (int d = 0; d < 2; ++d) {
    KOAN_CHECK(padding[d] >= 0 && output_padding[d] >= 0, ValueError, op, ": padding ", str(padding),
               " and output_padding ", str(output_padding), " must be >= 0");
    KOAN_CHECK(output_padding[d] < stride[d] || output_padding[d] < dilation[d], ValueError, op,
               ": output_padding ", str(output_padding), " must be smaller than stride ", str(stride),
               " or dilation ", str(dilation));
    out[d] = (in[d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (k[d] - 1) + output_padding[d] + 1;
    KOAN_CHECK(out[d] > 0, ShapeError, op, ": input ", x.shape(), " with kernel ", str(k), ", stride ",
               str(stride), " and padding ", str(padding), " gives an empty output (size ", out[d], ")");
  }
  // The convolution whose input gradient this is: it maps (cout, out) back to (cin, in).
  ConvGeom g{.n = xb.size(0), .c = cout, .h = out[0], .w = out[1], .o = cin, .kh = k.h, .kw = k.w,
             .oh = in.h, .ow = in.w, .sh = stride.h, .sw = stride.w, .ph = padding.h, .pw = padding.w,
             .dh = dilation.h, .dw = dilation.w, .groups = groups};
  Tensor y = conv_dx(xb, w, bias, g);
  return x.dim() == 3 ? squeeze(y, 0) : y;
}

}  // namespace koan
