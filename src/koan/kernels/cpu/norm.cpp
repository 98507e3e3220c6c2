#include "koan/kernels/norm.h"

#include <cmath>
#include <vector>

#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

// (N, C, S) view of a batch-norm input.
struct Nc {
  int64_t N = 0, C = 0, S = 1;
};
Nc nc_of(const Shape& s) {
  Nc g{s[0], s[1], 1};
  for (size_t d = 2; d < s.size(); ++d) g.S *= s[d];
  return g;
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
template <class T>
T* out_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Two per-channel sums over an (N, C, S) tensor: f(i, c, a1, a2) adds element i's terms into the
// channel's accumulators.  Each channel's sums run in one fixed order on one thread.  With
// S == 1 the channels are the contiguous dim, so threads take blocks of columns and the inner
// loop runs along memory.
template <class F>
void channel_sums(const Nc& g, std::vector<double>& s1, std::vector<double>& s2, F&& f) {
  s1.assign(g.C, 0.0);
  s2.assign(g.C, 0.0);
  const int64_t per_channel = g.N * g.S;
  if (g.S == 1) {
    int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(g.N, 1));
    parallel_for(0, g.C, grain, [&](int64_t c0, int64_t c1) {
      double* a1 = s1.data();
      double* a2 = s2.data();
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t c = c0; c < c1; ++c) f(n * g.C + c, c, a1[c], a2[c]);
    });
    return;
  }
  int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(per_channel, 1));
  parallel_for(0, g.C, grain, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double a1 = 0, a2 = 0;
      for (int64_t n = 0; n < g.N; ++n) {
        int64_t base = (n * g.C + c) * g.S;
        for (int64_t s = 0; s < g.S; ++s) f(base + s, c, a1, a2);
      }
      s1[c] = a1;
      s2[c] = a2;
    }
  });
}

// out[i] = in1[i] * a[c] + in2[i] * b[c] + d[c] over an (N, C, S) tensor (in2 may be null when
// every b is 0).  Elementwise, so any split across threads gives the same result.
template <class T>
void channel_affine(const Nc& g, const T* in1, const T* in2, const std::vector<T>& a,
                    const std::vector<T>& b, const std::vector<T>& d, T* out) {
  if (g.S == 1) {
    int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(g.C, 1));
    parallel_for(0, g.N, grain, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        const T* p = in1 + n * g.C;
        T* q = out + n * g.C;
        if (in2) {
          const T* r = in2 + n * g.C;
          for (int64_t c = 0; c < g.C; ++c) q[c] = p[c] * a[c] + r[c] * b[c] + d[c];
        } else {
          for (int64_t c = 0; c < g.C; ++c) q[c] = p[c] * a[c] + d[c];
        }
      }
    });
    return;
  }
  int64_t grain = std::max<int64_t>(1, kParallelGrain / g.S);
  parallel_for(0, g.N * g.C, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      int64_t c = pl % g.C;
      const T* p = in1 + pl * g.S;
      T* q = out + pl * g.S;
      const T ac = a[c], bc = b[c], dc = d[c];
      if (in2) {
        const T* r = in2 + pl * g.S;
        for (int64_t s = 0; s < g.S; ++s) q[s] = p[s] * ac + r[s] * bc + dc;
      } else {
        for (int64_t s = 0; s < g.S; ++s) q[s] = p[s] * ac + dc;
      }
    }
  });
}

template <class T>
void bn_stats(const Tensor& xt, const Tensor& mean, const Tensor& var) {
  Nc g = nc_of(xt.shape());
  const T* x = xt.data_ptr<T>();
  const double M = static_cast<double>(g.N * g.S);
  std::vector<double> s1, s2;
  channel_sums(g, s1, s2, [&](int64_t i, int64_t, double& a1, double&) { a1 += x[i]; });
  std::vector<double> m(g.C);
  for (int64_t c = 0; c < g.C; ++c) m[c] = M > 0 ? s1[c] / M : 0.0;
  // Second pass about the mean: no cancellation, unlike E[x^2] - E[x]^2.
  channel_sums(g, s1, s2, [&](int64_t i, int64_t c, double& a1, double&) {
    double dlt = x[i] - m[c];
    a1 += dlt * dlt;
  });
  T* pm = mean.data_ptr<T>();
  T* pv = var.data_ptr<T>();
  for (int64_t c = 0; c < g.C; ++c) {
    pm[c] = static_cast<T>(m[c]);
    pv[c] = static_cast<T>(M > 0 ? s1[c] / M : 0.0);
  }
}

template <class T>
void bn_forward(const Tensor& xt, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                const Tensor& bias, const Tensor& out) {
  Nc g = nc_of(xt.shape());
  const T *pm = mean.data_ptr<T>(), *pi = invstd.data_ptr<T>();
  const T *pw = ptr_or_null<T>(weight), *pb = ptr_or_null<T>(bias);
  // (x - m) * i * w + b == x * scale + shift, one multiply-add per element.
  std::vector<T> scale(g.C), zero(g.C, T(0)), shift(g.C);
  for (int64_t c = 0; c < g.C; ++c) {
    T sc = pi[c] * (pw ? pw[c] : T(1));
    scale[c] = sc;
    shift[c] = (pb ? pb[c] : T(0)) - pm[c] * sc;
  }
  channel_affine<T>(g, xt.data_ptr<T>(), nullptr, scale, zero, shift, out.data_ptr<T>());
}

template <class T>
void bn_backward(const Tensor& gt, const Tensor& xt, const Tensor& mean, const Tensor& invstd,
                 const Tensor& weight, bool training, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  Nc g = nc_of(xt.shape());
  const T *pg = gt.data_ptr<T>(), *x = xt.data_ptr<T>();
  const T *pm = mean.data_ptr<T>(), *pi = invstd.data_ptr<T>(), *pw = ptr_or_null<T>(weight);
  const double M = static_cast<double>(g.N * g.S);
  std::vector<double> sum_g(g.C, 0.0), sum_gxc(g.C, 0.0);  // sum(g), sum(g (x - mean))
  if (training || gw.defined() || gb.defined()) {
    channel_sums(g, sum_g, sum_gxc, [&](int64_t i, int64_t c, double& a1, double& a2) {
      double gi = pg[i];
      a1 += gi;
      a2 += gi * (static_cast<double>(x[i]) - pm[c]);
    });
  }
  if (gw.defined()) {
    T* q = gw.data_ptr<T>();
    for (int64_t c = 0; c < g.C; ++c) q[c] = static_cast<T>(sum_gxc[c] * pi[c]);
  }
  if (gb.defined()) {
    T* q = gb.data_ptr<T>();
    for (int64_t c = 0; c < g.C; ++c) q[c] = static_cast<T>(sum_g[c]);
  }
  if (!gx.defined()) return;
  // gx = a g + k x + d per channel: a = w i; training adds k = -w i^3 sum_gxc / M and
  // d = -w i sum_g / M - k mean.
  std::vector<T> a(g.C), k(g.C), d(g.C);
  for (int64_t c = 0; c < g.C; ++c) {
    double w = pw ? pw[c] : 1.0, is = pi[c];
    a[c] = static_cast<T>(w * is);
    double kc = training && M > 0 ? -w * is * is * is * sum_gxc[c] / M : 0.0;
    double dc = training && M > 0 ? -w * is * sum_g[c] / M - kc * pm[c] : 0.0;
    k[c] = static_cast<T>(kc);
    d[c] = static_cast<T>(dc);
  }
  channel_affine<T>(g, pg, training ? x : nullptr, a, k, d, gx.data_ptr<T>());
}

template <class T>
void ln_forward(const Tensor& xt, int64_t n, const Tensor& weight, const Tensor& bias, double eps,
                const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  const int64_t rows = n > 0 ? xt.numel() / n : 0;
  const T *x = xt.data_ptr<T>(), *pw = ptr_or_null<T>(weight), *pb = ptr_or_null<T>(bias);
  T *y = out.data_ptr<T>(), *pm = mean.data_ptr<T>(), *pr = rstd.data_ptr<T>();
  int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* p = x + r * n;
      T* q = y + r * n;
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += p[j];
      double m = s / n, v = 0;
      for (int64_t j = 0; j < n; ++j) {
        double dlt = p[j] - m;
        v += dlt * dlt;
      }
      T mt = static_cast<T>(m), rt = static_cast<T>(1.0 / std::sqrt(v / n + eps));
      pm[r] = mt;
      pr[r] = rt;
      if (pw && pb) {
        for (int64_t j = 0; j < n; ++j) q[j] = (p[j] - mt) * rt * pw[j] + pb[j];
      } else {
        for (int64_t j = 0; j < n; ++j) q[j] = (p[j] - mt) * rt * (pw ? pw[j] : T(1)) + (pb ? pb[j] : T(0));
      }
    }
  });
}

template <class T>
void ln_backward(const Tensor& gt, const Tensor& xt, int64_t n, const Tensor& mean, const Tensor& rstd,
                 const Tensor& weight, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const int64_t rows = n > 0 ? xt.numel() / n : 0;
  const T *g = gt.data_ptr<T>(), *x = xt.data_ptr<T>(), *pw = ptr_or_null<T>(weight);
  const T *pm = mean.data_ptr<T>(), *pr = rstd.data_ptr<T>();
  if (gx.defined()) {
    T* out = gx.data_ptr<T>();
    int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
    parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T *pg = g + r * n, *px = x + r * n;
        T* q = out + r * n;
        const double m = pm[r], rs = pr[r];
        double s1 = 0, s2 = 0;  // sum(dxh), sum(dxh xhat)
        for (int64_t j = 0; j < n; ++j) {
          double dxh = static_cast<double>(pg[j]) * (pw ? pw[j] : T(1));
          s1 += dxh;
          s2 += dxh * (px[j] - m) * rs;
        }
        const T a = static_cast<T>(s1 / n), b = static_cast<T>(s2 / n);
        const T mt = pm[r], rt = pr[r];
        for (int64_t j = 0; j < n; ++j) {
          T dxh = pg[j] * (pw ? pw[j] : T(1));
          q[j] = rt * (dxh - a - (px[j] - mt) * rt * b);
        }
      }
    });
  }
  if (!gw.defined() && !gb.defined()) return;
  // Column sums over rows: threads take blocks of columns and walk every row in order.
  T *qw = out_or_null<T>(gw), *qb = out_or_null<T>(gb);
  int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(rows, 1));
  parallel_for(0, n, grain, [&](int64_t j0, int64_t j1) {
    std::vector<double> aw(j1 - j0, 0.0), ab(j1 - j0, 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const T *pg = g + r * n + j0, *px = x + r * n + j0;
      const double m = pm[r], rs = pr[r];
      for (int64_t j = 0; j < j1 - j0; ++j) {
        aw[j] += static_cast<double>(pg[j]) * (px[j] - m) * rs;
        ab[j] += pg[j];
      }
    }
    for (int64_t j = 0; j < j1 - j0; ++j) {
      if (qw) qw[j0 + j] = static_cast<T>(aw[j]);
      if (qb) qb[j0 + j] = static_cast<T>(ab[j]);
    }
  });
}

template <class T>
void dropout_typed(const Tensor& xt, double p, Generator& gen, const Tensor& out, const Tensor& mask) {
  const int64_t n = xt.numel();
  const uint64_t base = gen.reserve(static_cast<uint64_t>(n));
  const T scale = p < 1 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
  const T* x = xt.data_ptr<T>();
  T *y = out.data_ptr<T>(), *m = mask.data_ptr<T>();
  // Branch-free, with the generator's bits inlined and every constant in a local of the chunk,
  // so it vectorises and no thread reads the caller's stack in the loop (a float store may alias
  // a float member of the closure, which lives there).  As a branch on each draw, with scale read
  // through a reference, it took about 11 ns an element.
  parallel_for(0, n, kParallelGrain, [&](int64_t b, int64_t e) {
    const Generator& g = gen;
    const uint64_t first = base;
    const double drop = p;
    const T keep = scale;
    const T* xs = x;
    T *ys = y, *ms = m;
#pragma omp simd
    for (int64_t k = b; k < e; ++k) {
      const T mk = bits_to_double(g.bits(first + static_cast<uint64_t>(k))) >= drop ? keep : T(0);
      ms[k] = mk;
      ys[k] = xs[k] * mk;
    }
  });
}

template <class T>
void embedding_typed(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  const int64_t n = indices.numel(), D = weight.size(1);
  const int64_t s0 = weight.stride(0), s1 = weight.stride(1);
  const T* w = weight.data_ptr<T>();
  const int64_t* idx = indices.data_ptr<int64_t>();
  T* y = out.data_ptr<T>();
  int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(D, 1));
  parallel_for(0, n, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* src = w + idx[i] * s0;
      T* dst = y + i * D;
      if (s1 == 1) {
        for (int64_t j = 0; j < D; ++j) dst[j] = src[j];
      } else {
        for (int64_t j = 0; j < D; ++j) dst[j] = src[j * s1];
      }
    }
  });
}

template <class T>
void embedding_backward_typed(const Tensor& gt, const Tensor& indices, int64_t padding_idx, const Tensor& gw) {
  const int64_t n = indices.numel(), V = gw.size(0), D = gw.size(1);
  const T* g = gt.data_ptr<T>();
  const int64_t* idx = indices.data_ptr<int64_t>();
  T* out = gw.data_ptr<T>();
  // Each thread owns rows [v0, v1) and scans every index: the scan is n integer compares, the
  // row additions are split between threads without any two touching one row.
  int64_t grain = n * D < kParallelGrain ? std::max<int64_t>(V, 1) : 1;
  parallel_for(0, V, grain, [&](int64_t v0, int64_t v1) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t r = idx[i];
      if (r < v0 || r >= v1 || r == padding_idx) continue;
      const T* src = g + i * D;
      T* dst = out + r * D;
      for (int64_t j = 0; j < D; ++j) dst[j] += src[j];
    }
  });
}

}  // namespace

void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) {
  KOAN_ASSERT(x.is_contiguous() && x.dim() >= 2 && mean.is_contiguous() && var.is_contiguous());
  visit_floating(x.dtype(), "batch_norm", [&]<class T>() { bn_stats<T>(x, mean, var); });
}

void batch_norm_forward(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                        const Tensor& bias, const Tensor& out) {
  KOAN_ASSERT(x.is_contiguous() && out.is_contiguous() && x.shape() == out.shape());
  if (x.numel() == 0) return;
  visit_floating(x.dtype(), "batch_norm",
                 [&]<class T>() { bn_forward<T>(x, mean, invstd, weight, bias, out); });
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                         const Tensor& weight, bool training, const Tensor& gx, const Tensor& gw,
                         const Tensor& gb) {
  KOAN_ASSERT(g.is_contiguous() && x.is_contiguous() && g.shape() == x.shape());
  visit_floating(x.dtype(), "batch_norm_backward", [&]<class T>() {
    bn_backward<T>(g, x, mean, invstd, weight, training, gx, gw, gb);
  });
}

void layer_norm(const Tensor& x, int64_t n, const Tensor& weight, const Tensor& bias, double eps,
                const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  KOAN_ASSERT(x.is_contiguous() && out.is_contiguous() && x.shape() == out.shape());
  if (x.numel() == 0) return;
  visit_floating(x.dtype(), "layer_norm",
                 [&]<class T>() { ln_forward<T>(x, n, weight, bias, eps, out, mean, rstd); });
}

void layer_norm_backward(const Tensor& g, const Tensor& x, int64_t n, const Tensor& mean,
                         const Tensor& rstd, const Tensor& weight, const Tensor& gx, const Tensor& gw,
                         const Tensor& gb) {
  KOAN_ASSERT(g.is_contiguous() && x.is_contiguous() && g.shape() == x.shape());
  visit_floating(x.dtype(), "layer_norm_backward",
                 [&]<class T>() { ln_backward<T>(g, x, n, mean, rstd, weight, gx, gw, gb); });
}

void dropout(const Tensor& x, double p, Generator& gen, const Tensor& out, const Tensor& mask) {
  KOAN_ASSERT(x.is_contiguous() && out.is_contiguous() && mask.is_contiguous());
  visit_floating(x.dtype(), "dropout", [&]<class T>() { dropout_typed<T>(x, p, gen, out, mask); });
}

void embedding(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  KOAN_ASSERT(weight.dim() == 2 && indices.is_contiguous() && indices.dtype() == DType::Int64 &&
              out.is_contiguous());
  visit_floating(weight.dtype(), "embedding", [&]<class T>() { embedding_typed<T>(weight, indices, out); });
}

void embedding_backward(const Tensor& g, const Tensor& indices, int64_t padding_idx, const Tensor& gw) {
  KOAN_ASSERT(g.is_contiguous() && gw.is_contiguous() && indices.is_contiguous() &&
              indices.dtype() == DType::Int64);
  visit_floating(gw.dtype(), "embedding_backward",
                 [&]<class T>() { embedding_backward_typed<T>(g, indices, padding_idx, gw); });
}

}  // namespace koan::kernels
