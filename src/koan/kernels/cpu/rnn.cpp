#include "koan/kernels/rnn.h"

#include <algorithm>
#include <cmath>
#include "koan/kernels/cpu/vecmath.h"

#include "koan/core/parallel.h"

namespace koan::kernels {
namespace {

template <class T>
inline T sigm(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// Pointers of an optional tensor (null when undefined).
template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
template <class T>
T* opt_mut(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Splits the batch rows across threads; each row is independent, so results do not depend on
// the thread count.
template <class F>
void for_rows(int64_t B, int64_t G, F&& f) {
  parallel_for(0, B, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(G, 1)),
               [&](int64_t b0, int64_t b1) {
                 for (int64_t b = b0; b < b1; ++b) f(b);
               });
}

template <class T>
void forward_typed(CellKind kind, const Tensor& gi_t, const Tensor& gh_t, const Tensor& bi_t,
                   const Tensor& bh_t, const Tensor& h_t, const Tensor& c_t, const Tensor& ho_t,
                   const Tensor& co_t, const Tensor& ws_t) {
  const int64_t B = ho_t.size(0), H = ho_t.size(1), G = cell_gates(kind) * H;
  const int64_t W = cell_workspace(kind) * H;
  const T *gi = gi_t.data_ptr<T>(), *gh = gh_t.data_ptr<T>();
  const T *bi = opt<T>(bi_t), *bh = opt<T>(bh_t), *hp = opt<T>(h_t), *cp = opt<T>(c_t);
  T *ho = ho_t.data_ptr<T>(), *co = opt_mut<T>(co_t), *ws = ws_t.data_ptr<T>();
  auto bias = [&](const T* b, int64_t j) { return b ? b[j] : T(0); };
  for_rows(B, G, [&](int64_t b) {
    const T* xi = gi + b * G;
    const T* xh = gh + b * G;
    T* w = ws + b * W;
    T* hn = ho + b * H;
    switch (kind) {
      case CellKind::RnnTanh:
      case CellKind::RnnRelu:
        for (int64_t j = 0; j < H; ++j) {
          T p = xi[j] + xh[j] + bias(bi, j) + bias(bh, j);
          T y = kind == CellKind::RnnTanh ? std::tanh(p) : (p > T(0) ? p : T(0));
          hn[j] = y;
          w[j] = y;
        }
        break;
      case CellKind::Lstm: {
        const T* c = cp + b * H;
        T* cn = co + b * H;
        for (int64_t j = 0; j < H; ++j) {
          auto pre = [&](int64_t k) { int64_t q = k * H + j; return xi[q] + xh[q] + bias(bi, q) + bias(bh, q); };
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
      }
      case CellKind::Gru: {
        const T* h = hp + b * H;
        for (int64_t j = 0; j < H; ++j) {
          T r = sigm(xi[j] + xh[j] + bias(bi, j) + bias(bh, j));
          T z = sigm(xi[H + j] + xh[H + j] + bias(bi, H + j) + bias(bh, H + j));
          T hn_lin = xh[2 * H + j] + bias(bh, 2 * H + j);
          T n = std::tanh(xi[2 * H + j] + bias(bi, 2 * H + j) + r * hn_lin);
          hn[j] = (T(1) - z) * n + z * h[j];
          w[j] = r;
          w[H + j] = z;
          w[2 * H + j] = n;
          w[3 * H + j] = hn_lin;
        }
        break;
      }
    }
  });
}

template <class T>
void backward_typed(CellKind kind, const Tensor& dh_t, const Tensor& dc_t, const Tensor& ws_t,
                    const Tensor& c_t, const Tensor& h_t, const Tensor& dgi_t, const Tensor& dgh_t,
                    const Tensor& dcp_t, const Tensor& dhd_t) {
  const int64_t B = dh_t.size(0), H = dh_t.size(1), G = cell_gates(kind) * H;
  const int64_t W = cell_workspace(kind) * H;
  const T *dh = dh_t.data_ptr<T>(), *dc = opt<T>(dc_t), *ws = ws_t.data_ptr<T>();
  const T *cp = opt<T>(c_t), *hp = opt<T>(h_t);
  T *dgi = dgi_t.data_ptr<T>(), *dgh = opt_mut<T>(dgh_t), *dcp = opt_mut<T>(dcp_t),
    *dhd = opt_mut<T>(dhd_t);
  for_rows(B, G, [&](int64_t b) {
    const T* w = ws + b * W;
    const T* gy = dh + b * H;
    T* di = dgi + b * G;
    T* dhh = dgh ? dgh + b * G : nullptr;
    switch (kind) {
      case CellKind::RnnTanh:
        for (int64_t j = 0; j < H; ++j) di[j] = gy[j] * (T(1) - w[j] * w[j]);
        break;
      case CellKind::RnnRelu:
        for (int64_t j = 0; j < H; ++j) di[j] = w[j] > T(0) ? gy[j] : T(0);
        break;
      case CellKind::Lstm: {
        const T* c = cp + b * H;
        const T* gc = dc ? dc + b * H : nullptr;
        T* dcb = dcp ? dcp + b * H : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          T i = w[j], f = w[H + j], g = w[2 * H + j], o = w[3 * H + j], tc = w[4 * H + j];
          T dct = (gc ? gc[j] : T(0)) + gy[j] * o * (T(1) - tc * tc);
          di[j] = dct * g * i * (T(1) - i);
          di[H + j] = dct * c[j] * f * (T(1) - f);
          di[2 * H + j] = dct * i * (T(1) - g * g);
          di[3 * H + j] = gy[j] * tc * o * (T(1) - o);
          if (dcb) dcb[j] = dct * f;
        }
        break;
      }
      case CellKind::Gru: {
        const T* h = hp + b * H;
        T* dd = dhd ? dhd + b * H : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          T r = w[j], z = w[H + j], n = w[2 * H + j], hl = w[3 * H + j];
          T dn = gy[j] * (T(1) - z) * (T(1) - n * n);
          T dz = gy[j] * (h[j] - n) * z * (T(1) - z);
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
  });
}

}  // namespace

void rnn_cell_forward(CellKind kind, const Tensor& gi, const Tensor& gh, const Tensor& b_ih,
                      const Tensor& b_hh, const Tensor& h, const Tensor& c, const Tensor& h_out,
                      const Tensor& c_out, const Tensor& ws) {
  KOAN_ASSERT(gi.is_contiguous() && gh.is_contiguous() && h_out.is_contiguous() && ws.is_contiguous());
  KOAN_ASSERT(kind != CellKind::Lstm || (c.defined() && c_out.defined() && c.is_contiguous()));
  KOAN_ASSERT(kind != CellKind::Gru || (h.defined() && h.is_contiguous()));
  if (h_out.numel() == 0) return;
  visit_floating(gi.dtype(), "rnn_cell", [&]<class T>() {
    forward_typed<T>(kind, gi, gh, b_ih, b_hh, h, c, h_out, c_out, ws);
  });
}

void rnn_cell_backward(CellKind kind, const Tensor& dh, const Tensor& dc, const Tensor& ws,
                       const Tensor& c, const Tensor& h, const Tensor& dgi, const Tensor& dgh,
                       const Tensor& dc_prev, const Tensor& dh_direct) {
  KOAN_ASSERT(dh.is_contiguous() && ws.is_contiguous() && dgi.is_contiguous());
  KOAN_ASSERT(!dc.defined() || dc.is_contiguous());
  KOAN_ASSERT(kind != CellKind::Lstm || (c.defined() && c.is_contiguous()));
  KOAN_ASSERT(kind != CellKind::Gru || (h.defined() && dgh.defined() && h.is_contiguous()));
  if (dh.numel() == 0) return;
  visit_floating(dh.dtype(), "rnn_cell_backward", [&]<class T>() {
    backward_typed<T>(kind, dh, dc, ws, c, h, dgi, dgh, dc_prev, dh_direct);
  });
}

}  // namespace koan::kernels
