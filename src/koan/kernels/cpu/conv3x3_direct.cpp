// Direct 3x3 convolution + ReLU + 2x2 max pooling over 2x2 output tiles (see conv3x3_direct.h).
// Per sample, each input channel's 4x4 patches are gathered once (pool_tiles.h), then every
// output channel runs over them.  The per-tile loops are written twice: plainly for any type,
// and with AVX-512 for float32, 16 tiles to a vector (GCC does not vectorise the tap selects).
#include "koan/kernels/cpu/conv3x3_direct.h"

#include <immintrin.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/pool_tiles.h"
#include "koan/tensor/tensor.h"

namespace koan::kernels::direct3x3 {
namespace {
using pool_tiles::Tiles;

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
constexpr bool kVector = true;
#else
constexpr bool kVector = false;
#endif
// Lanes of the weight-gradient accumulators: partial sums per vector lane, added up once per
// block of samples.
template <class T>
constexpr int64_t kAccLanes = std::is_same_v<T, float> && kVector ? 16 : 1;

// Tile t's four outputs of one output channel, before bias: wo is that channel's C x 3 x 3.
template <class T>
void tile_y(const T* d, int64_t tp, int64_t C, const T* wo, int64_t t, T y[4]) {
  const int64_t cs = 16 * tp;
  y[0] = y[1] = y[2] = y[3] = T(0);
  for (int64_t c = 0; c < C; ++c) {
    const T* dc = d + c * cs + t;
    const T* wc = wo + c * 9;
    for (int k = 0; k < 3; ++k)
      for (int l = 0; l < 3; ++l) {
        const T wv = wc[3 * k + l];
        y[0] += wv * dc[(4 * k + l) * tp];
        y[1] += wv * dc[(4 * k + l + 1) * tp];
        y[2] += wv * dc[(4 * k + 4 + l) * tp];
        y[3] += wv * dc[(4 * k + 5 + l) * tp];
      }
  }
}

// One sample's tiles for every output channel: y = conv + b[o] per tile (d: C channels of
// patches, w: O x C x 3 x 3), then ReLU and the pool into out / taps (O pooled planes of tp).
template <class T>
void tiles_forward(const T* d, int64_t tp, int64_t C, int64_t O, const T* w, const T* b, T* out, uint8_t* taps) {
  for (int64_t o = 0; o < O; ++o)
    for (int64_t t = 0; t < tp; ++t) {
      T y[4];
      tile_y(d, tp, C, w + o * C * 9, t, y);
      for (T& v : y) v += b ? b[o] : T(0);
      pool_tiles::relu_pool4(y, out[o * tp + t], taps[o * tp + t]);
    }
}

// The same without the pool, for the plain convolution's whole-output tiles: quad[o] (4 tp each,
// output (a, b) of tile t at (2 a + b) tp + t) = conv + b[o], then the ReLU when relu.
template <class T>
void tiles_forward_whole(const T* d, int64_t tp, int64_t C, int64_t o, int64_t no, const T* w, const T* b, bool relu,
                         T* quad) {
  for (int64_t u = 0; u < no; ++u)
    for (int64_t t = 0; t < tp; ++t) {
      T y[4];
      tile_y(d, tp, C, w + (o + u) * C * 9, t, y);
      for (int i = 0; i < 4; ++i) {
        const T v = y[i] + (b ? b[o + u] : T(0));
        quad[(4 * u + i) * tp + t] = relu && !(v > T(0)) ? T(0) : v;
      }
    }
}

// One output channel's weight gradient from one sample: acc[c][k][l] += the tile gradient times
// the patch value under its tap, (k + tap row, l + tap column).  Returns the sum of the tile
// gradients (the bias's share).
template <class T>
double tiles_weight_grad(const T* go, const T* po, const uint8_t* pt, const T* d, int64_t tp, int64_t C, T* acc) {
  const int64_t cs = 16 * tp;
  double sum = 0;
  for (int64_t t = 0; t < tp; ++t) {
    const T gv = po[t] > T(0) ? go[t] : T(0);
    if (gv == T(0)) continue;
    sum += static_cast<double>(gv);
    const int a = pt[t] >> 1, b = pt[t] & 1;
    for (int64_t c = 0; c < C; ++c)
      for (int k = 0; k < 3; ++k)
        for (int l = 0; l < 3; ++l) acc[c * 9 + 3 * k + l] += gv * d[c * cs + ((k + a) * 4 + l + b) * tp + t];
  }
  return sum;
}

// Input channel c's patch gradients from one sample: dd[(4 u + v) tp + t] = the sum over output
// channels of the tile gradient times w[o][c][u - tap row][v - tap column] (0 outside the kernel).
template <class T>
void tiles_input_grad(const T* gout, const T* pooled, const uint8_t* taps, const T* w, int64_t O, int64_t C,
                      int64_t c, int64_t tp, T* dd) {
  std::fill(dd, dd + 16 * tp, T(0));
  for (int64_t o = 0; o < O; ++o) {
    const T* wc = w + (o * C + c) * 9;
    for (int64_t t = 0; t < tp; ++t) {
      const int64_t at = o * tp + t;
      const T gv = pooled[at] > T(0) ? gout[at] : T(0);
      if (gv == T(0)) continue;
      const int a = taps[at] >> 1, b = taps[at] & 1;
      for (int k = 0; k < 3; ++k)
        for (int l = 0; l < 3; ++l) dd[((k + a) * 4 + l + b) * tp + t] += gv * wc[3 * k + l];
    }
  }
}

// The plain convolution's weight gradient from one output channel of one sample: every output of a
// tile has its gradient (gq: 4 tp, as quad), so acc[c][k][l] += the sum over the tile's outputs
// (a, b) of their gradient times the patch value at (k + a, l + b).
template <class T>
void quad_weight_grad(const T* gq, const T* d, int64_t tp, int64_t C, T* acc) {
  const int64_t cs = 16 * tp;
  for (int64_t t = 0; t < tp; ++t) {
    const T g0 = gq[t], g1 = gq[tp + t], g2 = gq[2 * tp + t], g3 = gq[3 * tp + t];
    if (g0 == T(0) && g1 == T(0) && g2 == T(0) && g3 == T(0)) continue;
    for (int64_t c = 0; c < C; ++c) {
      const T* dc = d + c * cs + t;
      for (int k = 0; k < 3; ++k)
        for (int l = 0; l < 3; ++l)
          acc[c * 9 + 3 * k + l] += g0 * dc[(4 * k + l) * tp] + g1 * dc[(4 * k + l + 1) * tp] +
                                    g2 * dc[(4 * k + 4 + l) * tp] + g3 * dc[(4 * k + 5 + l) * tp];
    }
  }
}

// Input channel c's patch gradients from one sample's dense tile gradients (gq: O quads):
// dd[(4 u + v) tp + t] = the sum over output channels and tile outputs (a, b) of their gradient
// times w[o][c][u - a][v - b] (0 outside the kernel).
template <class T>
void quad_input_grad(const T* gq, const T* w, int64_t O, int64_t C, int64_t c, int64_t tp, T* dd) {
  std::fill(dd, dd + 16 * tp, T(0));
  for (int64_t o = 0; o < O; ++o) {
    const T* wc = w + (o * C + c) * 9;
    const T* go = gq + o * 4 * tp;
    for (int64_t t = 0; t < tp; ++t)
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          const T gv = go[(2 * a + b) * tp + t];
          if (gv == T(0)) continue;
          for (int k = 0; k < 3; ++k)
            for (int l = 0; l < 3; ++l) dd[((k + a) * 4 + l + b) * tp + t] += gv * wc[3 * k + l];
        }
  }
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
using pool_tiles::lanes;

// Two output channels at a time: 8 independent chains of multiply-adds instead of 4 (each is
// 9 C long, and a chain of dependent multiply-adds waits 4 cycles per step), and each patch
// vector loaded once for both.  emit(u, y, t, m) takes output channel o + u's four outputs of
// tiles [t, t + 16) (lanes m), before bias.
template <int NO, class Emit>
void tiles_block(const float* d, int64_t tp, int64_t C, const float* w, int64_t o, Emit&& emit) {
  const int64_t cs = 16 * tp;
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 m = lanes(tp - t);
    __m512 y[NO][4];
    for (auto& yo : y)
      for (__m512& v : yo) v = _mm512_setzero_ps();
    for (int64_t c = 0; c < C; ++c) {
      __m512 p[16];
      for (int i = 0; i < 16; ++i) p[i] = _mm512_maskz_loadu_ps(m, d + c * cs + i * tp + t);
      for (int u = 0; u < NO; ++u) {
        const float* wc = w + ((o + u) * C + c) * 9;
        for (int k = 0; k < 3; ++k)
          for (int l = 0; l < 3; ++l) {
            const __m512 wv = _mm512_set1_ps(wc[3 * k + l]);
            y[u][0] = _mm512_fmadd_ps(wv, p[4 * k + l], y[u][0]);
            y[u][1] = _mm512_fmadd_ps(wv, p[4 * k + l + 1], y[u][1]);
            y[u][2] = _mm512_fmadd_ps(wv, p[4 * k + 4 + l], y[u][2]);
            y[u][3] = _mm512_fmadd_ps(wv, p[4 * k + 5 + l], y[u][3]);
          }
      }
    }
    for (int u = 0; u < NO; ++u) emit(u, y[u], t, m);
  }
}

template <>
void tiles_forward<float>(const float* d, int64_t tp, int64_t C, int64_t O, const float* w, const float* b, float* out,
                          uint8_t* taps) {
  auto pool = [&](int64_t o) {
    return [&, o](int u, __m512* y, int64_t t, __mmask16 m) {
      const __m512 bias = _mm512_set1_ps(b ? b[o + u] : 0.f);
      for (int i = 0; i < 4; ++i) y[i] = _mm512_add_ps(y[i], bias);
      pool_tiles::relu_pool4(y, m, out + (o + u) * tp + t, taps + (o + u) * tp + t);
    };
  };
  int64_t o = 0;
  for (; o + 2 <= O; o += 2) tiles_block<2>(d, tp, C, w, o, pool(o));
  if (o < O) tiles_block<1>(d, tp, C, w, o, pool(o));
}

template <>
void tiles_forward_whole<float>(const float* d, int64_t tp, int64_t C, int64_t o, int64_t no, const float* w,
                                const float* b, bool relu, float* quad) {
  auto emit = [&](int u, __m512* y, int64_t t, __mmask16 m) {
    const __m512 bias = _mm512_set1_ps(b ? b[o + u] : 0.f), zero = _mm512_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      __m512 v = _mm512_add_ps(y[i], bias);
      if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v);
      _mm512_mask_storeu_ps(quad + (4 * u + i) * tp + t, m, v);
    }
  };
  if (no == 2) tiles_block<2>(d, tp, C, w, o, emit);
  else tiles_block<1>(d, tp, C, w, o, emit);
}

// acc holds 16 lane partials per weight: acc[(c * 9 + kl) * 16 + lane].
template <>
double tiles_weight_grad<float>(const float* go, const float* po, const uint8_t* pt, const float* d, int64_t tp,
                                int64_t C, float* acc) {
  const int64_t cs = 16 * tp;
  pool_tiles::DoubleSum sum;
  for (int64_t c = 0; c < C; ++c) {
    __m512 a[9];
    for (int i = 0; i < 9; ++i) a[i] = _mm512_loadu_ps(acc + (c * 9 + i) * 16);
    for (int64_t t = 0; t < tp; t += 16) {
      const __mmask16 m = lanes(tp - t);
      const pool_tiles::TileGrad tg(go + t, po + t, pt + t, m);
      if (c == 0) sum.add(tg.g);
      __m512 p[16];
      for (int i = 0; i < 16; ++i) p[i] = _mm512_maskz_loadu_ps(m, d + c * cs + i * tp + t);
      for (int k = 0; k < 3; ++k)
        for (int l = 0; l < 3; ++l) {
          const __m512 top = _mm512_mask_blend_ps(tg.col1, p[4 * k + l], p[4 * k + l + 1]);
          const __m512 bottom = _mm512_mask_blend_ps(tg.col1, p[4 * k + 4 + l], p[4 * k + 5 + l]);
          a[3 * k + l] = _mm512_fmadd_ps(tg.g, _mm512_mask_blend_ps(tg.row1, top, bottom), a[3 * k + l]);
        }
    }
    for (int i = 0; i < 9; ++i) _mm512_storeu_ps(acc + (c * 9 + i) * 16, a[i]);
  }
  return sum.total();
}

template <>
void tiles_input_grad<float>(const float* gout, const float* pooled, const uint8_t* taps, const float* w, int64_t O,
                             int64_t C, int64_t c, int64_t tp, float* dd) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 m = lanes(tp - t);
    __m512 acc[16];
    for (__m512& v : acc) v = zero;
    for (int64_t o = 0; o < O; ++o) {
      const pool_tiles::TileGrad tg(gout + o * tp + t, pooled + o * tp + t, taps + o * tp + t, m);
      const float* wc = w + (o * C + c) * 9;
      // The weight at kernel position (k, l), 0 outside the kernel.
      auto W = [&](int k, int l) { return k < 0 || l < 0 || k > 2 || l > 2 ? zero : _mm512_set1_ps(wc[3 * k + l]); };
      for (int u = 0; u < 4; ++u)
        for (int v = 0; v < 4; ++v) {
          const __m512 top = _mm512_mask_blend_ps(tg.col1, W(u, v), W(u, v - 1));
          const __m512 bottom = _mm512_mask_blend_ps(tg.col1, W(u - 1, v), W(u - 1, v - 1));
          acc[4 * u + v] = _mm512_fmadd_ps(tg.g, _mm512_mask_blend_ps(tg.row1, top, bottom), acc[4 * u + v]);
        }
    }
    for (int i = 0; i < 16; ++i) _mm512_mask_storeu_ps(dd + i * tp + t, m, acc[i]);
  }
}

template <>
void quad_weight_grad<float>(const float* gq, const float* d, int64_t tp, int64_t C, float* acc) {
  const int64_t cs = 16 * tp;
  for (int64_t c = 0; c < C; ++c) {
    __m512 a[9];
    for (int i = 0; i < 9; ++i) a[i] = _mm512_loadu_ps(acc + (c * 9 + i) * 16);
    for (int64_t t = 0; t < tp; t += 16) {
      const __mmask16 m = lanes(tp - t);
      __m512 g[4], p[16];
      for (int i = 0; i < 4; ++i) g[i] = _mm512_maskz_loadu_ps(m, gq + i * tp + t);
      for (int i = 0; i < 16; ++i) p[i] = _mm512_maskz_loadu_ps(m, d + c * cs + i * tp + t);
      for (int k = 0; k < 3; ++k)
        for (int l = 0; l < 3; ++l) {
          __m512& s = a[3 * k + l];
          s = _mm512_fmadd_ps(g[0], p[4 * k + l], s);
          s = _mm512_fmadd_ps(g[1], p[4 * k + l + 1], s);
          s = _mm512_fmadd_ps(g[2], p[4 * k + 4 + l], s);
          s = _mm512_fmadd_ps(g[3], p[4 * k + 5 + l], s);
        }
    }
    for (int i = 0; i < 9; ++i) _mm512_storeu_ps(acc + (c * 9 + i) * 16, a[i]);
  }
}

template <>
void quad_input_grad<float>(const float* gq, const float* w, int64_t O, int64_t C, int64_t c, int64_t tp, float* dd) {
  for (int64_t t = 0; t < tp; t += 16) {
    const __mmask16 m = lanes(tp - t);
    __m512 acc[16];
    for (__m512& v : acc) v = _mm512_setzero_ps();
    for (int64_t o = 0; o < O; ++o) {
      const float* go = gq + o * 4 * tp + t;
      const float* wc = w + (o * C + c) * 9;
      __m512 g[4];
      for (int i = 0; i < 4; ++i) g[i] = _mm512_maskz_loadu_ps(m, go + i * tp);
      // Patch position (u, v) takes output (a, b)'s gradient times the weight at (u - a, v - b).
      // Unrolled whole, so acc stays in registers and the kernel-edge tests disappear.
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u)
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v)
#pragma GCC unroll 2
          for (int a = 0; a < 2; ++a)
#pragma GCC unroll 2
            for (int b = 0; b < 2; ++b) {
              const int k = u - a, l = v - b;
              if (k < 0 || l < 0 || k > 2 || l > 2) continue;
              acc[4 * u + v] = _mm512_fmadd_ps(g[2 * a + b], _mm512_set1_ps(wc[3 * k + l]), acc[4 * u + v]);
            }
    }
    for (int i = 0; i < 16; ++i) _mm512_mask_storeu_ps(dd + i * tp + t, m, acc[i]);
  }
}
#pragma GCC diagnostic pop
#endif

template <class T>
Tensor scratch(int64_t n) {
  return empty({n}, {.dtype = dtype_v<T>});
}

// The forward's frame: per sample, every input channel's patches (tiles tl), then
// per_sample(n, d, scratch) writes that sample's outputs.  Samples split across threads.
template <class T, class PerSample>
void forward_samples(const T* x, const ConvGeom& g, const Tiles& tl, int64_t scratch_n, PerSample&& per_sample) {
  const pool_tiles::NarrowFor<T> nr(g, tl);
  const int64_t C = g.c, HW = g.h * g.w, cs = 16 * tl.tp;
  const int64_t per_sample_macs = std::max<int64_t>(1, g.o * C * 36 * tl.tp);
  parallel_for(0, g.n, std::max<int64_t>(1, (int64_t(1) << 17) / per_sample_macs), [&](int64_t nb, int64_t ne) {
    Tensor buf = scratch<T>(C * cs + tl.rows * tl.cols + scratch_n);
    T* d = buf.data_ptr<T>();
    T* pad = d + C * cs;
    T* extra = pad + tl.rows * tl.cols;
    for (int64_t n = nb; n < ne; ++n) {
      for (int64_t c = 0; c < C; ++c) pool_tiles::gather(x + (n * C + c) * HW, g, tl, nr.get(), pad, d + c * cs);
      per_sample(n, d, extra);
    }
  });
}

// The backward's frame: a fixed number of sample blocks (a function of n only), each with its own
// partial weight gradient, added in block order, so the result does not depend on the thread
// count.  Per sample, the patches d are gathered, then sample(n, d, acc, bsum, dd, pad, extra)
// adds to acc (O x C x 9 weights of L lanes each) and bsum (O), and writes gx's planes where gx
// is wanted (dd: one channel's patch gradients, 16 tp).
template <class T, class Sample>
void backward_blocks(const T* x, const ConvGeom& g, const Tiles& tl, T* gw, T* gb, int64_t scratch_n,
                     Sample&& sample) {
  const pool_tiles::NarrowFor<T> nr(g, tl);
  const int64_t C = g.c, O = g.o, HW = g.h * g.w, cs = 16 * tl.tp, wn = O * C * 9, L = kAccLanes<T>;
  if (g.n == 0) {
    std::fill(gw, gw + wn, T(0));
    if (gb) std::fill(gb, gb + O, T(0));
    return;
  }
  const int64_t nblk = std::min<int64_t>(g.n, 8);
  Tensor partial_t = scratch<T>(nblk * wn);
  T* partial = partial_t.data_ptr<T>();
  std::vector<double> bias_partial(nblk * O, 0.0);
  parallel_for(0, nblk, 1, [&](int64_t bb, int64_t be) {
    Tensor buf = scratch<T>(C * cs + tl.rows * tl.cols + cs + wn * L + scratch_n);
    T* d = buf.data_ptr<T>();
    T* pad = d + C * cs;
    T* dd = pad + tl.rows * tl.cols;
    T* acc = dd + cs;
    T* extra = acc + wn * L;
    for (int64_t blk = bb; blk < be; ++blk) {
      std::fill(acc, acc + wn * L, T(0));
      for (int64_t n = g.n * blk / nblk; n < g.n * (blk + 1) / nblk; ++n) {
        for (int64_t c = 0; c < C; ++c) pool_tiles::gather(x + (n * C + c) * HW, g, tl, nr.get(), pad, d + c * cs);
        sample(n, d, acc, bias_partial.data() + blk * O, dd, pad, nr.get(), extra);
      }
      T* p = partial + blk * wn;
      for (int64_t i = 0; i < wn; ++i) {
        T s = T(0);
        for (int64_t l = 0; l < L; ++l) s += acc[i * L + l];
        p[i] = s;
      }
    }
  });
  std::copy(partial, partial + wn, gw);
  for (int64_t blk = 1; blk < nblk; ++blk)
    for (int64_t i = 0; i < wn; ++i) gw[i] += partial[blk * wn + i];
  if (gb)
    for (int64_t o = 0; o < O; ++o) {
      double sum = 0;
      for (int64_t blk = 0; blk < nblk; ++blk) sum += bias_partial[blk * O + o];
      gb[o] = static_cast<T>(sum);
    }
}

}  // namespace

template <class T>
void relu_pool_forward(const T* x, const T* w, const T* b, const ConvGeom& g, T* out, uint8_t* taps) {
  const Tiles tl(g);
  forward_samples(x, g, tl, 0, [&](int64_t n, const T* d, T*) {
    tiles_forward(d, tl.tp, g.c, g.o, w, b, out + n * g.o * tl.tp, taps + n * g.o * tl.tp);
  });
}

template <class T>
void relu_pool_backward(const T* gout, const T* pooled, const uint8_t* taps, const T* x, const T* w,
                        const ConvGeom& g, T* gx, T* gw, T* gb) {
  const Tiles tl(g);
  const int64_t C = g.c, O = g.o, HW = g.h * g.w, tp = tl.tp, L = kAccLanes<T>;
  backward_blocks(x, g, tl, gw, gb, 0,
                  [&](int64_t n, const T* d, T* acc, double* bsum, T* dd, T* pad, const pool_tiles::NarrowRows* nr,
                      T*) {
                    const int64_t at = n * O * tp;
                    for (int64_t o = 0; o < O; ++o) {
                      const int64_t ao = at + o * tp;
                      bsum[o] += tiles_weight_grad(gout + ao, pooled + ao, taps + ao, d, tp, C, acc + o * C * 9 * L);
                    }
                    if (gx)
                      for (int64_t c = 0; c < C; ++c) {
                        tiles_input_grad(gout + at, pooled + at, taps + at, w, O, C, c, tp, dd);
                        pool_tiles::scatter(dd, g, tl, nr, pad, gx + (n * C + c) * HW);
                      }
                  });
}

template <class T>
void conv_forward(const T* x, const T* w, const T* b, const ConvGeom& g, bool relu, T* y) {
  const Tiles tl(g, true);
  const int64_t P = g.oh * g.ow;
  forward_samples(x, g, tl, 8 * tl.tp, [&](int64_t n, const T* d, T* quad) {
    T* yn = y + n * g.o * P;
    for (int64_t o = 0; o < g.o; o += 2) {
      const int64_t no = std::min<int64_t>(2, g.o - o);
      tiles_forward_whole(d, tl.tp, g.c, o, no, w, b, relu, quad);
      for (int64_t u = 0; u < no; ++u) pool_tiles::quad_to_plane(quad + 4 * u * tl.tp, tl, g, yn + (o + u) * P);
    }
  });
}

template <class T>
void conv_backward(const T* gy, const T* relu_out, const T* x, const T* w, const ConvGeom& g, T* gx, T* gw, T* gb) {
  const Tiles tl(g, true);
  const int64_t C = g.c, O = g.o, HW = g.h * g.w, tp = tl.tp, P = g.oh * g.ow, L = kAccLanes<T>;
  backward_blocks(x, g, tl, gw, gb, O * 4 * tp,
                  [&](int64_t n, const T* d, T* acc, double* bsum, T* dd, T* pad, const pool_tiles::NarrowRows* nr,
                      T* gq) {
                    for (int64_t o = 0; o < O; ++o) {
                      const int64_t at = (n * O + o) * P;
                      bsum[o] += pool_tiles::plane_to_quad(gy + at, relu_out ? relu_out + at : nullptr, tl, g,
                                                           gq + o * 4 * tp);
                      quad_weight_grad(gq + o * 4 * tp, d, tp, C, acc + o * C * 9 * L);
                    }
                    if (gx)
                      for (int64_t c = 0; c < C; ++c) {
                        quad_input_grad(gq, w, O, C, c, tp, dd);
                        pool_tiles::scatter(dd, g, tl, nr, pad, gx + (n * C + c) * HW);
                      }
                  });
}

template void relu_pool_forward<float>(const float*, const float*, const float*, const ConvGeom&, float*, uint8_t*);
template void relu_pool_forward<double>(const double*, const double*, const double*, const ConvGeom&, double*,
                                        uint8_t*);
template void relu_pool_backward<float>(const float*, const float*, const uint8_t*, const float*, const float*,
                                        const ConvGeom&, float*, float*, float*);
template void relu_pool_backward<double>(const double*, const double*, const uint8_t*, const double*, const double*,
                                         const ConvGeom&, double*, double*, double*);
template void conv_forward<float>(const float*, const float*, const float*, const ConvGeom&, bool, float*);
template void conv_forward<double>(const double*, const double*, const double*, const ConvGeom&, bool, double*);
template void conv_backward<float>(const float*, const float*, const float*, const float*, const ConvGeom&, float*,
                                   float*, float*);
template void conv_backward<double>(const double*, const double*, const double*, const double*, const ConvGeom&,
                                    double*, double*, double*);

}  // namespace koan::kernels::direct3x3
