// Max and average pooling, one plane (sample, channel) per task.
#include "koan/kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

// Planes per task: enough work per thread wake-up for small images.
int64_t plane_grain(int64_t plane_size) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(plane_size, 1)); }

// The kernel taps k in [lo, hi) whose position start + k * d lies in [0, size).
void tap_range(int64_t start, int64_t d, int64_t k, int64_t size, int64_t& lo, int64_t& hi) {
  lo = start >= 0 ? 0 : (-start + d - 1) / d;
  hi = size - start <= 0 ? 0 : std::min(k, (size - start + d - 1) / d);
  hi = std::max(hi, lo);
}

template <class T>
void max_pool_impl(const Tensor& xt, const PoolGeom& g, const Tensor& ot, const Tensor& it) {
  const T* x = base_ptr<T>(xt) + xt.offset();
  T* out = base_ptr<T>(ot) + ot.offset();
  int64_t* idx = base_ptr<int64_t>(it) + it.offset();
  // Locals, so the compiler need not reload the geometry after every store.
  const int64_t H = g.h, W = g.w, OH = g.oh, OW = g.ow, HW = H * W, P = OH * OW;
  const int64_t sw = g.sw, dh = g.dh, dw = g.dw;
  // Each output column's in-bounds taps, computed once: the inner loops need no bounds checks.
  std::vector<int64_t> jlo(OW), jhi(OW);
  for (int64_t q = 0; q < OW; ++q) tap_range(q * sw - g.pw, dw, g.kw, W, jlo[q], jhi[q]);
  parallel_for(0, g.planes, plane_grain(HW), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const T* xp = x + p * HW;
      T* op = out + p * P;
      int64_t* ip = idx + p * P;
      for (int64_t r = 0; r < OH; ++r) {
        const int64_t h0 = r * g.sh - g.ph;
        int64_t ilo, ihi;
        tap_range(h0, dh, g.kh, H, ilo, ihi);
        for (int64_t q = 0; q < OW; ++q) {
          const int64_t w0 = q * sw - g.pw;
          T best = -std::numeric_limits<T>::infinity();
          int64_t arg = ihi > ilo && jhi[q] > jlo[q] ? (h0 + ilo * dh) * W + w0 + jlo[q] * dw : -1;
          for (int64_t i = ilo; i < ihi; ++i) {
            const int64_t row = (h0 + i * dh) * W + w0;
            for (int64_t j = jlo[q]; j < jhi[q]; ++j) {
              const T v = xp[row + j * dw];
              if (v > best || std::isnan(v)) {  // PyTorch's rule: NaN wins
                best = v;
                arg = row + j * dw;
              }
            }
          }
          op[r * OW + q] = best;
          ip[r * OW + q] = arg;
        }
      }
    }
  });
}

template <class T>
void max_pool_backward_impl(const Tensor& gyt, const Tensor& it, const PoolGeom& g, const Tensor& gxt) {
  const T* gy = base_ptr<T>(gyt) + gyt.offset();
  const int64_t* idx = base_ptr<int64_t>(it) + it.offset();
  T* gx = base_ptr<T>(gxt) + gxt.offset();
  const int64_t HW = g.h * g.w, P = g.oh * g.ow;
  parallel_for(0, g.planes, plane_grain(HW), [&](int64_t pb, int64_t pe) {
    std::fill(gx + pb * HW, gx + pe * HW, T(0));
    for (int64_t p = pb; p < pe; ++p) {
      const T* gp = gy + p * P;
      const int64_t* ip = idx + p * P;
      T* xp = gx + p * HW;
      for (int64_t k = 0; k < P; ++k)
        if (ip[k] >= 0) xp[ip[k]] += gp[k];
    }
  });
}

template <class T>
void window_avg_impl(const Tensor& xt, const AvgWindows& rows, const AvgWindows& cols, const Tensor& ot) {
  const T* x = base_ptr<T>(xt) + xt.offset();
  T* out = base_ptr<T>(ot) + ot.offset();
  const int64_t H = xt.size(-2), W = xt.size(-1), OH = ot.size(-2), OW = ot.size(-1);
  const int64_t planes = ot.numel() / std::max<int64_t>(OH * OW, 1);
  parallel_for(0, planes, plane_grain(H * W), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const T* xp = x + p * H * W;
      T* op = out + p * OH * OW;
      for (int64_t r = 0; r < OH; ++r)
        for (int64_t q = 0; q < OW; ++q) {
          T s = 0;
          for (int64_t ih = rows.begin[r]; ih < rows.end[r]; ++ih)
            for (int64_t iw = cols.begin[q]; iw < cols.end[q]; ++iw) s += xp[ih * W + iw];
          op[r * OW + q] = static_cast<T>(s / (rows.count[r] * cols.count[q]));
        }
    }
  });
}

template <class T>
void window_avg_adjoint_impl(const Tensor& gyt, const AvgWindows& rows, const AvgWindows& cols, const Tensor& gxt) {
  const T* gy = base_ptr<T>(gyt) + gyt.offset();
  T* gx = base_ptr<T>(gxt) + gxt.offset();
  const int64_t H = gxt.size(-2), W = gxt.size(-1), OH = gyt.size(-2), OW = gyt.size(-1);
  const int64_t planes = gxt.numel() / std::max<int64_t>(H * W, 1);
  parallel_for(0, planes, plane_grain(H * W), [&](int64_t pb, int64_t pe) {
    std::fill(gx + pb * H * W, gx + pe * H * W, T(0));
    for (int64_t p = pb; p < pe; ++p) {
      const T* gp = gy + p * OH * OW;
      T* xp = gx + p * H * W;
      for (int64_t r = 0; r < OH; ++r)
        for (int64_t q = 0; q < OW; ++q) {
          const T v = static_cast<T>(gp[r * OW + q] / (rows.count[r] * cols.count[q]));
          for (int64_t ih = rows.begin[r]; ih < rows.end[r]; ++ih)
            for (int64_t iw = cols.begin[q]; iw < cols.end[q]; ++iw) xp[ih * W + iw] += v;
        }
    }
  });
}

}  // namespace

void max_pool2d(const Tensor& x, const PoolGeom& g, const Tensor& out, const Tensor& indices) {
  KOAN_ASSERT(x.is_contiguous() && out.is_contiguous() && indices.is_contiguous());
  if (out.numel() == 0) return;
  visit_floating(x.dtype(), "max_pool2d", [&]<class T>() { max_pool_impl<T>(x, g, out, indices); });
}

void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const PoolGeom& g, const Tensor& gx) {
  KOAN_ASSERT(gy.is_contiguous() && indices.is_contiguous() && gx.is_contiguous());
  if (gx.numel() == 0) return;
  visit_floating(gy.dtype(), "max_pool2d backward",
                 [&]<class T>() { max_pool_backward_impl<T>(gy, indices, g, gx); });
}

void window_avg(const Tensor& x, const AvgWindows& rows, const AvgWindows& cols, const Tensor& out) {
  KOAN_ASSERT(x.is_contiguous() && out.is_contiguous());
  if (out.numel() == 0) return;
  visit_floating(x.dtype(), "avg_pool2d", [&]<class T>() { window_avg_impl<T>(x, rows, cols, out); });
}

void window_avg_adjoint(const Tensor& gy, const AvgWindows& rows, const AvgWindows& cols, const Tensor& gx) {
  KOAN_ASSERT(gy.is_contiguous() && gx.is_contiguous());
  if (gx.numel() == 0) return;
  visit_floating(gy.dtype(), "avg_pool2d backward",
                 [&]<class T>() { window_avg_adjoint_impl<T>(gy, rows, cols, gx); });
}

}  // namespace koan::kernels
