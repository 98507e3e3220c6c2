// Winograd F(2x2, 3x3) convolution + ReLU + 2x2 max pooling (see winograd.h for why and where).
//
// With d a 4x4 input patch, g a 3x3 kernel and Y the 2x2 outputs (Lavin and Gray, 2015):
//   Y = A^T [(G g G^T) . (B^T d B)] A,
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// U = G g G^T (per output and input channel) and V = B^T d B (per input channel and tile) are
// stored point-major, U[xi][o][c] and V[xi][c][t], xi = 4 p + q the point of the 4x4 transform
// space, so that M[xi] = U[xi] V[xi] is one GEMM per point over a chunk's tiles t.
//
// Layout of a chunk: S samples' tiles side by side, t = s * tiles + i * (ow / 2) + j, so each
// sample's tiles are its pooled plane in order.  The transforms loop over a sample's tiles as
// the innermost index; the 4x4 patches are gathered per channel first (pool_tiles.h).
#include "koan/kernels/cpu/winograd.h"

#include <immintrin.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/pool_tiles.h"
#include "koan/kernels/gemm.h"
#include "koan/tensor/tensor.h"

namespace koan::kernels::winograd {
namespace {
using pool_tiles::Tiles;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
using pool_tiles::lanes;
#endif

// Below this many input channels the direct tiles of conv3x3_direct.cpp are faster (the seed
// CNN's first layer has 1; its second, 32).  Measured at batch 64, 1 thread: with 4 channels
// Winograd took 0.57 / 1.34 ms forward / backward against direct's 0.39 / 1.20; with 8,
// 0.70 / 1.52 against 0.72 / 4.06 (docs/PERFORMANCE.md).
constexpr int64_t kMinChannels = 8;
// Tiles per chunk: GEMMs of 64 x 200 x 32 ran at oneDNN's best (135-140 GFLOP/s at 1 thread;
// 100 columns 116, 1 600 columns 100-120), and a chunk's V and M (1.2 MB at 32 -> 64 channels) stay
// in a core's L2.
constexpr int64_t kChunkTiles = 200;
// Samples per chunk for a batch of n: about kChunkTiles tiles a chunk, in an even number of
// chunks, and a multiple of 8 from 8 up, where the batch allows: then the backward's blocks (at
// most 8) hold equal numbers of chunks, and two threads get equal shares (the seed CNN's batch of
// 64: 8 chunks of 8 samples pooled, 16 of 4 whole).  A function of n and the geometry only.
int64_t samples_per_chunk(const Tiles& tl, int64_t n) {
  const int64_t by_tiles = (n * tl.tp + kChunkTiles - 1) / kChunkTiles;
  const int64_t round = by_tiles < 8 ? 2 : 8;
  const int64_t chunks = std::clamp<int64_t>((by_tiles + round - 1) / round * round, 1, std::max<int64_t>(n, 1));
  return std::max<int64_t>(1, (n + chunks - 1) / chunks);
}

// The four per-tile maps, over one channel's tiles t in [0, tp): scalar here, AVX-512 for
// float32 below (GCC does not vectorise them: 16 strided streams per tile).
// v[xi * pstride + t] = (B^T d B)[xi], d[(4 k + l) tp + t] the patches.
template <class T>
void patches_to_v(const T* d, int64_t tp, T* v, int64_t pstride) {
  for (int64_t t = 0; t < tp; ++t) {
    T h[4][4];  // B^T applied along each patch row: h[k][q]
    for (int k = 0; k < 4; ++k) {
      const T d0 = d[(4 * k) * tp + t], d1 = d[(4 * k + 1) * tp + t];
      const T d2 = d[(4 * k + 2) * tp + t], d3 = d[(4 * k + 3) * tp + t];
      h[k][0] = d0 - d2;
      h[k][1] = d1 + d2;
      h[k][2] = d2 - d1;
      h[k][3] = d1 - d3;
    }
    for (int q = 0; q < 4; ++q) {  // and down each column
      v[(0 + q) * pstride + t] = h[0][q] - h[2][q];
      v[(4 + q) * pstride + t] = h[1][q] + h[2][q];
      v[(8 + q) * pstride + t] = h[2][q] - h[1][q];
      v[(12 + q) * pstride + t] = h[1][q] - h[3][q];
    }
  }
}

// Its adjoint: d = B v B^T per tile.
template <class T>
void v_to_patches(const T* v, int64_t pstride, int64_t tp, T* d) {
  for (int64_t t = 0; t < tp; ++t) {
    T e[4][4];  // B applied down each column: e[k][q]
    for (int q = 0; q < 4; ++q) {
      const T v0 = v[(0 + q) * pstride + t], v1 = v[(4 + q) * pstride + t];
      const T v2 = v[(8 + q) * pstride + t], v3 = v[(12 + q) * pstride + t];
      e[0][q] = v0;
      e[1][q] = v1 - v2 + v3;
      e[2][q] = v1 + v2 - v0;
      e[3][q] = -v3;
    }
    for (int k = 0; k < 4; ++k) {  // and along each row
      d[(4 * k) * tp + t] = e[k][0];
      d[(4 * k + 1) * tp + t] = e[k][1] - e[k][2] + e[k][3];
      d[(4 * k + 2) * tp + t] = e[k][1] + e[k][2] - e[k][0];
      d[(4 * k + 3) * tp + t] = -e[k][3];
    }
  }
}

// A tile's four outputs (the window 0 1 / 2 3) from M: Y = A^T M A, + bo.
template <class T>
void output_tile(const T* m, int64_t pstride, int64_t t, T bo, T y[4]) {
  T r[2][4];  // A^T applied down each column
  for (int q = 0; q < 4; ++q) {
    const T m0 = m[(0 + q) * pstride + t], m1 = m[(4 + q) * pstride + t];
    const T m2 = m[(8 + q) * pstride + t], m3 = m[(12 + q) * pstride + t];
    r[0][q] = m0 + m1 + m2;
    r[1][q] = m1 - m2 - m3;
  }
  for (int a = 0; a < 2; ++a) {  // and along each row
    y[2 * a] = r[a][0] + r[a][1] + r[a][2] + bo;
    y[2 * a + 1] = r[a][1] - r[a][2] - r[a][3] + bo;
  }
}

// One output channel: the tiles' outputs, ReLU as its kernel writes it (y > 0 ? y : 0), then the
// 2x2 max with max_pool2d's rule (strictly greater replaces: the first of equal values).
template <class T>
void m_to_pool(const T* m, int64_t pstride, int64_t tp, T bo, T* po, uint8_t* pt) {
  for (int64_t t = 0; t < tp; ++t) {
    T y[4];
    output_tile(m, pstride, t, bo, y);
    pool_tiles::relu_pool4(y, po[t], pt[t]);
  }
}

// One output channel's dM = A dY A^T per tile, dY the gradient gv at the tap where the pooled
// value is > 0: gv times A^T's column for the tap's row and column, (1, 1, 1, 0) or
// (0, 1, -1, -1).  Returns the sum of gv (the bias gradient's share).  The general adjoint
// (quad_to_dm) from a quad holding gv at the tap gives the same values, but the extra pass
// through the quad made the backward 10-30% slower (5 of 6 interleaved pairs), so the
// one-nonzero case keeps its own loop.
template <class T>
double pool_to_dm(const T* go, const T* po, const uint8_t* pt, int64_t tp, T* m, int64_t pstride) {
  double sum = 0;
  for (int64_t t = 0; t < tp; ++t) {
    const T gv = po[t] > T(0) ? go[t] : T(0);
    sum += static_cast<double>(gv);
    const T a = T(pt[t] >> 1), b = T(pt[t] & 1);
    const T ca[4] = {T(1) - a, T(1), T(1) - 2 * a, -a}, cb[4] = {T(1) - b, T(1), T(1) - 2 * b, -b};
    for (int p = 0; p < 4; ++p) {
      const T gp = gv * ca[p];
      for (int q = 0; q < 4; ++q) m[(4 * p + q) * pstride + t] = gp * cb[q];
    }
  }
  return sum;
}

// One output channel's whole tiles: quad[(2 a + b) tp + t] = (A^T M A)[a][b] + bo, then the ReLU
// (y > 0 ? y : 0) when relu.
// One output channel's whole tiles: quad[(2 a + b) tp + t] = the tile's output (a, b), then the
// ReLU (y > 0 ? y : 0) when relu.
template <class T>
void m_to_quad(const T* m, int64_t pstride, int64_t tp, T bo, bool relu, T* quad) {
  for (int64_t t = 0; t < tp; ++t) {
    T y[4];
    output_tile(m, pstride, t, bo, y);
    for (int i = 0; i < 4; ++i) quad[i * tp + t] = relu ? (y[i] > T(0) ? y[i] : T(0)) : y[i];
  }
}

// Its adjoint for one output channel: dM = A dY A^T per tile, dY = quad[(2 a + b) tp + t].
template <class T>
void quad_to_dm(const T* quad, int64_t tp, T* m, int64_t pstride) {
  for (int64_t t = 0; t < tp; ++t) {
    T e[2][4];  // A applied along each row of dY: e[a][q]
    for (int a = 0; a < 2; ++a) {
      const T y0 = quad[(2 * a) * tp + t], y1 = quad[(2 * a + 1) * tp + t];
      e[a][0] = y0;
      e[a][1] = y0 + y1;
      e[a][2] = y0 - y1;
      e[a][3] = -y1;
    }
    for (int q = 0; q < 4; ++q) {  // and down each column
      m[(0 + q) * pstride + t] = e[0][q];
      m[(4 + q) * pstride + t] = e[0][q] + e[1][q];
      m[(8 + q) * pstride + t] = e[0][q] - e[1][q];
      m[(12 + q) * pstride + t] = -e[1][q];
    }
  }
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
// GCC 12's intrinsic headers start some vectors from _mm*_undefined_*(), which -O3 reports as
// maybe-uninitialized (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// p[0], p[step], p[2 step], p[3 step]: one row or column of a tile's 4x4 points, 16 tiles wide.
inline void load4(const float* p, int64_t step, __mmask16 k, __m512 out[4]) {
  for (int i = 0; i < 4; ++i) out[i] = _mm512_maskz_loadu_ps(k, p + i * step);
}

template <>
void patches_to_v<float>(const float* d, int64_t tp, float* v, int64_t pstride) {
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 k = lanes(tp - t);
    __m512 h[4][4];
    for (int r = 0; r < 4; ++r) {
      __m512 dr[4];
      load4(d + 4 * r * tp + t, tp, k, dr);
      h[r][0] = _mm512_sub_ps(dr[0], dr[2]);
      h[r][1] = _mm512_add_ps(dr[1], dr[2]);
      h[r][2] = _mm512_sub_ps(dr[2], dr[1]);
      h[r][3] = _mm512_sub_ps(dr[1], dr[3]);
    }
    for (int q = 0; q < 4; ++q) {
      _mm512_mask_storeu_ps(v + (0 + q) * pstride + t, k, _mm512_sub_ps(h[0][q], h[2][q]));
      _mm512_mask_storeu_ps(v + (4 + q) * pstride + t, k, _mm512_add_ps(h[1][q], h[2][q]));
      _mm512_mask_storeu_ps(v + (8 + q) * pstride + t, k, _mm512_sub_ps(h[2][q], h[1][q]));
      _mm512_mask_storeu_ps(v + (12 + q) * pstride + t, k, _mm512_sub_ps(h[1][q], h[3][q]));
    }
  }
}

template <>
void v_to_patches<float>(const float* v, int64_t pstride, int64_t tp, float* d) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 k = lanes(tp - t);
    __m512 e[4][4];
    for (int q = 0; q < 4; ++q) {
      __m512 vq[4];
      load4(v + q * pstride + t, 4 * pstride, k, vq);
      e[0][q] = vq[0];
      e[1][q] = _mm512_add_ps(_mm512_sub_ps(vq[1], vq[2]), vq[3]);
      e[2][q] = _mm512_sub_ps(_mm512_add_ps(vq[1], vq[2]), vq[0]);
      e[3][q] = _mm512_sub_ps(zero, vq[3]);
    }
    for (int r = 0; r < 4; ++r) {
      _mm512_mask_storeu_ps(d + (4 * r) * tp + t, k, e[r][0]);
      _mm512_mask_storeu_ps(d + (4 * r + 1) * tp + t, k, _mm512_add_ps(_mm512_sub_ps(e[r][1], e[r][2]), e[r][3]));
      _mm512_mask_storeu_ps(d + (4 * r + 2) * tp + t, k, _mm512_sub_ps(_mm512_add_ps(e[r][1], e[r][2]), e[r][0]));
      _mm512_mask_storeu_ps(d + (4 * r + 3) * tp + t, k, _mm512_sub_ps(zero, e[r][3]));
    }
  }
}

// output_tile on 16 tiles.
inline void output_tile(const float* m, int64_t pstride, int64_t t, __mmask16 k, __m512 bias, __m512 y[4]) {
  __m512 r[2][4];
  for (int q = 0; q < 4; ++q) {
    __m512 mq[4];
    load4(m + q * pstride + t, 4 * pstride, k, mq);
    r[0][q] = _mm512_add_ps(_mm512_add_ps(mq[0], mq[1]), mq[2]);
    r[1][q] = _mm512_sub_ps(_mm512_sub_ps(mq[1], mq[2]), mq[3]);
  }
  for (int a = 0; a < 2; ++a) {
    y[2 * a] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r[a][0], r[a][1]), r[a][2]), bias);
    y[2 * a + 1] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r[a][1], r[a][2]), r[a][3]), bias);
  }
}

template <>
void m_to_pool<float>(const float* m, int64_t pstride, int64_t tp, float bo, float* po, uint8_t* pt) {
  const __m512 bias = _mm512_set1_ps(bo);
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 k = lanes(tp - t);
    __m512 y[4];
    output_tile(m, pstride, t, k, bias, y);
    pool_tiles::relu_pool4(y, k, po + t, pt + t);
  }
}

template <>
double pool_to_dm<float>(const float* go, const float* po, const uint8_t* pt, int64_t tp, float* m, int64_t pstride) {
  const __m512 zero = _mm512_setzero_ps();
  pool_tiles::DoubleSum sum;
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 k = lanes(tp - t);
    const pool_tiles::TileGrad tg(go + t, po + t, pt + t, k);
    const __m512 gv = tg.g;
    const __mmask16 a = tg.row1, b = tg.col1;
    sum.add(gv);
    // gv times A^T's column: (1, 1, 1, 0) where the flag is clear, (0, 1, -1, -1) where set.
    auto column = [&](__m512 x, __mmask16 f, __m512 out[4]) {
      const __m512 neg = _mm512_sub_ps(zero, x);
      out[0] = _mm512_maskz_mov_ps(_knot_mask16(f), x);
      out[1] = x;
      out[2] = _mm512_mask_mov_ps(x, f, neg);
      out[3] = _mm512_maskz_mov_ps(f, neg);
    };
    __m512 gp[4];
    column(gv, a, gp);
    for (int p = 0; p < 4; ++p) {
      __m512 row[4];
      column(gp[p], b, row);
      for (int q = 0; q < 4; ++q) _mm512_mask_storeu_ps(m + (4 * p + q) * pstride + t, k, row[q]);
    }
  }
  return sum.total();
}

template <>
void m_to_quad<float>(const float* m, int64_t pstride, int64_t tp, float bo, bool relu, float* quad) {
  const __m512 bias = _mm512_set1_ps(bo), zero = _mm512_setzero_ps();
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 k = lanes(tp - t);
    __m512 y[4];
    output_tile(m, pstride, t, k, bias, y);
    for (int i = 0; i < 4; ++i)
      _mm512_mask_storeu_ps(quad + i * tp + t, k, relu ? _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y[i], zero, _CMP_GT_OQ), y[i]) : y[i]);
  }
}

template <>
void quad_to_dm<float>(const float* quad, int64_t tp, float* m, int64_t pstride) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 k = lanes(tp - t);
    __m512 e[2][4];
    for (int a = 0; a < 2; ++a) {
      const __m512 y0 = _mm512_maskz_loadu_ps(k, quad + (2 * a) * tp + t);
      const __m512 y1 = _mm512_maskz_loadu_ps(k, quad + (2 * a + 1) * tp + t);
      e[a][0] = y0;
      e[a][1] = _mm512_add_ps(y0, y1);
      e[a][2] = _mm512_sub_ps(y0, y1);
      e[a][3] = _mm512_sub_ps(zero, y1);
    }
    for (int q = 0; q < 4; ++q) {
      _mm512_mask_storeu_ps(m + (0 + q) * pstride + t, k, e[0][q]);
      _mm512_mask_storeu_ps(m + (4 + q) * pstride + t, k, _mm512_add_ps(e[0][q], e[1][q]));
      _mm512_mask_storeu_ps(m + (8 + q) * pstride + t, k, _mm512_sub_ps(e[0][q], e[1][q]));
      _mm512_mask_storeu_ps(m + (12 + q) * pstride + t, k, _mm512_sub_ps(zero, e[1][q]));
    }
  }
}

#pragma GCC diagnostic pop
#endif

// V[xi][c][col0 + t] = (B^T d B)[xi] for each channel's tiles of one sample (x: c planes).
// V's rows are ld long.
template <class T>
void input_transform(const T* x, const ConvGeom& g, const Tiles& tl, const pool_tiles::NarrowFor<T>& nr, T* pad, T* d,
                     T* V, int64_t ld) {
  for (int64_t c = 0; c < g.c; ++c) {
    pool_tiles::gather(x + c * g.h * g.w, g, tl, nr.get(), pad, d);
    patches_to_v(d, tl.tp, V + c * ld, g.c * ld);
  }
}

// The adjoint of input_transform for one sample: gx (c planes) from dV[xi][c][col0 + t].
template <class T>
void input_transform_adjoint(const T* dV, const ConvGeom& g, const Tiles& tl, const pool_tiles::NarrowFor<T>& nr,
                             T* pad, T* d, int64_t ld, T* gx) {
  for (int64_t c = 0; c < g.c; ++c) {
    v_to_patches(dV + c * ld, g.c * ld, tl.tp, d);
    pool_tiles::scatter(d, g, tl, nr.get(), pad, gx + c * g.h * g.w);
  }
}

// U[xi][o][c] = (G w[o][c] G^T)[xi].
template <class T>
void weight_transform(const T* w, const ConvGeom& g, T* U) {
  const int64_t OC = g.o * g.c;
  for (int64_t oc = 0; oc < OC; ++oc) {
    const T* k = w + oc * 9;
    T r[4][3];  // G applied down each kernel column
    for (int l = 0; l < 3; ++l) {
      const T k0 = k[l], k1 = k[3 + l], k2 = k[6 + l];
      r[0][l] = k0;
      r[1][l] = T(0.5) * (k0 + k1 + k2);
      r[2][l] = T(0.5) * (k0 - k1 + k2);
      r[3][l] = k2;
    }
    for (int p = 0; p < 4; ++p) {  // and along each row
      U[(4 * p + 0) * OC + oc] = r[p][0];
      U[(4 * p + 1) * OC + oc] = T(0.5) * (r[p][0] + r[p][1] + r[p][2]);
      U[(4 * p + 2) * OC + oc] = T(0.5) * (r[p][0] - r[p][1] + r[p][2]);
      U[(4 * p + 3) * OC + oc] = r[p][2];
    }
  }
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
// 16 (o, c) pairs at a time, their 9 weights gathered (stride 9).
template <>
void weight_transform<float>(const float* w, const ConvGeom& g, float* U) {
  const int64_t OC = g.o * g.c;
  const __m512i stride9 = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(9));
  const __m512 half = _mm512_set1_ps(0.5f);
  for (int64_t oc = 0; oc < OC; oc += 16) {
    const __mmask16 m = lanes(OC - oc);
    __m512 k[9];
    for (int i = 0; i < 9; ++i) k[i] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, stride9, w + oc * 9 + i, 4);
    __m512 r[4][3];
    for (int l = 0; l < 3; ++l) {
      r[0][l] = k[l];
      r[1][l] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(k[l], k[3 + l]), k[6 + l]));
      r[2][l] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(k[l], k[3 + l]), k[6 + l]));
      r[3][l] = k[6 + l];
    }
    for (int p = 0; p < 4; ++p) {
      _mm512_mask_storeu_ps(U + (4 * p + 0) * OC + oc, m, r[p][0]);
      _mm512_mask_storeu_ps(U + (4 * p + 1) * OC + oc, m,
                            _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(r[p][0], r[p][1]), r[p][2])));
      _mm512_mask_storeu_ps(U + (4 * p + 2) * OC + oc, m,
                            _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(r[p][0], r[p][1]), r[p][2])));
      _mm512_mask_storeu_ps(U + (4 * p + 3) * OC + oc, m, r[p][2]);
    }
  }
}
#endif

// The adjoint of weight_transform: gw[o][c] = G^T dU[.][o][c] G.
template <class T>
void weight_transform_adjoint(const T* dU, const ConvGeom& g, T* gw) {
  const int64_t OC = g.o * g.c;
  for (int64_t oc = 0; oc < OC; ++oc) {
    T r[4][3];  // G^T applied along each row of dU
    for (int p = 0; p < 4; ++p) {
      const T u0 = dU[(4 * p) * OC + oc], u1 = dU[(4 * p + 1) * OC + oc];
      const T u2 = dU[(4 * p + 2) * OC + oc], u3 = dU[(4 * p + 3) * OC + oc];
      r[p][0] = u0 + T(0.5) * (u1 + u2);
      r[p][1] = T(0.5) * (u1 - u2);
      r[p][2] = T(0.5) * (u1 + u2) + u3;
    }
    T* k = gw + oc * 9;
    for (int l = 0; l < 3; ++l) {  // and down each column
      k[l] = r[0][l] + T(0.5) * (r[1][l] + r[2][l]);
      k[3 + l] = T(0.5) * (r[1][l] - r[2][l]);
      k[6 + l] = T(0.5) * (r[1][l] + r[2][l]) + r[3][l];
    }
  }
}

// One sample's outputs from M[xi][o][col0 + t]: Y = A^T M A per tile, + bias, ReLU, and the
// 2x2 max with its tap (0 1 / 2 3; the first of equal values), into out / taps (o pooled planes).
template <class T>
void output_transform(const T* M, int64_t ld, const ConvGeom& g, const Tiles& tl, const T* b, T* out,
                      uint8_t* taps) {
  const int64_t tp = tl.tp, pstride = g.o * ld;
  for (int64_t o = 0; o < g.o; ++o) {
    m_to_pool(M + o * ld, pstride, tp, b ? b[o] : T(0), out + o * tp, taps + o * tp);
  }
}

// One sample's dM[xi][o][col0 + t] = A dY A^T, dY the tile's 2x2 gradient: gout at the tap where
// the pooled value is > 0, else nothing.  Adds the gradient's per-channel sums to bsum.
template <class T>
void output_transform_adjoint(const T* gout, const T* pooled, const uint8_t* taps, const ConvGeom& g,
                              const Tiles& tl, T* dM, int64_t ld, double* bsum) {
  const int64_t tp = tl.tp, pstride = g.o * ld;
  for (int64_t o = 0; o < g.o; ++o) {
    const double sum = pool_to_dm(gout + o * tp, pooled + o * tp, taps + o * tp, tp, dM + o * ld, pstride);
    if (bsum) bsum[o] += sum;
  }
}

// One sample's whole outputs from M[xi][o][col0 + t]: Y = A^T M A per tile, + bias, then the ReLU
// when relu, into y (o planes of oh x ow); a tile's outputs past the last row or column are
// dropped.  quad: scratch of 4 tp.
template <class T>
void output_transform_whole(const T* M, int64_t ld, const ConvGeom& g, const Tiles& tl, const T* b, bool relu,
                            T* quad, T* y) {
  const int64_t tp = tl.tp, pstride = g.o * ld;
  for (int64_t o = 0; o < g.o; ++o) {
    m_to_quad(M + o * ld, pstride, tp, b ? b[o] : T(0), relu, quad);
    pool_tiles::quad_to_plane(quad, tl, g, y + o * g.oh * g.ow);
  }
}

// One sample's dM[xi][o][col0 + t] = A dY A^T from the whole output gradient gy (o planes),
// masked by relu_out > 0 where relu_out is not null; 0 for outputs past the last row or column.
// Adds the masked gradient's per-channel sums to bsum.  quad: scratch of 4 tp.
template <class T>
void output_transform_whole_adjoint(const T* gy, const T* relu_out, const ConvGeom& g, const Tiles& tl, T* quad,
                                    T* dM, int64_t ld, double* bsum) {
  const int64_t tp = tl.tp, pstride = g.o * ld;
  for (int64_t o = 0; o < g.o; ++o) {
    const T* mask = relu_out ? relu_out + o * g.oh * g.ow : nullptr;
    const double sum = pool_tiles::plane_to_quad(gy + o * g.oh * g.ow, mask, tl, g, quad);
    quad_to_dm(quad, tp, dM + o * ld, pstride);
    if (bsum) bsum[o] += sum;
  }
}

template <class T>
Tensor scratch(int64_t n) {
  return empty({n}, {.dtype = dtype_v<T>});
}

}  // namespace

bool supports(const ConvGeom& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1 &&
         g.oh >= 2 && g.ow >= 2 && g.ph >= 0 && g.pw >= 0;
}

bool applies(const ConvGeom& g) { return supports(g) && g.c >= kMinChannels; }

namespace {

// The forward's frame: U from w, then per chunk of samples V, the 16 GEMMs and emit(M + col0, ld,
// n, scratch) per sample, which writes that sample's outputs.  keep: see relu_pool_forward.
template <class T, class Emit>
void forward_chunks(const T* x, const T* w, const ConvGeom& g, const Tiles& tl, T* keep, Emit&& emit) {
  const pool_tiles::NarrowFor<T> nr(g, tl);
  const int64_t O = g.o, C = g.c, HW = g.h * g.w, S = samples_per_chunk(tl, g.n);
  Tensor ut = scratch<T>(16 * O * C);
  T* U = ut.data_ptr<T>();
  weight_transform(w, g, U);
  const int64_t chunks = (g.n + S - 1) / S;
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    const int64_t cols = S * tl.tp;
    Tensor buf = scratch<T>(16 * (C + O) * cols + tl.rows * tl.cols + 16 * tl.tp);
    T* V = buf.data_ptr<T>();
    T* M = V + 16 * C * cols;
    T* pad = M + 16 * O * cols;
    T* d = pad + tl.rows * tl.cols;  // also the emitter's scratch (16 tp)
    for (int64_t ch = cb; ch < ce; ++ch) {
      const int64_t n0 = ch * S, n1 = std::min(g.n, n0 + S), ld = (n1 - n0) * tl.tp;
      if (keep) V = keep + 16 * C * n0 * tl.tp;  // chunk ch's V, kept for the backward
      for (int64_t n = n0; n < n1; ++n) input_transform(x + n * C * HW, g, tl, nr, pad, d, V + (n - n0) * tl.tp, ld);
      for (int64_t xi = 0; xi < 16; ++xi)
        gemm<T>(false, false, O, ld, C, T(1), U + xi * O * C, C, V + xi * C * ld, ld, T(0), M + xi * O * ld, ld);
      for (int64_t n = n0; n < n1; ++n) emit(M + (n - n0) * tl.tp, ld, n, d);
    }
  });
}

// The backward's frame, over the forward's chunks in a fixed number of blocks (a function of n
// only), each block summing its own dU; the partials are added in block order, so the result does
// not depend on the thread count.  grad(dM + col0, ld, n, bsum, scratch) writes one sample's dM.
template <class T, class Grad>
void backward_chunks(const T* x, const T* w, const ConvGeom& g, const Tiles& tl, T* gx, T* gw, T* gb, const T* kept,
                     Grad&& grad) {
  const pool_tiles::NarrowFor<T> nr(g, tl);
  const int64_t O = g.o, C = g.c, HW = g.h * g.w, S = samples_per_chunk(tl, g.n), un = 16 * O * C;
  if (g.n == 0) {
    std::fill(gw, gw + O * C * 9, T(0));
    if (gb) std::fill(gb, gb + O, T(0));
    return;
  }
  Tensor ut = gx ? scratch<T>(un) : Tensor();
  T* U = gx ? ut.data_ptr<T>() : nullptr;
  if (gx) weight_transform(w, g, U);
  const int64_t chunks = (g.n + S - 1) / S, nblk = std::min<int64_t>(chunks, 8);
  Tensor partial_t = scratch<T>(nblk * un);
  T* partial = partial_t.data_ptr<T>();
  std::vector<double> bias_partial(gb ? nblk * O : 0, 0.0);
  parallel_for(0, nblk, 1, [&](int64_t bb, int64_t be) {
    const int64_t cols = S * tl.tp;
    Tensor buf = scratch<T>(16 * (C + O) * cols + tl.rows * tl.cols + 16 * tl.tp);
    T* V = buf.data_ptr<T>();  // V when not kept, then dV once the weight gradient has used V
    T* dM = V + 16 * C * cols;
    T* pad = dM + 16 * O * cols;
    T* d = pad + tl.rows * tl.cols;
    for (int64_t blk = bb; blk < be; ++blk) {
      T* acc = partial + blk * un;
      double* bsum = gb ? bias_partial.data() + blk * O : nullptr;
      const int64_t c0 = chunks * blk / nblk, c1 = chunks * (blk + 1) / nblk;
      for (int64_t ch = c0; ch < c1; ++ch) {
        const int64_t n0 = ch * S, n1 = std::min(g.n, n0 + S), ld = (n1 - n0) * tl.tp;
        const T* Vin = kept ? kept + 16 * C * n0 * tl.tp : V;
        for (int64_t n = n0; n < n1; ++n) {
          grad(dM + (n - n0) * tl.tp, ld, n, bsum, d);
          if (!kept) input_transform(x + n * C * HW, g, tl, nr, pad, d, V + (n - n0) * tl.tp, ld);
        }
        const T beta = ch == c0 ? T(0) : T(1);
        for (int64_t xi = 0; xi < 16; ++xi)
          gemm<T>(false, true, O, C, ld, T(1), dM + xi * O * ld, ld, Vin + xi * C * ld, ld, beta, acc + xi * O * C, C);
        if (!gx) continue;
        for (int64_t xi = 0; xi < 16; ++xi)
          gemm<T>(true, false, C, ld, O, T(1), U + xi * O * C, C, dM + xi * O * ld, ld, T(0), V + xi * C * ld, ld);
        for (int64_t n = n0; n < n1; ++n)
          input_transform_adjoint(V + (n - n0) * tl.tp, g, tl, nr, pad, d, ld, gx + n * C * HW);
      }
    }
  });
  for (int64_t blk = 1; blk < nblk; ++blk) {
    const T* p = partial + blk * un;
    for (int64_t i = 0; i < un; ++i) partial[i] += p[i];
  }
  weight_transform_adjoint(partial, g, gw);
  if (gb)
    for (int64_t o = 0; o < O; ++o) {
      double sum = 0;
      for (int64_t blk = 0; blk < nblk; ++blk) sum += bias_partial[blk * O + o];
      gb[o] = static_cast<T>(sum);
    }
}

}  // namespace

template <class T>
void relu_pool_forward(const T* x, const T* w, const T* b, const ConvGeom& g, T* out, uint8_t* taps, T* keep) {
  const Tiles tl(g);
  forward_chunks(x, w, g, tl, keep, [&](const T* M, int64_t ld, int64_t n, T*) {
    output_transform(M, ld, g, tl, b, out + n * g.o * tl.tp, taps + n * g.o * tl.tp);
  });
}

template <class T>
void relu_pool_backward(const T* gout, const T* pooled, const uint8_t* taps, const T* x, const T* w,
                        const ConvGeom& g, T* gx, T* gw, T* gb, const T* kept) {
  const Tiles tl(g);
  backward_chunks(x, w, g, tl, gx, gw, gb, kept, [&](T* dM, int64_t ld, int64_t n, double* bsum, T*) {
    const int64_t at = n * g.o * tl.tp;
    output_transform_adjoint(gout + at, pooled + at, taps + at, g, tl, dM, ld, bsum);
  });
}

template <class T>
void conv_forward(const T* x, const T* w, const T* b, const ConvGeom& g, bool relu, T* y) {
  const Tiles tl(g, true);
  forward_chunks(x, w, g, tl, static_cast<T*>(nullptr), [&](const T* M, int64_t ld, int64_t n, T* quad) {
    output_transform_whole(M, ld, g, tl, b, relu, quad, y + n * g.o * g.oh * g.ow);
  });
}

template <class T>
void conv_backward(const T* gy, const T* relu_out, const T* x, const T* w, const ConvGeom& g, T* gx, T* gw, T* gb) {
  const Tiles tl(g, true);
  const int64_t P = g.o * g.oh * g.ow;
  backward_chunks(x, w, g, tl, gx, gw, gb, static_cast<const T*>(nullptr),
                  [&](T* dM, int64_t ld, int64_t n, double* bsum, T* quad) {
                    output_transform_whole_adjoint(gy + n * P, relu_out ? relu_out + n * P : nullptr, g, tl, quad, dM,
                                                   ld, bsum);
                  });
}

int64_t kept_size(const ConvGeom& g) { return 16 * g.c * g.n * Tiles(g).tp; }

template void relu_pool_forward<float>(const float*, const float*, const float*, const ConvGeom&, float*, uint8_t*,
                                       float*);
template void relu_pool_forward<double>(const double*, const double*, const double*, const ConvGeom&, double*,
                                        uint8_t*, double*);
template void relu_pool_backward<float>(const float*, const float*, const uint8_t*, const float*, const float*,
                                        const ConvGeom&, float*, float*, float*, const float*);
template void relu_pool_backward<double>(const double*, const double*, const uint8_t*, const double*, const double*,
                                         const ConvGeom&, double*, double*, double*, const double*);
template void conv_forward<float>(const float*, const float*, const float*, const ConvGeom&, bool, float*);
template void conv_forward<double>(const double*, const double*, const double*, const ConvGeom&, bool, double*);
template void conv_backward<float>(const float*, const float*, const float*, const float*, const ConvGeom&, float*,
                                   float*, float*);
template void conv_backward<double>(const double*, const double*, const double*, const double*, const ConvGeom&,
                                    double*, double*, double*);

}  // namespace koan::kernels::winograd
