// Pooling ops.  Max pooling saves the argmax indices; its backward scatters the gradient there
// (the fused kernel when nothing records, scatter_add under create_graph so it differentiates
// again).  Average pooling (plain and adaptive) is one linear map over rectangular windows and
// its adjoint, each the other's gradient.
#include "koan/ops/pool.h"

#include <memory>

#include "koan/kernels/pool.h"
#include "koan/ops/common.h"
#include "koan/ops/index.h"
#include "koan/ops/pool_internal.h"
#include "koan/ops/shape.h"

namespace koan {
using namespace ops_detail;
using kernels::AvgWindows;
using kernels::PoolGeom;

namespace ops_detail {
Tensor max_pool_grad(const Tensor& g, const Tensor& idx, const Shape& in_shape, const PoolGeom& pg) {
  if (!autograd::needs_grad({&g})) {
    Tensor gx = new_output(in_shape, g.dtype());
    kernels::max_pool2d_backward(dense(g), idx, pg, gx);
    return gx;
  }
  const int64_t n = in_shape[0], c = in_shape[1];
  Tensor flat = zeros({n, c, pg.h * pg.w}, {.dtype = g.dtype()});
  return reshape(scatter_add(flat, 2, reshape(idx, {n, c, -1}), reshape(g, {n, c, -1})), in_shape);
}
}  // namespace ops_detail

namespace {

void check_input(const char* op, const Tensor& x, int64_t spatial) {
  KOAN_CHECK(x.defined(), ValueError, op, ": undefined input");
  KOAN_CHECK(is_floating(x.dtype()), DTypeError, op, ": needs a floating input, got ", name(x.dtype()));
  KOAN_CHECK(x.dim() == spatial + 2 || x.dim() == spatial + 1, ShapeError, op, ": input ", x.shape(), " needs ",
             spatial + 2, " dims (N, C, ", spatial == 2 ? "H, W" : "L", ") or ", spatial + 1, " (C, ",
             spatial == 2 ? "H, W" : "L", ")");
}

// Applies f to x made 4-D (N, C, H, W), and gives the result x's rank back.
template <class F>
Tensor batched(const Tensor& x, int64_t spatial, F&& f) {
  const bool unbatched = x.dim() == spatial + 1;
  Tensor x4 = unbatched ? unsqueeze(x, 0) : x;
  if (spatial == 1) x4 = unsqueeze(x4, 2);  // a sequence is an image of height 1
  Tensor y = f(x4);
  if (spatial == 1) y = squeeze(y, 2);
  return unbatched ? squeeze(y, 0) : y;
}

// PyTorch's pooling_output_shape.
int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;  // the last window must start inside
  return out;
}

struct Pool2dArgs {
  Int2 k, s, p, d;
  bool ceil_mode;
};

PoolGeom pool_geom(const char* op, const Tensor& x4, const Pool2dArgs& a, const Tensor& x_user) {
  KOAN_CHECK(a.k.h > 0 && a.k.w > 0, ValueError, op, ": kernel must be positive, got ", str(a.k));
  KOAN_CHECK(a.s.h > 0 && a.s.w > 0, ValueError, op, ": stride must be positive, got ", str(a.s));
  KOAN_CHECK(a.d.h > 0 && a.d.w > 0, ValueError, op, ": dilation must be positive, got ", str(a.d));
  KOAN_CHECK(a.p.h >= 0 && a.p.w >= 0 && a.p.h <= a.k.h / 2 && a.p.w <= a.k.w / 2, ValueError, op,
             ": padding ", str(a.p), " must be between 0 and half the kernel ", str(a.k));
  PoolGeom g{.planes = x4.size(0) * x4.size(1), .h = x4.size(2), .w = x4.size(3),
             .kh = a.k.h, .kw = a.k.w, .sh = a.s.h, .sw = a.s.w, .ph = a.p.h, .pw = a.p.w,
             .dh = a.d.h, .dw = a.d.w};
  g.oh = pool_out(g.h, g.kh, g.sh, g.ph, g.dh, a.ceil_mode);
  g.ow = pool_out(g.w, g.kw, g.sw, g.pw, g.dw, a.ceil_mode);
  KOAN_CHECK(g.oh >= 1 && g.ow >= 1, ShapeError, op, ": input ", x_user.shape(), " is too small for kernel ",
             str(a.k), " (dilation ", str(a.d), ", padding ", str(a.p), "): output would be ", g.oh, "x", g.ow);
  return g;
}

// Without want_indices (max_pool2d, nn::MaxPool2d) the common 2x2 case keeps one byte per output,
// the argmax's place in its window, instead of an int64 position: the pass writes and the
// backward reads an eighth of the bytes.  Under create_graph the backward needs positions for
// scatter_add, so the kernel runs again there to get them.
std::pair<Tensor, Tensor> max_pool_op(const Tensor& x4, const PoolGeom& g, bool want_indices) {
  Shape os{x4.size(0), x4.size(1), g.oh, g.ow};
  Tensor out = new_output(os, x4.dtype());
  const bool taps = !want_indices && kernels::max_pool2d_has_taps(g);
  Tensor idx = new_output(os, taps ? DType::UInt8 : DType::Int64);
  kernels::max_pool2d(dense(x4), g, out, idx);
  if (autograd::needs_grad({&x4})) {
    autograd::record("MaxPool2DBackward", {x4}, {out},
                     [idx, taps, sx = taps ? SavedTensor(x4, false) : SavedTensor(), in_shape = x4.shape(),
                      g](FunctionNode& self, Grads& gr) {
                       if (taps && autograd::needs_grad({&gr[0]})) {
                         Tensor pos = new_output(idx.shape(), DType::Int64), scratch = new_output(idx.shape(), gr[0].dtype());
                         kernels::max_pool2d(dense(sx.unpack(self.self())), g, scratch, pos);
                         return Grads{max_pool_grad(gr[0], pos, in_shape, g)};
                       }
                       return Grads{max_pool_grad(gr[0], idx, in_shape, g)};
                     });
  }
  return {out, taps ? Tensor() : idx};
}

std::pair<Tensor, Tensor> max_pool_impl(const char* op, const Tensor& x4, const Pool2dArgs& a, const Tensor& x,
                                        bool want_indices) {
  return max_pool_op(x4, pool_geom(op, x4, a, x), want_indices);
}

// ---- averaging over windows
struct Windows2 {
  AvgWindows rows, cols;
  int64_t h, w;  // input size
};
using WindowsPtr = std::shared_ptr<const Windows2>;

Tensor win_avg_adj(const Tensor& gy, const WindowsPtr& win, const char* name);

Tensor win_avg(const Tensor& x4, const WindowsPtr& win, const char* name) {
  Tensor out = new_output({x4.size(0), x4.size(1), int64_t(win->rows.begin.size()),
                           int64_t(win->cols.begin.size())}, x4.dtype());
  kernels::window_avg(dense(x4), win->rows, win->cols, out);
  if (autograd::needs_grad({&x4}))
    autograd::record(name, {x4}, {out}, [win, name](FunctionNode&, Grads& gr) {
      return Grads{win_avg_adj(gr[0], win, name)};
    });
  return out;
}

Tensor win_avg_adj(const Tensor& gy, const WindowsPtr& win, const char* name) {
  Tensor gx = new_output({gy.size(0), gy.size(1), win->h, win->w}, gy.dtype());
  kernels::window_avg_adjoint(dense(gy), win->rows, win->cols, gx);
  if (autograd::needs_grad({&gy}))
    autograd::record(name, {gy}, {gx}, [win, name](FunctionNode&, Grads& gr) {
      return Grads{win_avg(gr[0], win, name)};
    });
  return gx;
}

// avg_pool2d's windows along one axis, as PyTorch: a window may reach into the padding (and,
// with ceil_mode, not past it); count_include_pad decides whether padded cells count.
AvgWindows avg_windows(int64_t in, int64_t k, int64_t s, int64_t p, int64_t out, bool include_pad) {
  AvgWindows w;
  for (int64_t i = 0; i < out; ++i) {
    int64_t b = i * s - p, e = std::min(b + k, in + p);
    const int64_t padded = e - b;
    b = std::max<int64_t>(b, 0);
    e = std::min(e, in);
    w.begin.push_back(b);
    w.end.push_back(e);
    w.count.push_back(static_cast<double>(include_pad ? padded : e - b));
  }
  return w;
}

AvgWindows adaptive_windows(int64_t in, int64_t out) {
  AvgWindows w;
  for (int64_t i = 0; i < out; ++i) {
    int64_t b = i * in / out, e = ((i + 1) * in + out - 1) / out;
    w.begin.push_back(b);
    w.end.push_back(e);
    w.count.push_back(static_cast<double>(e - b));
  }
  return w;
}

// max_pool2d with or without the int64 indices (without them the 2x2 case keeps uint8 taps).
std::pair<Tensor, Tensor> max_pool2d_any(const Tensor& x, Int2 kernel, std::optional<Int2> stride, Int2 padding,
                                         Int2 dilation, bool ceil_mode, bool want_indices) {
  check_input("max_pool2d", x, 2);
  Pool2dArgs a{kernel, stride.value_or(kernel), padding, dilation, ceil_mode};
  Tensor idx;
  Tensor out = batched(x, 2, [&](const Tensor& x4) {
    auto r = max_pool_impl("max_pool2d", x4, a, x, want_indices);
    idx = r.second;
    return r.first;
  });
  if (idx.defined() && x.dim() == 3) idx = squeeze(idx, 0);
  return {out, idx};
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Int2 kernel, std::optional<Int2> stride,
                                                  Int2 padding, Int2 dilation, bool ceil_mode) {
  return max_pool2d_any(x, kernel, stride, padding, dilation, ceil_mode, true);
}

Tensor max_pool2d(const Tensor& x, Int2 kernel, std::optional<Int2> stride, Int2 padding, Int2 dilation,
                  bool ceil_mode) {
  return max_pool2d_any(x, kernel, stride, padding, dilation, ceil_mode, false).first;
}

Tensor max_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride, int64_t padding,
                  int64_t dilation, bool ceil_mode) {
  check_input("max_pool1d", x, 1);
  Pool2dArgs a{Int2(1, kernel), Int2(1, stride.value_or(kernel)), Int2(0, padding), Int2(1, dilation), ceil_mode};
  return batched(x, 1, [&](const Tensor& x4) { return max_pool_impl("max_pool1d", x4, a, x, false).first; });
}

Tensor avg_pool2d(const Tensor& x, Int2 kernel, std::optional<Int2> stride, Int2 padding, bool ceil_mode,
                  bool count_include_pad) {
  check_input("avg_pool2d", x, 2);
  Pool2dArgs a{kernel, stride.value_or(kernel), padding, Int2(1), ceil_mode};
  return batched(x, 2, [&](const Tensor& x4) {
    PoolGeom g = pool_geom("avg_pool2d", x4, a, x);
    auto win = std::make_shared<Windows2>(Windows2{
        avg_windows(g.h, g.kh, g.sh, g.ph, g.oh, count_include_pad),
        avg_windows(g.w, g.kw, g.sw, g.pw, g.ow, count_include_pad), g.h, g.w});
    return win_avg(x4, win, "AvgPool2DBackward");
  });
}

Tensor adaptive_avg_pool2d(const Tensor& x, Int2 output_size) {
  check_input("adaptive_avg_pool2d", x, 2);
  KOAN_CHECK(output_size.h > 0 && output_size.w > 0, ValueError, "adaptive_avg_pool2d: output size ",
             str(output_size), " must be positive");
  KOAN_CHECK(x.size(-1) > 0 && x.size(-2) > 0, ShapeError, "adaptive_avg_pool2d: input ", x.shape(),
             " has an empty spatial dim");
  return batched(x, 2, [&](const Tensor& x4) {
    const int64_t h = x4.size(2), w = x4.size(3);
    auto win = std::make_shared<Windows2>(Windows2{adaptive_windows(h, output_size.h),
                                                   adaptive_windows(w, output_size.w), h, w});
    return win_avg(x4, win, "AdaptiveAvgPool2DBackward");
  });
}

}  // namespace koan
