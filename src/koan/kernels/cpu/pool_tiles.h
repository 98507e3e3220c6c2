// The 4x4 input patches of 2x2 output tiles, for 3x3 convolutions with unit stride
// (kernels/cpu/winograd.cpp and conv3x3_direct.cpp).  Tile (i, j) holds conv outputs 2i, 2i + 1
// by 2j, 2j + 1 (when they are max-pooled: pooled output (i, j)), read from the zero-padded input
// rows 2i .. 2i + 3 and columns 2j .. 2j + 3 (padded coordinates: x row r - ph, column q - pw).
// A channel's patches are stored patch-position-major, d[(4 k + l) * tiles + t], so per-tile
// arithmetic runs over contiguous tiles.  Internal to the CPU kernels.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "koan/kernels/conv.h"

namespace koan::kernels::pool_tiles {

struct Tiles {
  int64_t hp, wp, tp;  // tile rows and columns (the pooled plane), tiles per sample
  int64_t rows, cols;  // the zero-padded patch plane the tiles read: 2 hp + 2 by 2 wp + 2
  // Pooled (the default): the tiles the 2x2 pooling reads, an odd last row or column left out.
  // Whole: every output, the last tile row or column half outside when the size is odd.
  explicit Tiles(const ConvGeom& g, bool whole = false)
      : hp(whole ? (g.oh + 1) / 2 : g.oh / 2), wp(whole ? (g.ow + 1) / 2 : g.ow / 2), tp(hp * wp),
        rows(2 * hp + 2), cols(2 * wp + 2) {}
};

// ReLU as its kernel writes it (y > 0 ? y : 0), then the 2x2 max over a tile's outputs y (the
// window 0 1 / 2 3) with max_pool2d's rule: strictly greater replaces, so the first of equal
// values is the tap.
template <class T>
inline void relu_pool4(const T y[4], T& best, uint8_t& tap) {
  best = y[0] > T(0) ? y[0] : T(0);
  tap = 0;
  for (int k = 1; k < 4; ++k) {
    const T v = y[k] > T(0) ? y[k] : T(0);
    tap = v > best ? uint8_t(k) : tap;
    best = v > best ? v : best;
  }
}

// pad[r][q] = x[r - ph][q - pw], zero outside the plane.
template <class T>
inline void fill_pad(const T* __restrict x, const ConvGeom& g, const Tiles& tl, T* __restrict pad) {
  const int64_t qlo = std::clamp<int64_t>(g.pw, 0, tl.cols), qhi = std::clamp<int64_t>(g.w + g.pw, qlo, tl.cols);
  for (int64_t r = 0; r < tl.rows; ++r) {
    T* dst = pad + r * tl.cols;
    const int64_t xr = r - g.ph;
    if (xr < 0 || xr >= g.h) {
      std::fill(dst, dst + tl.cols, T(0));
      continue;
    }
    const T* src = x + xr * g.w - g.pw;
    std::fill(dst, dst + qlo, T(0));
    for (int64_t q = qlo; q < qhi; ++q) dst[q] = src[q];
    std::fill(dst + qhi, dst + tl.cols, T(0));
  }
}

// d[(4 k + l) tiles + t] = pad[2 i + k][2 j + l] for tile t = (i, j).
template <class T>
inline void gather_patches(const T* __restrict pad, const Tiles& tl, T* __restrict d) {
  for (int64_t i = 0; i < tl.hp; ++i)
    for (int k = 0; k < 4; ++k) {
      const T* row = pad + (2 * i + k) * tl.cols;
      for (int l = 0; l < 4; ++l) {
        T* dst = d + (4 * k + l) * tl.tp + i * tl.wp;
        for (int64_t j = 0; j < tl.wp; ++j) dst[j] = row[2 * j + l];
      }
    }
}

// The adjoint of gather_patches: pad[2 i + k][2 j + l] += d[(4 k + l) tiles + t], pad zeroed first.
template <class T>
inline void scatter_patches(const T* __restrict d, const Tiles& tl, T* __restrict pad) {
  std::fill(pad, pad + tl.rows * tl.cols, T(0));
  for (int64_t i = 0; i < tl.hp; ++i)
    for (int k = 0; k < 4; ++k) {
      T* row = pad + (2 * i + k) * tl.cols;
      for (int l = 0; l < 4; ++l) {
        const T* src = d + (4 * k + l) * tl.tp + i * tl.wp;
        for (int64_t j = 0; j < tl.wp; ++j) row[2 * j + l] += src[j];
      }
    }
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
inline constexpr bool kNarrow = true;
// GCC 12's intrinsic headers start some vectors from _mm*_undefined_*(), which -O3 reports as
// maybe-uninitialized (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
inline __mmask16 lanes(int64_t n) { return n <= 0 ? __mmask16(0) : n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// relu_pool4 on 16 tiles; stores the k lanes of best and the taps.
inline void relu_pool4(const __m512 y[4], __mmask16 k, float* best_out, uint8_t* tap_out) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 best = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y[0], zero, _CMP_GT_OQ), y[0]);
  __m512i tap = _mm512_setzero_si512();
  for (int j = 1; j < 4; ++j) {
    const __m512 v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y[j], zero, _CMP_GT_OQ), y[j]);
    const __mmask16 gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
    best = _mm512_mask_mov_ps(best, gt, v);
    tap = _mm512_mask_mov_epi32(tap, gt, _mm512_set1_epi32(j));
  }
  _mm512_mask_storeu_ps(best_out, k, best);
  _mm512_mask_cvtepi32_storeu_epi8(tap_out, k, tap);
}

// The pooled gradient of 16 tiles as the backward sees it: gout where the pooled value is > 0
// (the ReLU's mask at the tap), else 0; and the tap's row (row1) and column (col1) bits.
struct TileGrad {
  __m512 g;
  __mmask16 row1, col1;
  TileGrad(const float* gout, const float* pooled, const uint8_t* taps, __mmask16 k) {
    const __m512 p = _mm512_maskz_loadu_ps(k, pooled);
    g = _mm512_maskz_loadu_ps(_mm512_cmp_ps_mask(p, _mm512_setzero_ps(), _CMP_GT_OQ) & k, gout);
    const __m512i tap = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(k, taps));
    row1 = _mm512_test_epi32_mask(tap, _mm512_set1_epi32(2));
    col1 = _mm512_test_epi32_mask(tap, _mm512_set1_epi32(1));
  }
};

// A sum of float vectors in double (the bias gradient's rule: summed in double).
struct DoubleSum {
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  void add(__m512 v) {
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  double total() const { return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi)); }
};

// Permutes between a row of at most 32 floats (two registers) and its even and odd columns
// (one register each): even/odd split a row, lo/hi weave the two halves back.
struct Weave {
  __m512i lo, hi, even, odd;
  Weave() {
    alignas(64) int32_t l[16], h[16], ev[16], od[16];
    for (int j = 0; j < 16; ++j) {
      l[j] = (j % 2 ? 16 : 0) + j / 2;
      h[j] = (j % 2 ? 16 : 0) + 8 + j / 2;
      ev[j] = 2 * j;
      od[j] = 2 * j + 1;
    }
    lo = _mm512_load_si512(l);
    hi = _mm512_load_si512(h);
    even = _mm512_load_si512(ev);
    odd = _mm512_load_si512(od);
  }
};

// quad_to_plane and plane_to_quad (below) for planes of at most 32 columns, a tile row at a time:
// the tiles' columns 0 and 1 are woven into the plane's row (and split back), one permute per
// half row.
inline void quad_to_plane_narrow(const float* quad, int64_t tp, int64_t hp, int64_t wp, int64_t oh, int64_t ow,
                                 float* plane) {
  static const Weave wv;
  const __mmask16 tiles = lanes(wp), first = lanes(ow), second = lanes(ow - 16);
  for (int64_t i = 0; i < hp; ++i)
    for (int a = 0; a < 2 && 2 * i + a < oh; ++a) {
      const __m512 y0 = _mm512_maskz_loadu_ps(tiles, quad + (2 * a) * tp + i * wp);
      const __m512 y1 = _mm512_maskz_loadu_ps(tiles, quad + (2 * a + 1) * tp + i * wp);
      float* row = plane + (2 * i + a) * ow;
      _mm512_mask_storeu_ps(row, first, _mm512_permutex2var_ps(y0, wv.lo, y1));
      if (ow > 16) _mm512_mask_storeu_ps(row + 16, second, _mm512_permutex2var_ps(y0, wv.hi, y1));
    }
}

inline double plane_to_quad_narrow(const float* gy, const float* mask, int64_t tp, int64_t hp, int64_t wp,
                                   int64_t oh, int64_t ow, float* quad) {
  static const Weave wv;
  const __mmask16 tiles = lanes(wp), first = lanes(ow), second = lanes(ow - 16);
  const __m512 zero = _mm512_setzero_ps();
  DoubleSum sum;
  for (int64_t i = 0; i < hp; ++i)
    for (int a = 0; a < 2; ++a) {
      const int64_t r = 2 * i + a;
      __m512 lo = zero, hi = zero;
      if (r < oh) {
        lo = _mm512_maskz_loadu_ps(first, gy + r * ow);
        hi = _mm512_maskz_loadu_ps(second, gy + r * ow + 16);
        if (mask) {
          lo = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(first, mask + r * ow), zero, _CMP_GT_OQ), lo);
          hi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(second, mask + r * ow + 16), zero, _CMP_GT_OQ),
                                   hi);
        }
        sum.add(lo);
        sum.add(hi);
      }
      _mm512_mask_storeu_ps(quad + (2 * a) * tp + i * wp, tiles, _mm512_permutex2var_ps(lo, wv.even, hi));
      _mm512_mask_storeu_ps(quad + (2 * a + 1) * tp + i * wp, tiles, _mm512_permutex2var_ps(lo, wv.odd, hi));
    }
  return sum.total();
}

// Patch plane rows of at most 32 floats (tile columns <= 15), with AVX-512.  A padded row is two
// registers loaded straight from x with masks (no padded copy); its even and odd columns, E and O,
// are one permute each.  Tile j's patch columns are then E[j], O[j], E[j + 1], O[j + 1]: the first
// two are stored as they are and the last two stored one lane lower.  The adjoint loads the same
// way (the last two one lane lower, so lane j holds tile j - 1's), sums a row's contributions in
// E and O, and interleaves them back into the row of gx, written once.
struct NarrowRows {
  __m512i even, odd;            // columns 2 j and 2 j + 1 of the row's two halves
  __m512i weave_lo, weave_hi;   // E and O interleaved: columns 0..15 and 16..31
  __mmask16 x_lo, x_hi;         // padded columns that hold x: [pw, pw + w)
  __mmask16 tiles, shifted;     // lanes [0, wp) and [1, wp]
  static bool fits(const ConvGeom& g, const Tiles& tl) { return tl.cols <= 32 && g.w <= 32 && g.pw <= 16; }
  NarrowRows(const ConvGeom& g, const Tiles& tl) {
    const Weave wv;
    even = wv.even;
    odd = wv.odd;
    weave_lo = wv.lo;
    weave_hi = wv.hi;
    uint32_t xm = 0;
    for (int64_t q = 0; q < 32; ++q)
      if (q >= g.pw && q < g.pw + g.w && q < tl.cols) xm |= 1u << q;
    x_lo = __mmask16(xm & 0xFFFF);
    x_hi = __mmask16(xm >> 16);
    tiles = lanes(tl.wp);
    shifted = __mmask16(lanes(tl.wp) << 1);
  }
};

// d[(4 k + l) tp + t] for one channel plane x (gather_patches of the padded plane).
inline void gather_narrow(const float* x, const ConvGeom& g, const Tiles& tl, const NarrowRows& nr, float* d) {
  // Locals: the intrinsics' stores may alias anything, so fields would be reloaded after each.
  const int64_t hp = tl.hp, wp = tl.wp, tp = tl.tp, h = g.h, w = g.w, ph = g.ph, pw = g.pw;
  const __m512i even = nr.even, odd = nr.odd;
  const __mmask16 x_lo = nr.x_lo, x_hi = nr.x_hi, tiles = nr.tiles, shifted = nr.shifted;
  for (int64_t i = 0; i < hp; ++i)
    for (int k = 0; k < 4; ++k) {
      const int64_t xr = 2 * i + k - ph;
      __m512 lo = _mm512_setzero_ps(), hi = lo;
      if (xr >= 0 && xr < h) {
        const float* row = x + xr * w - pw;  // padded column q is row[q]; only x's columns are read
        lo = _mm512_maskz_loadu_ps(x_lo, row);
        hi = _mm512_maskz_loadu_ps(x_hi, row + 16);
      }
      const __m512 e = _mm512_permutex2var_ps(lo, even, hi), o = _mm512_permutex2var_ps(lo, odd, hi);
      float* at = d + 4 * k * tp + i * wp;
      _mm512_mask_storeu_ps(at, tiles, e);
      _mm512_mask_storeu_ps(at + tp, tiles, o);
      _mm512_mask_storeu_ps(at + 2 * tp - 1, shifted, e);  // lane j + 1 is tile j's
      _mm512_mask_storeu_ps(at + 3 * tp - 1, shifted, o);
    }
}

// The adjoint: gx's plane from d, every element written (0 where no tile reads it).
inline void scatter_narrow(const float* d, const ConvGeom& g, const Tiles& tl, const NarrowRows& nr, float* gx) {
  alignas(64) float buf[64];
  const int64_t hp = tl.hp, wp = tl.wp, tp = tl.tp, h = g.h, w = g.w, ph = g.ph, pw = g.pw;
  const __m512i weave_lo = nr.weave_lo, weave_hi = nr.weave_hi;
  const __mmask16 tiles = nr.tiles, shifted = nr.shifted;
  const bool wide = tl.cols > 16;
  for (int64_t xr = 0; xr < h; ++xr) {
    float* out = gx + xr * w;
    const int64_t r = xr + ph;  // padded row
    __m512 e = _mm512_setzero_ps(), o = e;
    for (int k = 0; k < 4; ++k) {
      const int64_t i = (r - k) / 2;
      if (r < k || (r - k) % 2 != 0 || i >= hp) continue;
      const float* at = d + 4 * k * tp + i * wp;
      e = _mm512_add_ps(e, _mm512_add_ps(_mm512_maskz_loadu_ps(tiles, at), _mm512_maskz_loadu_ps(shifted, at + 2 * tp - 1)));
      o = _mm512_add_ps(o, _mm512_add_ps(_mm512_maskz_loadu_ps(tiles, at + tp), _mm512_maskz_loadu_ps(shifted, at + 3 * tp - 1)));
    }
    const __m512 lo = _mm512_permutex2var_ps(e, weave_lo, o);
    const __m512 hi = wide ? _mm512_permutex2var_ps(e, weave_hi, o) : _mm512_setzero_ps();
    if (pw == 0) {  // x's column q is padded column q
      _mm512_mask_storeu_ps(out, lanes(w), lo);
      if (w > 16) _mm512_mask_storeu_ps(out + 16, lanes(w - 16), hi);
      continue;
    }
    _mm512_store_ps(buf, lo);
    _mm512_store_ps(buf + 16, hi);
    _mm512_store_ps(buf + 32, _mm512_setzero_ps());
    _mm512_store_ps(buf + 48, _mm512_setzero_ps());
    const float* src = buf + pw;  // x's column xq is padded column xq + pw
    for (int64_t q = 0; q < w; q += 16) {
      const __mmask16 m = lanes(w - q);
      _mm512_mask_storeu_ps(out + q, m, _mm512_maskz_loadu_ps(m, src + q));
    }
  }
}
#pragma GCC diagnostic pop
#else
inline constexpr bool kNarrow = false;
struct NarrowRows {
  static bool fits(const ConvGeom&, const Tiles&) { return false; }
  NarrowRows(const ConvGeom&, const Tiles&) {}
};
#endif

// One channel plane's patches into d (pad: scratch of rows x cols).
template <class T>
inline void gather(const T* x, const ConvGeom& g, const Tiles& tl, const NarrowRows* nr, T* pad, T* d) {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  if constexpr (std::is_same_v<T, float>)
    if (nr) return gather_narrow(x, g, tl, *nr, d);
#endif
  (void)nr;
  fill_pad(x, g, tl, pad);
  gather_patches(pad, tl, d);
}

// The adjoint: one channel plane gx from d, every element written (0 where no tile reads it).
template <class T>
inline void scatter(const T* d, const ConvGeom& g, const Tiles& tl, const NarrowRows* nr, T* pad, T* gx) {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  if constexpr (std::is_same_v<T, float>)
    if (nr) return scatter_narrow(d, g, tl, *nr, gx);
#endif
  (void)nr;
  scatter_patches(d, tl, pad);
  for (int64_t xr = 0; xr < g.h; ++xr) {
    T* dst = gx + xr * g.w;
    const int64_t r = xr + g.ph;
    if (r >= tl.rows) {
      std::fill(dst, dst + g.w, T(0));
      continue;
    }
    const T* src = pad + r * tl.cols;
    for (int64_t xq = 0; xq < g.w; ++xq) {
      const int64_t q = xq + g.pw;
      dst[xq] = q < tl.cols ? src[q] : T(0);
    }
  }
}

// A channel's whole-output tiles (Tiles(g, true)) to its output plane: quad[(2 a + b) tp + t] is
// output (2 i + a, 2 j + b) of tile t = (i, j); outputs past the plane's last row or column are
// dropped.
template <class T>
inline void quad_to_plane(const T* quad, const Tiles& tl, const ConvGeom& g, T* plane) {
  const int64_t tp = tl.tp;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  if constexpr (std::is_same_v<T, float>)
    if (g.ow <= 32) return quad_to_plane_narrow(quad, tp, tl.hp, tl.wp, g.oh, g.ow, plane);
#endif
  for (int64_t i = 0; i < tl.hp; ++i)
    for (int a = 0; a < 2 && 2 * i + a < g.oh; ++a) {
      T* row = plane + (2 * i + a) * g.ow;
      const T* y0 = quad + (2 * a) * tp + i * tl.wp;
      const T* y1 = quad + (2 * a + 1) * tp + i * tl.wp;
      for (int64_t j = 0; j < tl.wp; ++j) {
        row[2 * j] = y0[j];
        if (2 * j + 1 < g.ow) row[2 * j + 1] = y1[j];
      }
    }
}

// The adjoint: quad from the gradient plane gy, masked by mask > 0 where mask is not null, and 0
// past the plane's last row or column.  Returns the masked gradient's sum (in double).
template <class T>
inline double plane_to_quad(const T* gy, const T* mask, const Tiles& tl, const ConvGeom& g, T* quad) {
  const int64_t tp = tl.tp;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  if constexpr (std::is_same_v<T, float>)
    if (g.ow <= 32) return plane_to_quad_narrow(gy, mask, tp, tl.hp, tl.wp, g.oh, g.ow, quad);
#endif
  double sum = 0;
  for (int64_t i = 0; i < tl.hp; ++i)
    for (int a = 0; a < 2; ++a) {
      T* q0 = quad + (2 * a) * tp + i * tl.wp;
      T* q1 = quad + (2 * a + 1) * tp + i * tl.wp;
      const int64_t r = 2 * i + a;
      for (int64_t j = 0; j < tl.wp; ++j)
        for (int b = 0; b < 2; ++b) {
          const int64_t q = 2 * j + b;
          T v = T(0);
          if (r < g.oh && q < g.ow) {
            v = gy[r * g.ow + q];
            if (mask && !(mask[r * g.ow + q] > T(0))) v = T(0);
          }
          sum += static_cast<double>(v);
          (b ? q1 : q0)[j] = v;
        }
    }
  return sum;
}

// The narrow-row helper for geometry g where it applies (float32 only), else nothing.
template <class T>
struct NarrowFor {
  std::optional<NarrowRows> rows;
  NarrowFor(const ConvGeom& g, const Tiles& tl) {
    if (std::is_same_v<T, float> && kNarrow && NarrowRows::fits(g, tl)) rows.emplace(g, tl);
  }
  const NarrowRows* get() const { return rows ? &*rows : nullptr; }
};

}  // namespace koan::kernels::pool_tiles
