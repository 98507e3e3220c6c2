// im2col + GEMM convolution.  Each sample's patches are unrolled into a (c/g * kh * kw, oh * ow)
// matrix in a scratch buffer allocated once per thread chunk, then one GEMM per group writes the
// sample's output in place, so there is no transposing copy of the result.  Samples are spread
// over threads, each GEMM then on its own thread (one level of parallelism); when the batch is too
// small to split, each GEMM cuts itself into panels over the pool instead (kernels/gemm.h).
//
// Training takes two shortcuts past the separate passes: the forward applies bias and ReLU while
// a sample's output is in cache (conv2d_relu), and the first-order backward (conv2d_backward)
// masks, sums and multiplies each sample's gradient in one go.  Narrow float32 images unroll
// their patches with register shifts (im2col_narrow.h).  3x3 kernels with unit stride mostly run
// elsewhere: Winograd F(2x2, 3x3) from 8 input channels (winograd.cpp), for the plain and the
// fused convolution, and direct 2x2 tiles below 8 for the fused convolution + ReLU + 2x2 max
// pooling (conv3x3_direct.cpp); measured in docs/PERFORMANCE.md.  Putting several samples side by
// side to widen the GEMMs was tried and dropped: oneDNN's sgemm already runs at 125 GFLOP/s on one
// sample's 64 x 121 x 288 (the seed CNN's second layer), and the copies cost what it gained.
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

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/conv3x3_direct.h"
#include "koan/kernels/cpu/im2col_narrow.h"
#include "koan/kernels/cpu/loops.h"
#include "koan/kernels/cpu/pool2x2.h"
#include "koan/kernels/cpu/winograd.h"
#include "koan/kernels/gemm.h"

namespace koan::kernels {
namespace {

// Row-major C = op(A) op(B) + beta C.
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

// The rows im2col moves are short (26 and 11 floats in the seed CNN), too short for memmove and
// memset, whose calls cost more than the copy itself (they were 7% of a training step).  Masked
// AVX-512 moves do them inline; other types and machines keep the standard algorithms.
template <class T>
inline void copy_row(T* dst, const T* src, int64_t n) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
    if (i < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
      _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
    }
    return;
  }
#endif
  std::copy(src, src + n, dst);
}

template <class T>
inline void zero_row(T* dst, int64_t n) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_setzero_ps());
    if (i < n) _mm512_mask_storeu_ps(dst + i, static_cast<__mmask16>((1u << (n - i)) - 1), _mm512_setzero_ps());
    return;
  }
#endif
  std::fill(dst, dst + n, T(0));
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
            zero_row(dst, g.ow);
            continue;
          }
          const T* xr = xc + ih * g.w;
          zero_row(dst, lo);
          if (g.sw == 1) {
            copy_row(dst + lo, xr + lo + off, hi - lo);
          } else {
            for (int64_t q = lo; q < hi; ++q) dst[q] = xr[q * g.sw + off];
          }
          zero_row(dst + hi, g.ow - hi);
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

// The patch unrolling a kernel call uses: the generic loops above, or for narrow float32 images
// the register-shifting ones of im2col_narrow.h (same values, same summation order).
template <class T>
class Unroller {
 public:
  explicit Unroller(const ConvGeom& g) : g_(g) {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
      if (narrow::applies(g)) {
        fast_ = true;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t off = j * g.dw - g.pw;
          int64_t lo, hi;
          valid_range(off, g.sw, g.w, g.ow, lo, hi);
          shift_[j] = narrow::make_shift(off, lo, hi);
          unshift_[j] = narrow::make_unshift(off, lo, hi);
        }
      }
    }
#endif
  }
  void im2col(const T* x, int64_t cg, T* col) const {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)
      if (fast_) return narrow::im2col(x, g_, cg, col, shift_);
#endif
    koan::kernels::im2col(x, g_, cg, col);
  }
  void col2im(const T* col, int64_t cg, T* x) const {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)
      if (fast_) return narrow::col2im(col, g_, cg, x, unshift_);
#endif
    koan::kernels::col2im(col, g_, cg, x);
  }

 private:
  const ConvGeom& g_;
  bool fast_ = false;
#if defined(__AVX512F__)
  narrow::Shift shift_[16], unshift_[16];
#endif
};

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

// Pooled output of the fused convolution + ReLU + 2x2 max pooling: each sample's convolution
// output stays in the chunk's scratch and only its pooled planes and taps are written.
template <class T>
struct PoolSink {
  T* out = nullptr;
  uint8_t* taps = nullptr;
  int64_t oh = 0, ow = 0;
};

template <class T>
void forward_impl(const Tensor& xt, const Tensor& wt, const Tensor& bt, const ConvGeom& g, const Tensor& yt,
                  bool relu, PoolSink<T> pool = {}) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups, K = cg * g.kh * g.kw;
  const int64_t P = g.oh * g.ow, HW = g.h * g.w, PP = pool.oh * pool.ow;
  const T *x = ptr<T>(xt), *w = ptr<T>(wt), *b = ptr<T>(bt);
  T* y = pool.out ? nullptr : mut_ptr<T>(yt);
  const bool direct = pointwise(g);
  const Unroller<T> unroll(g);
  parallel_for(0, g.n, batch_grain(g), [&](int64_t nb, int64_t ne) {
    const int64_t col_size = direct ? 0 : K * P;
    Tensor scratch = col_size || pool.out ? empty({col_size + (pool.out ? g.o * P : 0)}, {.dtype = dtype_v<T>})
                                          : Tensor();
    T* col = direct ? nullptr : scratch.data_ptr<T>();
    for (int64_t n = nb; n < ne; ++n) {
      T* yn = pool.out ? scratch.data_ptr<T>() + col_size : y + n * g.o * P;
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* xg = x + (n * g.c + gi * cg) * HW;
        if (!direct) unroll.im2col(xg, cg, col);
        T* yg = yn + gi * og * P;
        conv_gemm<T>(false, false, og, P, K, w + gi * og * K, K, direct ? xg : col, P, T(0), yg, P);
        // The epilogue, while the sample's output is still in cache.  max as ReLU's kernel
        // writes it (x > 0 ? x : 0), so conv2d_relu equals relu(conv2d) bit for bit.
        if (b || relu)
          for (int64_t o = 0; o < og; ++o) {
            const T bo = b ? b[gi * og + o] : T(0);
            T* yo = yg + o * P;
            if (relu) {
              for (int64_t p = 0; p < P; ++p) {
                const T v = yo[p] + bo;
                yo[p] = v > T(0) ? v : T(0);
              }
            } else {
              for (int64_t p = 0; p < P; ++p) yo[p] += bo;
            }
          }
      }
      if (pool.out)
        for (int64_t o = 0; o < g.o; ++o)
          pool2x2::forward_plane(yn + o * P, g.oh, g.ow, pool.oh, pool.ow, pool.out + (n * g.o + o) * PP,
                                 pool.taps + (n * g.o + o) * PP);
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
  const Unroller<T> unroll(g);
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
        if (!direct) unroll.col2im(col, cg, gxg);
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

// sum(v[0..n)) in double, in eight interleaved partial sums (a fixed order, so the same at any
// thread count): one chain of dependent adds would cost 4 cycles per element.
template <class T>
double plane_sum(const T* v, int64_t n) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t p = 0;
  for (; p + 8 <= n; p += 8)
    for (int l = 0; l < 8; ++l) part[l] += static_cast<double>(v[p + l]);
  for (int l = 0; p < n; ++p, ++l) part[l] += static_cast<double>(v[p]);
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

// The whole first-order backward in one pass over the samples; with only gw wanted it is the
// weight gradient kernel.  Samples are cut into a fixed number of blocks (a function of n only),
// each summed into its own partial gradient, and the partials are added in block order, so the
// result does not depend on the thread count.  Each sample's input-gradient GEMM is
// input_grad_impl's, so gx equals it bit for bit; the ReLU mask is relu_backward's rule (y > 0 ? g : 0).
// The masked gradient of one sample lives in a scratch buffer that stays in cache.
template <class T>
void backward_impl(const Tensor& gyt, const Tensor& yt, const Tensor& xt, const Tensor& wt, const ConvGeom& g,
                   const Tensor& gxt, const Tensor& gwt, const Tensor& gbt, PoolSink<const T> pool = {}) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups, K = cg * g.kh * g.kw;
  const int64_t P = g.oh * g.ow, HW = g.h * g.w, wn = g.o * K;
  const T *gy = ptr<T>(gyt), *y = ptr<T>(yt), *x = ptr<T>(xt), *w = ptr<T>(wt);
  T* gx = gxt.defined() ? mut_ptr<T>(gxt) : nullptr;
  T* gw = mut_ptr<T>(gwt);
  T* gb = gbt.defined() ? mut_ptr<T>(gbt) : nullptr;
  if (g.n == 0) {
    std::fill(gw, gw + wn, T(0));
    if (gb) std::fill(gb, gb + g.o, T(0));
    return;
  }
  const bool direct = pointwise(g);
  const int64_t nblk = std::min<int64_t>(g.n, 8);
  Tensor partial_t = nblk > 1 ? empty({nblk * wn}, {.dtype = dtype_v<T>}) : Tensor();
  T* partial = nblk > 1 ? partial_t.data_ptr<T>() : gw;
  std::vector<double> bias_partial(gb ? nblk * g.o : 0, 0.0);
  const int64_t blk_grain = (batch_grain(g) * nblk + g.n - 1) / g.n;
  const Unroller<T> unroll(g);
  parallel_for(0, nblk, blk_grain, [&](int64_t bb, int64_t be) {
    const int64_t PP = pool.oh * pool.ow;
    Tensor scratch = empty({(direct ? 0 : K * P) + (y || pool.taps ? g.o * P : 0) + PP + 1}, {.dtype = dtype_v<T>});
    T* col = direct ? nullptr : scratch.data_ptr<T>();
    T* masked = y || pool.taps ? scratch.data_ptr<T>() + (direct ? 0 : K * P) : nullptr;
    T* plane = pool.taps ? masked + g.o * P : nullptr;  // one pooled plane's masked gradient
    for (int64_t blk = bb; blk < be; ++blk) {
      T* acc = partial + blk * wn;
      const int64_t n0 = g.n * blk / nblk, n1 = g.n * (blk + 1) / nblk;
      for (int64_t n = n0; n < n1; ++n) {
        const T* gyn = gy + n * g.o * (pool.taps ? PP : P);
        if (pool.taps) {  // max_pool2d's backward, then the ReLU's mask: y > 0 at a tap is pooled > 0
          for (int64_t c = 0; c < g.o; ++c) {
            const int64_t at = (n * g.o + c) * PP;
            for (int64_t q = 0; q < PP; ++q) plane[q] = pool.out[at + q] > T(0) ? gyn[c * PP + q] : T(0);
            pool2x2::backward_plane(plane, pool.taps + at, g.oh, g.ow, pool.oh, pool.ow, masked + c * P);
          }
          gyn = masked;
        } else if (y) {
          const T* yn = y + n * g.o * P;
          for (int64_t k = 0; k < g.o * P; ++k) masked[k] = yn[k] > T(0) ? gyn[k] : T(0);
          gyn = masked;
        }
        if (gb) {
          double* bacc = bias_partial.data() + blk * g.o;
          for (int64_t c = 0; c < g.o; ++c) bacc[c] += plane_sum(gyn + c * P, P);
        }
        if (gx) {
          T* gxn = gx + n * g.c * HW;
          if (!direct) std::fill(gxn, gxn + g.c * HW, T(0));
          for (int64_t gi = 0; gi < g.groups; ++gi) {
            T* gxg = gxn + gi * cg * HW;
            conv_gemm<T>(true, false, K, P, og, w + gi * og * K, K, gyn + gi * og * P, P, T(0), direct ? gxg : col, P);
            if (!direct) unroll.col2im(col, cg, gxg);
          }
        }
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          const T* xg = x + (n * g.c + gi * cg) * HW;
          if (!direct) unroll.im2col(xg, cg, col);
          conv_gemm<T>(false, true, og, K, P, gyn + gi * og * P, P, direct ? xg : col, P, n == n0 ? T(0) : T(1),
                  acc + gi * og * K, K);
        }
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
  if (gb)
    for (int64_t c = 0; c < g.o; ++c) {
      double sum = 0;
      for (int64_t blk = 0; blk < nblk; ++blk) sum += bias_partial[blk * g.o + c];
      gb[c] = static_cast<T>(sum);
    }
}

}  // namespace

namespace {
// The algorithm a call runs, automatic resolved for geometry g: Winograd from 8 input channels;
// below, direct tiles for the fused convolution + ReLU + pooling (pooled) and, for the plain
// convolution, only up to direct3x3::kMaxPlainChannels.
ConvAlgo pick(const ConvGeom& g, ConvAlgo algo, bool pooled) {
  if (algo == ConvAlgo::automatic) {
    if (winograd::applies(g)) return ConvAlgo::winograd;
    const bool direct = winograd::supports(g) && (pooled || g.c <= direct3x3::kMaxPlainChannels);
    return direct ? ConvAlgo::direct : ConvAlgo::im2col;
  }
  KOAN_ASSERT(algo == ConvAlgo::im2col || winograd::supports(g));
  return algo;
}
}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g, const Tensor& y,
                    bool relu, ConvAlgo algo) {
  KOAN_ASSERT(x.is_contiguous() && w.is_contiguous() && y.is_contiguous());
  KOAN_ASSERT(!bias.defined() || bias.is_contiguous());
  if (y.numel() == 0) return;
  const ConvAlgo how = pick(g, algo, false);
  visit_floating(x.dtype(), "conv2d", [&]<class T>() {
    if (how == ConvAlgo::winograd)
      return winograd::conv_forward<T>(ptr<T>(x), ptr<T>(w), ptr<T>(bias), g, relu, mut_ptr<T>(y));
    if (how == ConvAlgo::direct)
      return direct3x3::conv_forward<T>(ptr<T>(x), ptr<T>(w), ptr<T>(bias), g, relu, mut_ptr<T>(y));
    forward_impl<T>(x, w, bias, g, y, relu);
  });
}

void conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& bias, const ConvGeom& g, const Tensor& gx) {
  KOAN_ASSERT(gy.is_contiguous() && w.is_contiguous() && gx.is_contiguous());
  if (gx.numel() == 0) return;
  visit_floating(gy.dtype(), "conv2d backward", [&]<class T>() { input_grad_impl<T>(gy, w, bias, g, gx); });
}

void conv2d_backward(const Tensor& gy, const Tensor& relu_out, const Tensor& x, const Tensor& w, const ConvGeom& g,
                     const Tensor& gx, const Tensor& gw, const Tensor& gb, ConvAlgo algo) {
  KOAN_ASSERT(gy.is_contiguous() && x.is_contiguous() && gw.is_contiguous());
  KOAN_ASSERT(!relu_out.defined() || relu_out.is_contiguous());
  KOAN_ASSERT(!gx.defined() || (gx.is_contiguous() && w.defined() && w.is_contiguous()));
  KOAN_ASSERT(!gb.defined() || gb.is_contiguous());
  const ConvAlgo how = pick(g, algo, false);
  visit_floating(x.dtype(), "conv2d backward", [&]<class T>() {
    const T* mask = relu_out.defined() ? ptr<T>(relu_out) : nullptr;
    T* gxp = gx.defined() ? mut_ptr<T>(gx) : nullptr;
    T* gbp = gb.defined() ? mut_ptr<T>(gb) : nullptr;
    if (how == ConvAlgo::winograd)
      return winograd::conv_backward<T>(ptr<T>(gy), mask, ptr<T>(x), ptr<T>(w), g, gxp, mut_ptr<T>(gw), gbp);
    if (how == ConvAlgo::direct)
      return direct3x3::conv_backward<T>(ptr<T>(gy), mask, ptr<T>(x), ptr<T>(w), g, gxp, mut_ptr<T>(gw), gbp);
    backward_impl<T>(gy, relu_out, x, w, g, gx, gw, gb);
  });
}

bool conv2d_winograd_supports(const ConvGeom& g) { return winograd::supports(g); }

ConvAlgo conv2d_algorithm(const ConvGeom& g, bool pooled) { return pick(g, ConvAlgo::automatic, pooled); }

int64_t conv2d_relu_pool2x2_reserve(const ConvGeom& g, ConvAlgo algo) {
  return pick(g, algo, true) == ConvAlgo::winograd ? winograd::kept_size(g) : 0;
}

void conv2d_relu_pool2x2_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g,
                                 const Tensor& out, const Tensor& taps, ConvAlgo algo, const Tensor& reserve) {
  KOAN_ASSERT(x.is_contiguous() && w.is_contiguous() && out.is_contiguous() && taps.is_contiguous());
  KOAN_ASSERT(taps.dtype() == DType::UInt8 && out.numel() == taps.numel() && g.oh >= 2 && g.ow >= 2);
  KOAN_ASSERT(!bias.defined() || bias.is_contiguous());
  const ConvAlgo how = pick(g, algo, true);
  KOAN_ASSERT(!reserve.defined() || (reserve.is_contiguous() && reserve.dtype() == x.dtype() &&
                                     reserve.numel() == conv2d_relu_pool2x2_reserve(g, how)));
  if (out.numel() == 0) return;
  visit_floating(x.dtype(), "conv2d_relu_max_pool2d", [&]<class T>() {
    uint8_t* tp = base_ptr<uint8_t>(taps) + taps.offset();
    if (how == ConvAlgo::winograd)
      return winograd::relu_pool_forward<T>(ptr<T>(x), ptr<T>(w), ptr<T>(bias), g, mut_ptr<T>(out), tp,
                                            reserve.defined() ? mut_ptr<T>(reserve) : nullptr);
    if (how == ConvAlgo::direct)
      return direct3x3::relu_pool_forward<T>(ptr<T>(x), ptr<T>(w), ptr<T>(bias), g, mut_ptr<T>(out), tp);
    forward_impl<T>(x, w, bias, g, Tensor(), true, {mut_ptr<T>(out), tp, g.oh / 2, g.ow / 2});
  });
}

void conv2d_relu_pool2x2_backward(const Tensor& gout, const Tensor& pooled, const Tensor& taps, const Tensor& x,
                                  const Tensor& w, const ConvGeom& g, const Tensor& gx, const Tensor& gw,
                                  const Tensor& gb, ConvAlgo algo, const Tensor& reserve) {
  KOAN_ASSERT(gout.is_contiguous() && pooled.is_contiguous() && taps.is_contiguous() && x.is_contiguous() &&
              gw.is_contiguous());
  KOAN_ASSERT(!gx.defined() || (gx.is_contiguous() && w.defined() && w.is_contiguous()));
  KOAN_ASSERT(!gb.defined() || gb.is_contiguous());
  const ConvAlgo how = pick(g, algo, true);
  KOAN_ASSERT(!reserve.defined() || (reserve.is_contiguous() && reserve.dtype() == x.dtype() &&
                                     reserve.numel() == conv2d_relu_pool2x2_reserve(g, how)));
  visit_floating(x.dtype(), "conv2d_relu_max_pool2d backward", [&]<class T>() {
    uint8_t* tp = base_ptr<uint8_t>(taps) + taps.offset();
    T* gxp = gx.defined() ? mut_ptr<T>(gx) : nullptr;
    T* gbp = gb.defined() ? mut_ptr<T>(gb) : nullptr;
    if (how == ConvAlgo::winograd)
      return winograd::relu_pool_backward<T>(ptr<T>(gout), ptr<T>(pooled), tp, ptr<T>(x), ptr<T>(w), g, gxp,
                                             mut_ptr<T>(gw), gbp, reserve.defined() ? ptr<T>(reserve) : nullptr);
    if (how == ConvAlgo::direct)
      return direct3x3::relu_pool_backward<T>(ptr<T>(gout), ptr<T>(pooled), tp, ptr<T>(x), ptr<T>(w), g, gxp,
                                              mut_ptr<T>(gw), gbp);
    backward_impl<T>(gout, Tensor(), x, w, g, gx, gw, gb, {ptr<T>(pooled), tp, g.oh / 2, g.ow / 2});
  });
}

void conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeom& g, const Tensor& gw) {
  KOAN_ASSERT(x.is_contiguous() && gy.is_contiguous() && gw.is_contiguous());
  if (gw.numel() == 0) return;
  visit_floating(x.dtype(), "conv2d backward",
                 [&]<class T>() { backward_impl<T>(gy, Tensor(), x, Tensor(), g, Tensor(), gw, Tensor()); });
}

}  // namespace koan::kernels
