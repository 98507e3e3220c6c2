// The pointwise math of one batch row of a recurrent cell, over hidden units [0, n): shared by the
// per-step cell kernel (rnn.cpp, n = H) and the whole-sequence kernel (rnn_sequence.cpp, one
// panel of units at a time), so both compute every unit with the same expressions.
//
// Every pointer is already offset to the row's first unit.  Gate k of unit j sits at [k * H + j]
// in the input projection xi, the biases, the workspace w and the gate gradients, and at
// [k * sh + j] in the hidden projection xh (sh = H for a full row, the panel width for a panel).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "koan/kernels/cpu/vecmath.h"
#include "koan/kernels/rnn.h"

namespace koan::kernels::rnn_row {

template <class T>
inline T sigm(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// Units are processed in blocks of this many: the pre-activations are summed into a local array
// first, so the loop with the transcendental functions reads and writes only unaliased
// (restrict) pointers and local arrays, and GCC vectorises it (libmvec's expf / tanhf, 16 lanes).
// With branches on optional biases or a dozen possibly aliasing pointers in it, it stayed scalar.
constexpr int64_t kBlock = 64;

// pre[k][0..m) = xi[k * H + j] + xh[k * sh + j] (+ bi[k * H + j]) (+ bh[k * H + j]), in that order.
template <class T>
inline void preactivations(int64_t gates, int64_t m, int64_t H, const T* xi, const T* xh, int64_t sh,
                           const T* bi, const T* bh, T (*pre)[kBlock]) {
  for (int64_t k = 0; k < gates; ++k) {
    T* __restrict p = pre[k];
    for (int64_t j = 0; j < m; ++j) p[j] = xi[k * H + j] + xh[k * sh + j];
    if (bi)
      for (int64_t j = 0; j < m; ++j) p[j] += bi[k * H + j];
    if (bh)
      for (int64_t j = 0; j < m; ++j) p[j] += bh[k * H + j];
  }
}

// The gate math on a block of m units, from the pre-activations p0.. (local arrays), on restrict
// pointers only: GCC vectorises these loops where it did not when they sat in forward() below.
template <class T>
inline void lstm_gates(int64_t m, int64_t H, const T* __restrict p0, const T* __restrict p1, const T* __restrict p2,
                       const T* __restrict p3, const T* __restrict c, T* __restrict cn, T* __restrict hn,
                       T* __restrict w) {
  for (int64_t j = 0; j < m; ++j) {
    T i = sigm(p0[j]), f = sigm(p1[j]), g = std::tanh(p2[j]), o = sigm(p3[j]);
    T cy = f * c[j] + i * g;
    T tc = std::tanh(cy);
    cn[j] = cy;
    hn[j] = o * tc;
    w[j] = i;
    w[H + j] = f;
    w[2 * H + j] = g;
    w[3 * H + j] = o;
    w[4 * H + j] = tc;
  }
}

// GRU: p0, p1 the r and z pre-activations, p2 = W_hn h + b_hn, p3 = W_in x + b_in.
template <class T>
inline void gru_gates(int64_t m, int64_t H, const T* __restrict p0, const T* __restrict p1, const T* __restrict p2,
                      const T* __restrict p3, const T* __restrict h, T* __restrict hn, T* __restrict w) {
  for (int64_t j = 0; j < m; ++j) {
    T r = sigm(p0[j]), z = sigm(p1[j]);
    T hn_lin = p2[j];
    T nn = std::tanh(p3[j] + r * hn_lin);
    hn[j] = (T(1) - z) * nn + z * h[j];
    w[j] = r;
    w[H + j] = z;
    w[2 * H + j] = nn;
    w[3 * H + j] = hn_lin;
  }
}

template <class T>
inline void tanh_gate(int64_t m, const T* __restrict p, T* __restrict hn, T* __restrict w) {
  for (int64_t j = 0; j < m; ++j) hn[j] = w[j] = std::tanh(p[j]);
}

// bi, bh may be null (no bias); h (GRU) and c, cn (LSTM) are read / written only by those kinds.
template <class T>
inline void forward(CellKind kind, int64_t n, int64_t H, const T* xi, const T* xh, int64_t sh, const T* bi,
                    const T* bh, const T* h, const T* c, T* hn, T* cn, T* w) {
  alignas(64) T pre[4][kBlock];
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t m = std::min(kBlock, n - j0);
    T* __restrict o = hn + j0;
    T* __restrict ws = w + j0;
    switch (kind) {
      case CellKind::RnnTanh:
      case CellKind::RnnRelu:
        preactivations<T>(1, m, H, xi + j0, xh + j0, sh, bi ? bi + j0 : nullptr, bh ? bh + j0 : nullptr, pre);
        if (kind == CellKind::RnnTanh)
          tanh_gate<T>(m, pre[0], o, ws);
        else
          for (int64_t j = 0; j < m; ++j) o[j] = ws[j] = pre[0][j] > T(0) ? pre[0][j] : T(0);
        break;
      case CellKind::Lstm: {
        preactivations<T>(4, m, H, xi + j0, xh + j0, sh, bi ? bi + j0 : nullptr, bh ? bh + j0 : nullptr, pre);
        lstm_gates<T>(m, H, pre[0], pre[1], pre[2], pre[3], c + j0, cn + j0, o, ws);
        break;
      }
      case CellKind::Gru: {
        // r and z as usual; the n gate's input and hidden parts stay apart (n = tanh(x_n + r (W_hn h + b_hn))).
        const T* __restrict xn = xi + 2 * H + j0;
        const T* __restrict hl_in = xh + 2 * sh + j0;
        preactivations<T>(2, m, H, xi + j0, xh + j0, sh, bi ? bi + j0 : nullptr, bh ? bh + j0 : nullptr, pre);
        for (int64_t j = 0; j < m; ++j) {
          pre[2][j] = hl_in[j] + (bh ? bh[2 * H + j0 + j] : T(0));
          pre[3][j] = xn[j] + (bi ? bi[2 * H + j0 + j] : T(0));
        }
        gru_gates<T>(m, H, pre[0], pre[1], pre[2], pre[3], h + j0, o, ws);
        break;
      }
    }
  }
}

// gy: the gradient of h' (n units); gc (LSTM, may be null = zero): of c'.  Writes di (every kind),
// dhh (GRU), dcb (LSTM, may be null) and dd (GRU, may be null).
template <class T>
inline void backward(CellKind kind, int64_t n, int64_t H, const T* __restrict gy, const T* __restrict gc,
                     const T* __restrict w, const T* __restrict c, const T* __restrict h, T* __restrict di,
                     T* __restrict dhh, T* __restrict dcb, T* __restrict dd) {
  switch (kind) {
    case CellKind::RnnTanh:
      for (int64_t j = 0; j < n; ++j) di[j] = gy[j] * (T(1) - w[j] * w[j]);
      break;
    case CellKind::RnnRelu:
      for (int64_t j = 0; j < n; ++j) di[j] = w[j] > T(0) ? gy[j] : T(0);
      break;
    case CellKind::Lstm: {
      alignas(64) T dct[kBlock];
      for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
        const int64_t m = std::min(kBlock, n - j0);
        const T* __restrict wb = w + j0;
        const T* __restrict y = gy + j0;
        for (int64_t j = 0; j < m; ++j) {
          T o = wb[3 * H + j], tc = wb[4 * H + j];
          dct[j] = y[j] * o * (T(1) - tc * tc);
        }
        if (gc)
          for (int64_t j = 0; j < m; ++j) dct[j] = gc[j0 + j] + dct[j];
        T* __restrict d = di + j0;
        const T* __restrict cp = c + j0;
        for (int64_t j = 0; j < m; ++j) {
          T i = wb[j], f = wb[H + j], g = wb[2 * H + j], o = wb[3 * H + j], tc = wb[4 * H + j];
          d[j] = dct[j] * g * i * (T(1) - i);
          d[H + j] = dct[j] * cp[j] * f * (T(1) - f);
          d[2 * H + j] = dct[j] * i * (T(1) - g * g);
          d[3 * H + j] = y[j] * tc * o * (T(1) - o);
        }
        if (dcb)
          for (int64_t j = 0; j < m; ++j) dcb[j0 + j] = dct[j] * wb[H + j];
      }
      break;
    }
    case CellKind::Gru:
      for (int64_t j = 0; j < n; ++j) {
        T r = w[j], z = w[H + j], nn = w[2 * H + j], hl = w[3 * H + j];
        T dn = gy[j] * (T(1) - z) * (T(1) - nn * nn);
        T dz = gy[j] * (h[j] - nn) * z * (T(1) - z);
        T dr = dn * hl * r * (T(1) - r);
        di[j] = dr;
        di[H + j] = dz;
        di[2 * H + j] = dn;
        dhh[j] = dr;
        dhh[H + j] = dz;
        dhh[2 * H + j] = dn * r;
      }
      if (dd)
        for (int64_t j = 0; j < n; ++j) dd[j] = gy[j] * w[H + j];
      break;
  }
}

}  // namespace koan::kernels::rnn_row
