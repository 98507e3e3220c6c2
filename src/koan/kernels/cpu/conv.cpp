// im2col + GEMM convolution.  Each sample's patches are unrolled into a (c/g * kh * kw, oh * ow)
// matrix in a scratch buffer allocated once per thread chunk, then one GEMM per group writes the
// sample's output in place, so there is no transposing copy of the result.  Samples are spread
// over threads, each GEMM then on its own thread (one level of parallelism); when the batch is too
// small to split, each GEMM cuts itself into panels over the pool instead (kernels/gemm.h).
//
// Why not oneDNN's convolution primitives: measured on the project's AVX-512 machine (thread CPU
// time, 1 thread, the seed CNN's layers at batch 64), this path was faster.  With koan's plain
// NCHW buffers oneDNN picks its gemm-based convolution, 25-40% slower here (64x32x13x13 -> 64:
// forward 3.8 vs 3.0 ms, backward data 4.1 vs 3.2, weights 3.9 vs 3.1); its direct AVX-512
// convolution needs blocked layouts, and with the reorders in and out it was no faster on the
// second layer's forward and backward data, twice as slow on its weight gradient (7 ms), and
// slower on the first layer (1 input channel; backward data 125 ms).  The per-sample GEMMs here
// already run near one core's peak (285 MFLOP in 3.0 ms, ~95 GFLOP/s).
#include "koan/kernels/conv.h"

#include <algorithm>
#include <cstring>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/loops.h"
#include "koan/kernels/gemm.h"

namespace koan::kernels {
namespace {

// Row-major C = alpha op(A) op(B) + beta C.
template <class T>
void conv_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  kernels::gemm<T>(ta, tb, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc);
}

// The output columns q in [lo, hi) whose input column q * s + off lies in [0, size).
void valid_range(int64_t off, int64_t s, int64_t size, int64_t out, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  hi = size - off <= 0 ? 0 : (size - off + s - 1) / s;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// A 1x1 kernel with unit stride, no padding and same-size output reads the input as it is.
bool pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 &&
         g.oh == g.h && g.ow == g.w;
}

// col[(c, i, j), (r, q)] = x[c, r*sh - ph + i*dh, q*sw - pw + j*dw], zero outside the input.
template <class T>
void im2col(const T* x, const ConvGeom& g, int64_t cg, T* col) {
  const int64_t P = g.oh * g.ow;
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T* row = col + ((c * g.kh + i) * g.kw + j) * P;
        const T* xc = x + c * g.h * g.w;
        const int64_t off = j * g.dw - g.pw;
        int64_t lo, hi;
        valid_range(off, g.sw, g.w, g.ow, lo, hi);
        for (int64_t r = 0; r < g.oh; ++r) {
          T* dst = row + r * g.ow;
          const int64_t ih = r * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.h) {
            std::fill(dst, dst + g.ow, T(0));
            continue;
          }
          const T* xr = xc + ih * g.w;
          std::fill(dst, dst + lo, T(0));
          if (g.sw == 1) {
            std::copy(xr + lo + off, xr + hi + off, dst + lo);
          } else {
            for (int64_t q = lo; q < hi; ++q) dst[q] = xr[q * g.sw + off];
          }
          std::fill(dst + hi, dst + g.ow, T(0));
        }
      }
}

// The adjoint of im2col: x[c, ...] += col[(c, i, j), (r, q)].  x must be zeroed by the caller.
template <class T>
void col2im(const T* col, const ConvGeom& g, int64_t cg, T* x) {
  const int64_t P = g.oh * g.ow;
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const T* row = col + ((c * g.kh + i) * g.kw + j) * P;
        T* xc = x + c * g.h * g.w;
        const int64_t off = j * g.dw - g.pw;
        int64_t lo, hi;
        valid_range(off, g.sw, g.w, g.ow, lo, hi);
        for (int64_t r = 0; r < g.oh; ++r) {
          const int64_t ih = r * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.h) continue;
          const T* src = row + r * g.ow;
          T* xr = xc + ih * g.w;
          if (g.sw == 1) {
            for (int64_t q = lo; q < hi; ++q) xr[q + off] += src[q];
          } else {
            for (int64_t q = lo; q < hi; ++q) xr[q * g.sw + off] += src[q];
          }
        }
      }
}

// Samples per thread chunk: enough multiply-adds (~2^17) to pay for waking a thread.
int64_t batch_grain(const ConvGeom& g) {
  const int64_t per_sample = g.o * (g.c / g.groups) * g.kh * g.kw * g.oh * g.ow;
  return std::max<int64_t>(1, (int64_t(1) << 17) / std::max<int64_t>(per_sample, 1));
}

template <class T>
const T* ptr(const Tensor& t) {
  return t.defined() ? base_ptr<T>(t) + t.offset() : nullptr;
}
template <class T>
T* mut_ptr(const Tensor& t) {
  return base_ptr<T>(t) + t.offset();
}

template <class T>
void forward_impl(const Tensor& xt, const Tensor& wt, const Tensor& bt, const ConvGeom& g, const Tensor& yt) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups, K = cg * g.kh * g.kw;
  const int64_t P = g.oh * g.ow, HW = g.h * g.w;
  const T *x = ptr<T>(xt), *w = ptr<T>(wt), *b = ptr<T>(bt);
  T* y = mut_ptr<T>(yt);
  const bool direct = pointwise(g);
  parallel_for(0, g.n, batch_grain(g), [&](int64_t nb, int64_t ne) {
    Tensor scratch = direct ? Tensor() : empty({K * P}, {.dtype = dtype_v<T>});
    T* col = direct ? nullptr : scratch.data_ptr<T>();
    for (int64_t n = nb; n < ne; ++n)
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* xg = x + (n * g.c + gi * cg) * HW;
        if (!direct) im2col(xg, g, cg, col);
        T* yg = y + (n * g.o + gi * og) * P;
        conv_gemm<T>(false, false, og, P, K, w + gi * og * K, K, direct ? xg : col, P, T(0), yg, P);
        if (b)
          for (int64_t o = 0; o < og; ++o) {
            const T bo = b[gi * og + o];
            T* yo = yg + o * P;
            for (int64_t p = 0; p < P; ++p) yo[p] += bo;
          }
      }
  });
}

template <class T>
void input_grad_impl(const Tensor& gyt, const Tensor& wt, const Tensor& bt, const ConvGeom& g, const Tensor& gxt) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups, K = cg * g.kh * g.kw;
  const int64_t P = g.oh * g.ow, HW = g.h * g.w;
  const T *gy = ptr<T>(gyt), *w = ptr<T>(wt), *b = ptr<T>(bt);
  T* gx = mut_ptr<T>(gxt);
  const bool direct = pointwise(g);
  parallel_for(0, g.n, batch_grain(g), [&](int64_t nb, int64_t ne) {
    Tensor scratch = direct ? Tensor() : empty({K * P}, {.dtype = dtype_v<T>});
    T* col = direct ? nullptr : scratch.data_ptr<T>();
    for (int64_t n = nb; n < ne; ++n) {
      T* gxn = gx + n * g.c * HW;
      if (!direct) std::fill(gxn, gxn + g.c * HW, T(0));
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* gyg = gy + (n * g.o + gi * og) * P;
        T* gxg = gxn + gi * cg * HW;
        // col = W_g^T gy_g: (K x og) (og x P).
        conv_gemm<T>(true, false, K, P, og, w + gi * og * K, K, gyg, P, T(0), direct ? gxg : col, P);
        if (!direct) col2im(col, g, cg, gxg);
      }
      if (b)
        for (int64_t c = 0; c < g.c; ++c) {
          const T bc = b[c];
          T* xc = gxn + c * HW;
          for (int64_t p = 0; p < HW; ++p) xc[p] += bc;
        }
    }
  });
}

template <class T>
void weight_grad_impl(const Tensor& xt, const Tensor& gyt, const ConvGeom& g, const Tensor& gwt) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups, K = cg * g.kh * g.kw;
  const int64_t P = g.oh * g.ow, HW = g.h * g.w, wn = g.o * K;
  const T *x = ptr<T>(xt), *gy = ptr<T>(gyt);
  T* gw = mut_ptr<T>(gwt);
  if (g.n == 0) {
    std::fill(gw, gw + wn, T(0));
    return;
  }
  const bool direct = pointwise(g);
  // Samples are cut into a fixed number of blocks (a function of n only), each summed into its
  // own partial gradient; the partials are then added in block order.
  const int64_t nblk = std::min<int64_t>(g.n, 8);
  Tensor partial_t = nblk > 1 ? empty({nblk * wn}, {.dtype = dtype_v<T>}) : Tensor();
  T* partial = nblk > 1 ? partial_t.data_ptr<T>() : gw;
  const int64_t blk_grain = (batch_grain(g) * nblk + g.n - 1) / g.n;
  parallel_for(0, nblk, blk_grain, [&](int64_t bb, int64_t be) {
    Tensor scratch = direct ? Tensor() : empty({K * P}, {.dtype = dtype_v<T>});
    T* col = direct ? nullptr : scratch.data_ptr<T>();
    for (int64_t blk = bb; blk < be; ++blk) {
      T* acc = partial + blk * wn;
      const int64_t n0 = g.n * blk / nblk, n1 = g.n * (blk + 1) / nblk;
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          const T* xg = x + (n * g.c + gi * cg) * HW;
          if (!direct) im2col(xg, g, cg, col);
          // gw_g += gy_g col^T: (og x P) (P x K).
          conv_gemm<T>(false, true, og, K, P, gy + (n * g.o + gi * og) * P, P, direct ? xg : col, P,
                  n == n0 ? T(0) : T(1), acc + gi * og * K, K);
        }
    }
  });
  if (nblk > 1) {
    std::copy(partial, partial + wn, gw);
    for (int64_t blk = 1; blk < nblk; ++blk) {
      const T* p = partial + blk * wn;
      for (int64_t i = 0; i < wn; ++i) gw[i] += p[i];
    }
  }
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g, const Tensor& y) {
  KOAN_ASSERT(x.is_contiguous() && w.is_contiguous() && y.is_contiguous());
  if (y.numel() == 0) return;
  visit_floating(x.dtype(), "conv2d", [&]<class T>() { forward_impl<T>(x, w, bias, g, y); });
}

void conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& bias, const ConvGeom& g, const Tensor& gx) {
  KOAN_ASSERT(gy.is_contiguous() && w.is_contiguous() && gx.is_contiguous());
  if (gx.numel() == 0) return;
  visit_floating(gy.dtype(), "conv2d backward", [&]<class T>() { input_grad_impl<T>(gy, w, bias, g, gx); });
}

void conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeom& g, const Tensor& gw) {
  KOAN_ASSERT(x.is_contiguous() && gy.is_contiguous() && gw.is_contiguous());
  if (gw.numel() == 0) return;
  visit_floating(x.dtype(), "conv2d backward", [&]<class T>() { weight_grad_impl<T>(x, gy, g, gw); });
}

}  // namespace koan::kernels
