// Max and average pooling, one plane (sample, channel) per task.
#include "koan/kernels/pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/loops.h"
#include "koan/kernels/cpu/pool2x2.h"

namespace koan::kernels {
namespace {

// Planes per task: enough work per thread wake-up for small images.
int64_t plane_grain(int64_t plane_size) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(plane_size, 1)); }

// The kernel taps k in [lo, hi) whose position start + k * d lies in [0, size).
void tap_range(int64_t start, int64_t d, int64_t k, int64_t size, int64_t& lo, int64_t& hi) {
  lo = start >= 0 ? 0 : (-start + d - 1) / d;
  hi = size - start <= 0 ? 0 : std::min(k, (size - start + d - 1) / d);
  hi = std::max(hi, lo);
}

// The common 2x2 window with stride 2, no padding or dilation, every window inside the input.
bool is_pool2x2(const PoolGeom& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1 &&
         2 * g.oh <= g.h && 2 * g.ow <= g.w;
}

// One output row of 2x2 max pooling: out[q], idx[q] for q in [0, ow), from input rows x0 and x1
// (the next one); row0 is x0's flat position in its plane, w the plane's width.  The taps are
// visited in the generic loop's order (row by row) with its update rule, v > best or v is NaN,
// as selects instead of branches (on ReLU outputs, full of ties and equal zeros, the generic
// loop's "new max?" branch mispredicts about once per window), so values and indices agree with
// it exactly: the first index on ties, the last NaN.
template <class T, class I>
void pool2x2_row_scalar(const T* x0, const T* x1, int64_t q0, int64_t ow, int64_t row0, int64_t w, T* out,
                        I* idx) {
  for (int64_t q = q0; q < ow; ++q) {
    const T a = x0[2 * q], b = x0[2 * q + 1], c = x1[2 * q], d = x1[2 * q + 1];
    T best = a;
    int tap = 0;  // 0 = (0, 0), 1 = (0, 1), 2 = (1, 0), 3 = (1, 1)
    bool take = (b > best) | (b != b);
    best = take ? b : best;
    tap = take ? 1 : tap;
    take = (c > best) | (c != c);
    best = take ? c : best;
    tap = take ? 2 : tap;
    take = (d > best) | (d != d);
    best = take ? d : best;
    tap = take ? 3 : tap;
    out[q] = best;
    if constexpr (std::is_same_v<I, uint8_t>) idx[q] = static_cast<uint8_t>(tap);
    else idx[q] = row0 + (tap >> 1) * w + 2 * q + (tap & 1);
  }
}

template <class T, class I>
void pool2x2_row(const T* x0, const T* x1, int64_t ow, int64_t row0, int64_t w, T* out, I* idx) {
  pool2x2_row_scalar(x0, x1, 0, ow, row0, w, out, idx);
}

#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__)
// GCC 12's intrinsic headers start some vectors from _mm*_undefined_*(), which -O3 reports as
// maybe-uninitialized (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// float32, 16 outputs at a time (GCC does not vectorise the selects above by itself): the
// even / odd columns of two input rows are split with permutes, each tap's "take" is a mask.
template <class I>
void pool2x2_row_avx512(const float* x0, const float* x1, int64_t ow, int64_t row0, int64_t w, float* out,
                        I* idx) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i lane_lo = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i lane_hi = _mm512_add_epi64(lane_lo, _mm512_set1_epi64(16));
  const __m512i one64 = _mm512_set1_epi64(1), two64 = _mm512_set1_epi64(2), wv = _mm512_set1_epi64(w);
  auto step = [&](int64_t q, int64_t n) {  // outputs [q, q + n), n <= 16
    const __mmask16 lo = n >= 8 ? __mmask16(0xFFFF) : __mmask16((1u << (2 * n)) - 1);
    const __mmask16 hi = n > 8 ? __mmask16((1u << (2 * n - 16)) - 1) : __mmask16(0);
    const __m512 r0a = _mm512_maskz_loadu_ps(lo, x0 + 2 * q), r0b = _mm512_maskz_loadu_ps(hi, x0 + 2 * q + 16);
    const __m512 r1a = _mm512_maskz_loadu_ps(lo, x1 + 2 * q), r1b = _mm512_maskz_loadu_ps(hi, x1 + 2 * q + 16);
    const __m512 a = _mm512_permutex2var_ps(r0a, even, r0b), b = _mm512_permutex2var_ps(r0a, odd, r0b);
    const __m512 c = _mm512_permutex2var_ps(r1a, even, r1b), d = _mm512_permutex2var_ps(r1a, odd, r1b);
    __m512 best = a;
    __m512i tap = _mm512_setzero_si512();
    auto take = [&](__m512 v, int t) {
      const __mmask16 m = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, m, v);
      tap = _mm512_mask_mov_epi32(tap, m, _mm512_set1_epi32(t));
    };
    take(b, 1);
    take(c, 2);
    take(d, 3);
    const __mmask16 keep = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    _mm512_mask_storeu_ps(out + q, keep, best);
    if constexpr (std::is_same_v<I, uint8_t>) {
      _mm_mask_storeu_epi8(idx + q, keep, _mm512_cvtepi32_epi8(tap));
      return;
    } else {
    const __m512i base = _mm512_set1_epi64(row0 + 2 * q);
    auto index = [&](__m256i t32, __m512i lane) {  // row0 + 2q + 2 lane + (t & 1) + (t >> 1) w
      const __m512i t = _mm512_cvtepi32_epi64(t32);
      __m512i i = _mm512_add_epi64(_mm512_add_epi64(base, lane), _mm512_and_si512(t, one64));
      return _mm512_mask_add_epi64(i, _mm512_test_epi64_mask(t, two64), i, wv);
    };
    _mm512_mask_storeu_epi64(idx + q, __mmask8(keep), index(_mm512_castsi512_si256(tap), lane_lo));
    _mm512_mask_storeu_epi64(idx + q + 8, __mmask8(keep >> 8), index(_mm512_extracti64x4_epi64(tap, 1), lane_hi));
    }
  };
  int64_t q = 0;
  for (; q + 16 <= ow; q += 16) step(q, 16);
  if (q < ow) step(q, ow - q);
}
template <>
void pool2x2_row<float, int64_t>(const float* x0, const float* x1, int64_t ow, int64_t row0, int64_t w, float* out,
                                 int64_t* idx) {
  pool2x2_row_avx512(x0, x1, ow, row0, w, out, idx);
}
template <>
void pool2x2_row<float, uint8_t>(const float* x0, const float* x1, int64_t ow, int64_t row0, int64_t w, float* out,
                                 uint8_t* idx) {
  pool2x2_row_avx512(x0, x1, ow, row0, w, out, idx);
}
#pragma GCC diagnostic pop
#endif

template <class T, class I>
void pool2x2_plane(const T* x, int64_t w, int64_t oh, int64_t ow, T* out, I* idx) {
  for (int64_t r = 0; r < oh; ++r) {
    const T* x0 = x + 2 * r * w;
    pool2x2_row<T, I>(x0, x0 + w, ow, 2 * r * w, w, out + r * ow, idx + r * ow);
  }
}

template <class T, class I>
void max_pool2x2_impl(const T* x, const PoolGeom& g, T* out, I* idx) {
  const int64_t HW = g.h * g.w, P = g.oh * g.ow;
  parallel_for(0, g.planes, plane_grain(HW), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) pool2x2_plane<T, I>(x + p * HW, g.w, g.oh, g.ow, out + p * P, idx + p * P);
  });
}

template <class T>
void max_pool_impl(const Tensor& xt, const PoolGeom& g, const Tensor& ot, const Tensor& it) {
  const T* x = base_ptr<T>(xt) + xt.offset();
  T* out = base_ptr<T>(ot) + ot.offset();
  int64_t* idx = base_ptr<int64_t>(it) + it.offset();
  // Locals, so the compiler need not reload the geometry after every store.
  const int64_t H = g.h, W = g.w, OH = g.oh, OW = g.ow, HW = H * W, P = OH * OW;
  const int64_t sw = g.sw, dh = g.dh, dw = g.dw;
  // Each output column's in-bounds taps, computed once: the inner loops need no bounds checks.
  std::vector<int64_t> jlo(OW), jhi(OW);
  for (int64_t q = 0; q < OW; ++q) tap_range(q * sw - g.pw, dw, g.kw, W, jlo[q], jhi[q]);
  parallel_for(0, g.planes, plane_grain(HW), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const T* xp = x + p * HW;
      T* op = out + p * P;
      int64_t* ip = idx + p * P;
      for (int64_t r = 0; r < OH; ++r) {
        const int64_t h0 = r * g.sh - g.ph;
        int64_t ilo, ihi;
        tap_range(h0, dh, g.kh, H, ilo, ihi);
        for (int64_t q = 0; q < OW; ++q) {
          const int64_t w0 = q * sw - g.pw;
          T best = -std::numeric_limits<T>::infinity();
          int64_t arg = ihi > ilo && jhi[q] > jlo[q] ? (h0 + ilo * dh) * W + w0 + jlo[q] * dw : -1;
          for (int64_t i = ilo; i < ihi; ++i) {
            const int64_t row = (h0 + i * dh) * W + w0;
            for (int64_t j = jlo[q]; j < jhi[q]; ++j) {
              const T v = xp[row + j * dw];
              if (v > best || std::isnan(v)) {  // PyTorch's rule: NaN wins
                best = v;
                arg = row + j * dw;
              }
            }
          }
          op[r * OW + q] = best;
          ip[r * OW + q] = arg;
        }
      }
    }
  });
}

template <class T>
void max_pool_backward_impl(const Tensor& gyt, const Tensor& it, const PoolGeom& g, const Tensor& gxt) {
  const T* gy = base_ptr<T>(gyt) + gyt.offset();
  const int64_t* idx = base_ptr<int64_t>(it) + it.offset();
  T* gx = base_ptr<T>(gxt) + gxt.offset();
  const int64_t HW = g.h * g.w, P = g.oh * g.ow;
  parallel_for(0, g.planes, plane_grain(HW), [&](int64_t pb, int64_t pe) {
    std::fill(gx + pb * HW, gx + pe * HW, T(0));
    for (int64_t p = pb; p < pe; ++p) {
      const T* gp = gy + p * P;
      const int64_t* ip = idx + p * P;
      T* xp = gx + p * HW;
      for (int64_t k = 0; k < P; ++k)
        if (ip[k] >= 0) xp[ip[k]] += gp[k];
    }
  });
}

// The 2x2 windows tile the input, so each input element is written exactly once: the gradient
// where the tap points, zero elsewhere (and in the last row / column an odd size leaves out).
// No zero fill first and no scatter, unlike the general backward.
template <class T>
void taps_backward_row(const T* gr, const uint8_t* tr, int64_t ow, T* r0, T* r1) {
  for (int64_t q = 0; q < ow; ++q) {
    const T v = gr[q];
    const uint8_t t = tr[q];
    r0[2 * q] = t == 0 ? v : T(0);
    r0[2 * q + 1] = t == 1 ? v : T(0);
    r1[2 * q] = t == 2 ? v : T(0);
    r1[2 * q + 1] = t == 3 ? v : T(0);
  }
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // the intrinsics' false positive, as above
// float32, 16 windows at a time: each tap's mask selects the gradient, and permutes interleave
// taps 0 / 1 (and 2 / 3) into the even and odd columns of the window's two rows.  GCC leaves
// the scalar version above as four scattered scalar stores per window, five times slower.
template <>
void taps_backward_row<float>(const float* gr, const uint8_t* tr, int64_t ow, float* r0, float* r1) {
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi = _mm512_add_epi32(ilo, _mm512_set1_epi32(8));
  for (int64_t q = 0; q < ow; q += 16) {
    const int64_t n = std::min<int64_t>(16, ow - q);
    const __mmask16 keep = static_cast<__mmask16>((1u << n) - 1);
    const __mmask16 lo = static_cast<__mmask16>(n >= 8 ? 0xFFFFu : (1u << (2 * n)) - 1);
    const __mmask16 hi = static_cast<__mmask16>(n > 8 ? (1u << (2 * n - 16)) - 1 : 0u);
    const __m512 v = _mm512_maskz_loadu_ps(keep, gr + q);
    const __m512i t = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(keep, tr + q));
    auto pick = [&](int k) { return _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(t, _mm512_set1_epi32(k)), v); };
    const __m512 v0 = pick(0), v1 = pick(1), v2 = pick(2), v3 = pick(3);
    _mm512_mask_storeu_ps(r0 + 2 * q, lo, _mm512_permutex2var_ps(v0, ilo, v1));
    _mm512_mask_storeu_ps(r0 + 2 * q + 16, hi, _mm512_permutex2var_ps(v0, ihi, v1));
    _mm512_mask_storeu_ps(r1 + 2 * q, lo, _mm512_permutex2var_ps(v2, ilo, v3));
    _mm512_mask_storeu_ps(r1 + 2 * q + 16, hi, _mm512_permutex2var_ps(v2, ihi, v3));
  }
}
#pragma GCC diagnostic pop
#endif

template <class T>
void taps_backward_plane(const T* gp, const uint8_t* tp, int64_t h, int64_t w, int64_t oh, int64_t ow, T* xp) {
  if (ow < 8) {  // narrow planes (the seed CNN's 11x11): a fill and a scatter beat short rows
    std::fill(xp, xp + h * w, T(0));
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t q = 0; q < ow; ++q) {
        const int t = tp[r * ow + q];
        xp[(2 * r + (t >> 1)) * w + 2 * q + (t & 1)] = gp[r * ow + q];
      }
    return;
  }
  for (int64_t r = 0; r < oh; ++r) {
    T* r0 = xp + 2 * r * w;
    T* r1 = r0 + w;
    taps_backward_row<T>(gp + r * ow, tp + r * ow, ow, r0, r1);
    for (int64_t c = 2 * ow; c < w; ++c) r0[c] = r1[c] = T(0);
  }
  std::fill(xp + 2 * oh * w, xp + h * w, T(0));
}

template <class T>
void max_pool2x2_taps_backward_impl(const T* gy, const uint8_t* taps, const PoolGeom& g, T* gx) {
  const int64_t HW = g.h * g.w, P = g.oh * g.ow;
  parallel_for(0, g.planes, plane_grain(HW), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) taps_backward_plane<T>(gy + p * P, taps + p * P, g.h, g.w, g.oh, g.ow, gx + p * HW);
  });
}

template <class T>
void window_avg_impl(const Tensor& xt, const AvgWindows& rows, const AvgWindows& cols, const Tensor& ot) {
  const T* x = base_ptr<T>(xt) + xt.offset();
  T* out = base_ptr<T>(ot) + ot.offset();
  const int64_t H = xt.size(-2), W = xt.size(-1), OH = ot.size(-2), OW = ot.size(-1);
  const int64_t planes = ot.numel() / std::max<int64_t>(OH * OW, 1);
  parallel_for(0, planes, plane_grain(H * W), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const T* xp = x + p * H * W;
      T* op = out + p * OH * OW;
      for (int64_t r = 0; r < OH; ++r)
        for (int64_t q = 0; q < OW; ++q) {
          T s = 0;
          for (int64_t ih = rows.begin[r]; ih < rows.end[r]; ++ih)
            for (int64_t iw = cols.begin[q]; iw < cols.end[q]; ++iw) s += xp[ih * W + iw];
          op[r * OW + q] = static_cast<T>(s / (rows.count[r] * cols.count[q]));
        }
    }
  });
}

template <class T>
void window_avg_adjoint_impl(const Tensor& gyt, const AvgWindows& rows, const AvgWindows& cols, const Tensor& gxt) {
  const T* gy = base_ptr<T>(gyt) + gyt.offset();
  T* gx = base_ptr<T>(gxt) + gxt.offset();
  const int64_t H = gxt.size(-2), W = gxt.size(-1), OH = gyt.size(-2), OW = gyt.size(-1);
  const int64_t planes = gxt.numel() / std::max<int64_t>(H * W, 1);
  parallel_for(0, planes, plane_grain(H * W), [&](int64_t pb, int64_t pe) {
    std::fill(gx + pb * H * W, gx + pe * H * W, T(0));
    for (int64_t p = pb; p < pe; ++p) {
      const T* gp = gy + p * OH * OW;
      T* xp = gx + p * H * W;
      for (int64_t r = 0; r < OH; ++r)
        for (int64_t q = 0; q < OW; ++q) {
          const T v = static_cast<T>(gp[r * OW + q] / (rows.count[r] * cols.count[q]));
          for (int64_t ih = rows.begin[r]; ih < rows.end[r]; ++ih)
            for (int64_t iw = cols.begin[q]; iw < cols.end[q]; ++iw) xp[ih * W + iw] += v;
        }
    }
  });
}

}  // namespace

bool max_pool2d_has_taps(const PoolGeom& g) { return is_pool2x2(g); }

void max_pool2d(const Tensor& x, const PoolGeom& g, const Tensor& out, const Tensor& indices) {
  KOAN_ASSERT(x.is_contiguous() && out.is_contiguous() && indices.is_contiguous());
  KOAN_ASSERT(indices.dtype() == DType::Int64 || (indices.dtype() == DType::UInt8 && is_pool2x2(g)));
  if (out.numel() == 0) return;
  visit_floating(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* xp = base_ptr<T>(x) + x.offset();
    T* op = base_ptr<T>(out) + out.offset();
    if (indices.dtype() == DType::UInt8)
      max_pool2x2_impl<T, uint8_t>(xp, g, op, base_ptr<uint8_t>(indices) + indices.offset());
    else if (is_pool2x2(g))
      max_pool2x2_impl<T, int64_t>(xp, g, op, base_ptr<int64_t>(indices) + indices.offset());
    else
      max_pool_impl<T>(x, g, out, indices);
  });
}

void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const PoolGeom& g, const Tensor& gx) {
  KOAN_ASSERT(gy.is_contiguous() && indices.is_contiguous() && gx.is_contiguous());
  KOAN_ASSERT(indices.dtype() == DType::Int64 || (indices.dtype() == DType::UInt8 && is_pool2x2(g)));
  if (gx.numel() == 0) return;
  visit_floating(gy.dtype(), "max_pool2d backward", [&]<class T>() {
    if (indices.dtype() == DType::UInt8)
      max_pool2x2_taps_backward_impl<T>(base_ptr<T>(gy) + gy.offset(), base_ptr<uint8_t>(indices) + indices.offset(),
                                        g, base_ptr<T>(gx) + gx.offset());
    else
      max_pool_backward_impl<T>(gy, indices, g, gx);
  });
}

void window_avg(const Tensor& x, const AvgWindows& rows, const AvgWindows& cols, const Tensor& out) {
  KOAN_ASSERT(x.is_contiguous() && out.is_contiguous());
  if (out.numel() == 0) return;
  visit_floating(x.dtype(), "avg_pool2d", [&]<class T>() { window_avg_impl<T>(x, rows, cols, out); });
}

void window_avg_adjoint(const Tensor& gy, const AvgWindows& rows, const AvgWindows& cols, const Tensor& gx) {
  KOAN_ASSERT(gy.is_contiguous() && gx.is_contiguous());
  if (gx.numel() == 0) return;
  visit_floating(gy.dtype(), "avg_pool2d backward",
                 [&]<class T>() { window_avg_adjoint_impl<T>(gy, rows, cols, gx); });
}

namespace pool2x2 {
template <class T>
void forward_plane(const T* x, int64_t h, int64_t w, int64_t oh, int64_t ow, T* out, uint8_t* taps) {
  KOAN_ASSERT(2 * oh <= h && 2 * ow <= w);
  pool2x2_plane<T, uint8_t>(x, w, oh, ow, out, taps);
}
template <class T>
void backward_plane(const T* gy, const uint8_t* taps, int64_t h, int64_t w, int64_t oh, int64_t ow, T* gx) {
  KOAN_ASSERT(2 * oh <= h && 2 * ow <= w);
  taps_backward_plane<T>(gy, taps, h, w, oh, ow, gx);
}
template void forward_plane<float>(const float*, int64_t, int64_t, int64_t, int64_t, float*, uint8_t*);
template void forward_plane<double>(const double*, int64_t, int64_t, int64_t, int64_t, double*, uint8_t*);
template void backward_plane<float>(const float*, const uint8_t*, int64_t, int64_t, int64_t, int64_t, float*);
template void backward_plane<double>(const double*, const uint8_t*, int64_t, int64_t, int64_t, int64_t, double*);
}  // namespace pool2x2

}  // namespace koan::kernels
