#include "koan/kernels/softmax.h"

#include <cmath>
#include "koan/kernels/cpu/vecmath.h"
#include <limits>
#include <vector>

#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

struct Geometry {
  int64_t outer = 1, n = 1, inner = 1;
};

Geometry geometry(const Shape& s, int64_t dim) {
  Geometry g;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < dim) g.outer *= s[d];
    else if (d == dim) g.n = s[d];
    else g.inner *= s[d];
  }
  return g;
}

// Each column of [outer, n, inner] is one independent softmax (loops.h's for_columns).
template <class F>
void for_columns(const Geometry& g, F&& f) {
  kernels::for_columns(g.outer, g.n, g.inner, std::forward<F>(f));
}

template <class T>
void softmax_typed(const Tensor& in, int64_t dim, bool log, const Tensor& out) {
  Geometry g = geometry(in.shape(), dim);
  const T* x = in.data_ptr<T>();
  T* y = out.data_ptr<T>();
  const int64_t n = g.n, inner = g.inner;
  if (inner == 1) {  // rows along memory
    for_columns(g, [&](int64_t o, int64_t, int64_t) {
      const T* p = x + o * n;
      T* q = y + o * n;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < n; ++i) m = p[i] > m ? p[i] : m;
      double s = 0;
      if (log) {
        for (int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(p[i] - m));
        // (x - m) - log(s), not x - (m + log(s)): m + log(s) would round away log(s)'s digits
        // when |m| is large.
        T ls = static_cast<T>(std::log(s));
        for (int64_t i = 0; i < n; ++i) q[i] = (p[i] - m) - ls;
      } else {
        for (int64_t i = 0; i < n; ++i) {
          T e = std::exp(p[i] - m);
          q[i] = e;
          s += e;
        }
        T r = static_cast<T>(1.0 / s);
        for (int64_t i = 0; i < n; ++i) q[i] *= r;
      }
    });
    return;
  }
  // dim not last: reduce several columns at once, the inner loop running along memory.
  for_columns(g, [&](int64_t o, int64_t c0, int64_t c1) {
    int64_t w = c1 - c0;
    std::vector<T> m(w, -std::numeric_limits<T>::infinity());
    std::vector<double> s(w, 0.0);
    const T* p = x + o * n * inner + c0;
    T* q = y + o * n * inner + c0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t c = 0; c < w; ++c) m[c] = p[i * inner + c] > m[c] ? p[i * inner + c] : m[c];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t c = 0; c < w; ++c) {
        T e = std::exp(p[i * inner + c] - m[c]);
        if (!log) q[i * inner + c] = e;
        s[c] += e;
      }
    if (log) {
      std::vector<T> ls(w);
      for (int64_t c = 0; c < w; ++c) ls[c] = static_cast<T>(std::log(s[c]));
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < w; ++c) q[i * inner + c] = (p[i * inner + c] - m[c]) - ls[c];
    } else {
      std::vector<T> r(w);
      for (int64_t c = 0; c < w; ++c) r[c] = static_cast<T>(1.0 / s[c]);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < w; ++c) q[i * inner + c] *= r[c];
    }
  });
}

template <class T>
void softmax_backward_typed(const Tensor& gt, const Tensor& yt, int64_t dim, bool log, const Tensor& out) {
  Geometry g = geometry(yt.shape(), dim);
  const T* gp = gt.data_ptr<T>();
  const T* yp = yt.data_ptr<T>();
  T* op = out.data_ptr<T>();
  const int64_t n = g.n, inner = g.inner;
  for_columns(g, [&](int64_t o, int64_t c0, int64_t c1) {
    int64_t w = c1 - c0, base = o * n * inner + c0;
    const T *G = gp + base, *Y = yp + base;
    T* R = op + base;
    if (w == 1 && inner == 1) {
      double s = 0;
      if (log) {
        for (int64_t i = 0; i < n; ++i) s += G[i];
        T ts = static_cast<T>(s);
        for (int64_t i = 0; i < n; ++i) R[i] = G[i] - std::exp(Y[i]) * ts;
      } else {
        for (int64_t i = 0; i < n; ++i) s += static_cast<double>(G[i]) * Y[i];
        T ts = static_cast<T>(s);
        for (int64_t i = 0; i < n; ++i) R[i] = Y[i] * (G[i] - ts);
      }
      return;
    }
    std::vector<double> s(w, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t c = 0; c < w; ++c)
        s[c] += log ? static_cast<double>(G[i * inner + c])
                    : static_cast<double>(G[i * inner + c]) * Y[i * inner + c];
    std::vector<T> ts(s.begin(), s.end());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t c = 0; c < w; ++c) {
        int64_t k = i * inner + c;
        R[k] = log ? G[k] - std::exp(Y[k]) * ts[c] : Y[k] * (G[k] - ts[c]);
      }
  });
}

}  // namespace

void softmax(const Tensor& in, int64_t dim, bool log, const Tensor& out) {
  KOAN_ASSERT(in.is_contiguous() && out.is_contiguous() && in.shape() == out.shape());
  if (in.numel() == 0) return;
  visit_floating(in.dtype(), log ? "log_softmax" : "softmax",
                 [&]<class T>() { softmax_typed<T>(in, dim, log, out); });
}

void softmax_backward(const Tensor& g, const Tensor& y, int64_t dim, bool log, const Tensor& gx) {
  KOAN_ASSERT(g.is_contiguous() && y.is_contiguous() && gx.is_contiguous() && g.shape() == y.shape());
  if (y.numel() == 0) return;
  visit_floating(y.dtype(), log ? "log_softmax_backward" : "softmax_backward",
                 [&]<class T>() { softmax_backward_typed<T>(g, y, dim, log, gx); });
}

}  // namespace koan::kernels
