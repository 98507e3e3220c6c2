// im2col and col2im for narrow float32 images (rows of at most 32, unit column stride), with
// AVX-512.  The generic loops in conv.cpp move one short row segment per (channel, kernel row,
// kernel column, output row): 11 floats at a time in the seed CNN's second layer, so their cost
// is per-row overhead, not bytes (im2col and col2im were a fifth of a training step).  Here each
// input row is loaded once into two registers, and every kernel column's output row is a permute
// of them (im2col); col2im sums the kernel columns' shifted rows in registers and touches the
// input row once.  Values and summation order are those of the generic loops, so results are
// identical bit for bit.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "koan/kernels/conv.h"

namespace koan::kernels::narrow {

#if defined(__AVX512F__)
inline constexpr bool kAvailable = true;

inline bool applies(const ConvGeom& g) { return g.sw == 1 && g.w <= 32 && g.ow <= 32 && g.kw <= 16; }

// One kernel column's shift: output column q reads input column q + off where mask says so.
struct Shift {
  __m512i idx_lo, idx_hi;     // q + off for q in [0, 16) and [16, 32), as permute indices
  __mmask16 ok_lo, ok_hi;     // q in [lo, hi): the input column exists
};

inline __mmask16 first_n(int64_t n) {
  return n <= 0 ? __mmask16(0) : n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

// lo, hi: the output columns whose input column q + off lies inside the row (conv.cpp's
// valid_range).
inline Shift make_shift(int64_t off, int64_t lo, int64_t hi) {
  const __m512i q = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i o = _mm512_set1_epi32(static_cast<int>(off));
  Shift s;
  s.idx_lo = _mm512_add_epi32(q, o);
  s.idx_hi = _mm512_add_epi32(s.idx_lo, _mm512_set1_epi32(16));
  s.ok_lo = static_cast<__mmask16>(first_n(hi) & ~first_n(lo));
  s.ok_hi = static_cast<__mmask16>(first_n(hi - 16) & ~first_n(lo - 16));
  return s;
}

// col[(c, i, j), (r, q)] = x[c, r*sh - ph + i*dh, q - pw + j*dw], zero outside the input.
inline void im2col(const float* x, const ConvGeom& g, int64_t cg, float* col, const Shift* shifts) {
  const int64_t P = g.oh * g.ow;
  const __mmask16 in_lo = first_n(g.w), in_hi = first_n(g.w - 16);
  const __mmask16 out_lo = first_n(g.ow), out_hi = first_n(g.ow - 16);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t i = 0; i < g.kh; ++i) {
      float* rows = col + (c * g.kh + i) * g.kw * P;
      for (int64_t r = 0; r < g.oh; ++r) {
        const int64_t ih = r * g.sh - g.ph + i * g.dh;
        const bool inside = ih >= 0 && ih < g.h;
        const float* xr = x + (c * g.h + ih) * g.w;
        const __m512 a = inside ? _mm512_maskz_loadu_ps(in_lo, xr) : zero;
        const __m512 b = inside ? _mm512_maskz_loadu_ps(in_hi, xr + 16) : zero;
        for (int64_t j = 0; j < g.kw; ++j) {
          const Shift& s = shifts[j];
          float* dst = rows + j * P + r * g.ow;
          _mm512_mask_storeu_ps(dst, out_lo, _mm512_maskz_permutex2var_ps(s.ok_lo, a, s.idx_lo, b));
          _mm512_mask_storeu_ps(dst + 16, out_hi, _mm512_maskz_permutex2var_ps(s.ok_hi, a, s.idx_hi, b));
        }
      }
    }
}

// The inverse shift: input column t receives output column t - off.
inline Shift make_unshift(int64_t off, int64_t lo, int64_t hi) { return make_shift(-off, lo + off, hi + off); }

// x[c, ...] += col[(c, i, j), (r, q)].  For each input row the kernel columns' contributions
// are added in j order in registers, then to the row: the order the generic loop adds them in.
inline void col2im(const float* col, const ConvGeom& g, int64_t cg, float* x, const Shift* unshifts) {
  const int64_t P = g.oh * g.ow;
  const __mmask16 in_lo = first_n(g.w), in_hi = first_n(g.w - 16);
  const __mmask16 out_lo = first_n(g.ow), out_hi = first_n(g.ow - 16);
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t i = 0; i < g.kh; ++i) {
      const float* rows = col + (c * g.kh + i) * g.kw * P;
      for (int64_t r = 0; r < g.oh; ++r) {
        const int64_t ih = r * g.sh - g.ph + i * g.dh;
        if (ih < 0 || ih >= g.h) continue;
        float* xr = x + (c * g.h + ih) * g.w;
        __m512 a = _mm512_maskz_loadu_ps(in_lo, xr), b = _mm512_maskz_loadu_ps(in_hi, xr + 16);
        for (int64_t j = 0; j < g.kw; ++j) {
          const Shift& s = unshifts[j];
          const float* src = rows + j * P + r * g.ow;
          const __m512 u = _mm512_maskz_loadu_ps(out_lo, src), v = _mm512_maskz_loadu_ps(out_hi, src + 16);
          a = _mm512_add_ps(a, _mm512_maskz_permutex2var_ps(s.ok_lo, u, s.idx_lo, v));
          b = _mm512_add_ps(b, _mm512_maskz_permutex2var_ps(s.ok_hi, u, s.idx_hi, v));
        }
        _mm512_mask_storeu_ps(xr, in_lo, a);
        _mm512_mask_storeu_ps(xr + 16, in_hi, b);
      }
    }
}
#else
inline constexpr bool kAvailable = false;
#endif

}  // namespace koan::kernels::narrow
