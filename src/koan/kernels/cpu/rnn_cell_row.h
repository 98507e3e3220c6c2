// The pointwise math of one batch row of a recurrent cell, over hidden units [0, n): shared by the
// per-step cell kernel (rnn.cpp, n = H) and the whole-sequence kernel (rnn_sequence.cpp, one
// panel of units at a time), so both compute every unit with the same expressions.
//
// Every pointer is already offset to the row's first unit.  Gate k of unit j sits at [k * H + j]
// in the input projection xi, the biases, the workspace w and the gate gradients, and at
// [k * sh + j] in the hidden projection xh (sh = H for a full row, the panel width for a panel).
#pragma once
#include <cmath>
#include <cstdint>

#include "koan/kernels/cpu/vecmath.h"
#include "koan/kernels/rnn.h"

namespace koan::kernels::rnn_row {

template <class T>
inline T sigm(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// bi, bh may be null (no bias); h (GRU) and c, cn (LSTM) are read / written only by those kinds.
template <class T>
inline void forward(CellKind kind, int64_t n, int64_t H, const T* xi, const T* xh, int64_t sh, const T* bi,
                    const T* bh, const T* h, const T* c, T* hn, T* cn, T* w) {
  auto bias = [](const T* b, int64_t q) { return b ? b[q] : T(0); };
  switch (kind) {
    case CellKind::RnnTanh:
    case CellKind::RnnRelu:
      for (int64_t j = 0; j < n; ++j) {
        T p = xi[j] + xh[j] + bias(bi, j) + bias(bh, j);
        T y = kind == CellKind::RnnTanh ? std::tanh(p) : (p > T(0) ? p : T(0));
        hn[j] = y;
        w[j] = y;
      }
      break;
    case CellKind::Lstm:
      for (int64_t j = 0; j < n; ++j) {
        auto pre = [&](int64_t k) {
          return xi[k * H + j] + xh[k * sh + j] + bias(bi, k * H + j) + bias(bh, k * H + j);
        };
        T i = sigm(pre(0)), f = sigm(pre(1)), g = std::tanh(pre(2)), o = sigm(pre(3));
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
      break;
    case CellKind::Gru:
      for (int64_t j = 0; j < n; ++j) {
        T r = sigm(xi[j] + xh[j] + bias(bi, j) + bias(bh, j));
        T z = sigm(xi[H + j] + xh[sh + j] + bias(bi, H + j) + bias(bh, H + j));
        T hn_lin = xh[2 * sh + j] + bias(bh, 2 * H + j);
        T nn = std::tanh(xi[2 * H + j] + bias(bi, 2 * H + j) + r * hn_lin);
        hn[j] = (T(1) - z) * nn + z * h[j];
        w[j] = r;
        w[H + j] = z;
        w[2 * H + j] = nn;
        w[3 * H + j] = hn_lin;
      }
      break;
  }
}

// gy: the gradient of h' (n units); gc (LSTM, may be null = zero): of c'.  Writes di (every kind),
// dhh (GRU), dcb (LSTM, may be null) and dd (GRU, may be null).
template <class T>
inline void backward(CellKind kind, int64_t n, int64_t H, const T* gy, const T* gc, const T* w, const T* c,
                     const T* h, T* di, T* dhh, T* dcb, T* dd) {
  switch (kind) {
    case CellKind::RnnTanh:
      for (int64_t j = 0; j < n; ++j) di[j] = gy[j] * (T(1) - w[j] * w[j]);
      break;
    case CellKind::RnnRelu:
      for (int64_t j = 0; j < n; ++j) di[j] = w[j] > T(0) ? gy[j] : T(0);
      break;
    case CellKind::Lstm:
      for (int64_t j = 0; j < n; ++j) {
        T i = w[j], f = w[H + j], g = w[2 * H + j], o = w[3 * H + j], tc = w[4 * H + j];
        T dct = (gc ? gc[j] : T(0)) + gy[j] * o * (T(1) - tc * tc);
        di[j] = dct * g * i * (T(1) - i);
        di[H + j] = dct * c[j] * f * (T(1) - f);
        di[2 * H + j] = dct * i * (T(1) - g * g);
        di[3 * H + j] = gy[j] * tc * o * (T(1) - o);
        if (dcb) dcb[j] = dct * f;
      }
      break;
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
        if (dd) dd[j] = gy[j] * z;
      }
      break;
  }
}

}  // namespace koan::kernels::rnn_row
