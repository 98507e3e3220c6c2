#include "koan/kernels/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

struct Geometry {
  int64_t n = 1, classes = 1, inner = 1;
};

Geometry geometry(const Tensor& logits) {
  Geometry g;
  g.n = logits.size(0);
  g.classes = logits.size(1);
  g.inner = g.n * g.classes == 0 ? 0 : logits.numel() / (g.n * g.classes);
  return g;
}

// Positions (o, k) of an [n, C, inner] tensor, split across threads (loops.h's for_columns).
template <class F>
void for_positions(const Geometry& g, F&& f) {
  for_columns(g.n, g.classes, g.inner, std::forward<F>(f));
}

template <class T>
struct Pointers {
  const T* x;
  const int64_t* target;
  const T* w;  // nullptr: all weights 1
};

template <class T>
void forward_typed(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore,
                   const Tensor& stats, const Tensor& nll, const Tensor& smooth, const Tensor& wt) {
  const Geometry g = geometry(logits);
  const int64_t C = g.classes, inner = g.inner;
  const T* x = logits.data_ptr<T>();
  const int64_t* tg = target.data_ptr<int64_t>();
  const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
  T* st = stats.data_ptr<T>();
  T* nl = nll.data_ptr<T>();
  T* sm = smooth.defined() ? smooth.data_ptr<T>() : nullptr;
  T* wo = wt.data_ptr<T>();

  // Finishes position i (column k of row-block o) once its max and log-sum are known.
  auto finish = [&](int64_t i, const T* col, int64_t stride, T m, T ls) {
    st[2 * i] = m;
    st[2 * i + 1] = ls;
    int64_t t = tg[i];
    if (t == ignore) {
      nl[i] = 0;
      wo[i] = 0;
      if (sm) sm[i] = 0;
      return;
    }
    T wt_i = w ? w[t] : T(1);
    // (x - m) - ls, not x - (m + ls): m + ls would round away ls's digits when |m| is large.
    nl[i] = -wt_i * ((col[t * stride] - m) - ls);
    wo[i] = wt_i;
    if (sm) {
      double acc = 0;
      for (int64_t c = 0; c < C; ++c)
        acc += static_cast<double>(w ? w[c] : T(1)) * ((col[c * stride] - m) - ls);
      sm[i] = static_cast<T>(-acc);
    }
  };

  if (inner == 1) {  // classes along memory: one row per position
    for_positions(g, [&](int64_t o, int64_t, int64_t) {
      const T* row = x + o * C;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t c = 0; c < C; ++c) m = row[c] > m ? row[c] : m;
      double s = 0;
      // exp in T (float's is several times cheaper than double's); the sum accumulates in double.
      for (int64_t c = 0; c < C; ++c) s += std::exp(row[c] - m);
      finish(o, row, 1, m, static_cast<T>(std::log(s)));
    });
    return;
  }
  // Spatial targets: classes are strided by `inner`; reduce a block of positions at once so
  // the inner loop runs along memory.
  for_positions(g, [&](int64_t o, int64_t k0, int64_t k1) {
    const int64_t nk = k1 - k0;
    const T* base = x + o * C * inner + k0;
    std::vector<T> m(nk, -std::numeric_limits<T>::infinity());
    std::vector<double> s(nk, 0.0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < nk; ++k) m[k] = base[c * inner + k] > m[k] ? base[c * inner + k] : m[k];
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < nk; ++k) s[k] += std::exp(base[c * inner + k] - m[k]);
    for (int64_t k = 0; k < nk; ++k)
      finish(o * inner + k0 + k, base + k, inner, m[k], static_cast<T>(std::log(s[k])));
  });
}

template <class T>
void backward_typed(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore,
                    const Tensor& stats, const Tensor& gout, double alpha, double beta, const Tensor& grad) {
  const Geometry g = geometry(logits);
  const int64_t C = g.classes, inner = g.inner;
  const T* x = logits.data_ptr<T>();
  const int64_t* tg = target.data_ptr<int64_t>();
  const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
  const T* st = stats.data_ptr<T>();
  const T* go = gout.data_ptr<T>();
  const bool broadcast = gout.numel() == 1;
  T* gx = grad.data_ptr<T>();
  double wsum = static_cast<double>(C);
  if (w) {
    wsum = 0;
    for (int64_t c = 0; c < C; ++c) wsum += w[c];
  }
  const T Wall = static_cast<T>(wsum);

  // One position: col/out strided by `stride` over the classes.
  auto position = [&](int64_t i, const T* col, T* out, int64_t stride) {
    int64_t t = tg[i];
    if (t == ignore) {
      for (int64_t c = 0; c < C; ++c) out[c * stride] = 0;
      return;
    }
    double gi = static_cast<double>(go[broadcast ? 0 : i]);
    const T a = static_cast<T>(alpha * gi * static_cast<double>(w ? w[t] : T(1)));
    const T b = static_cast<T>(beta * gi);
    const T m = st[2 * i], ls = st[2 * i + 1];
    if (b == T(0)) {
      for (int64_t c = 0; c < C; ++c) out[c * stride] = a * std::exp((col[c * stride] - m) - ls);
    } else {
      for (int64_t c = 0; c < C; ++c) {
        T p = std::exp((col[c * stride] - m) - ls);
        out[c * stride] = a * p + b * (p * Wall - (w ? w[c] : T(1)));
      }
    }
    out[t * stride] -= a;
  };

  if (inner == 1) {
    for_positions(g, [&](int64_t o, int64_t, int64_t) { position(o, x + o * C, gx + o * C, 1); });
    return;
  }
  for_positions(g, [&](int64_t o, int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      int64_t off = o * C * inner + k;
      position(o * inner + k, x + off, gx + off, inner);
    }
  });
}

}  // namespace

void check_class_indices(const Tensor& target, int64_t classes, int64_t ignore_index, const char* op) {
  KOAN_ASSERT(target.dtype() == DType::Int64 && target.is_contiguous());
  const int64_t* t = target.data_ptr<int64_t>();
  for (int64_t i = 0; i < target.numel(); ++i) {
    KOAN_CHECK(t[i] == ignore_index || (t[i] >= 0 && t[i] < classes), IndexError, op, ": target ", t[i],
               " at position ", i, " is out of range for ", classes, " classes (ignore_index=",
               ignore_index, ")");
  }
}

void cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                           int64_t ignore_index, const Tensor& stats, const Tensor& nll,
                           const Tensor& smooth, const Tensor& wt) {
  KOAN_ASSERT(logits.dim() >= 2 && logits.is_contiguous() && target.is_contiguous());
  if (logits.numel() == 0) return;
  visit_floating(logits.dtype(), "cross_entropy", [&]<class T>() {
    forward_typed<T>(logits, target, weight, ignore_index, stats, nll, smooth, wt);
  });
}

void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                            int64_t ignore_index, const Tensor& stats, const Tensor& gout,
                            double alpha, double beta, const Tensor& grad) {
  KOAN_ASSERT(logits.is_contiguous() && grad.is_contiguous() && gout.is_contiguous());
  if (logits.numel() == 0) return;
  visit_floating(logits.dtype(), "cross_entropy_backward", [&]<class T>() {
    backward_typed<T>(logits, target, weight, ignore_index, stats, gout, alpha, beta, grad);
  });
}

}  // namespace koan::kernels
