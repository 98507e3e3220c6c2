#include "koan/kernels/masked_softmax.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/vecmath.h"

namespace koan::kernels {
namespace {

// Where row r of a mask viewed (with broadcast strides) as x's shape starts, and its key stride.
struct MaskRows {
  const Shape* shape = nullptr;    // x's shape
  std::vector<int64_t> strides;    // the mask's, one per dim of x
  int64_t offset(int64_t r) const {
    int64_t off = 0;
    for (int64_t d = static_cast<int64_t>(shape->size()) - 2; d >= 0; --d) {
      const int64_t n = (*shape)[d];
      off += (r % n) * strides[d];
      r /= n;
    }
    return off;
  }
  int64_t key_stride() const { return strides.back(); }
};

// One row, keys [0, n): q holds the masked, scaled scores on entry and the weights on exit.
template <class T>
void softmax_row(T* q, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = q[j] > m ? q[j] : m;
  if (m == -std::numeric_limits<T>::infinity()) {  // every key masked: weights 0, not NaN
    std::fill(q, q + n, T(0));
    return;
  }
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; ++j) {
    const T e = std::exp(q[j] - m);
    q[j] = e;
    s += e;
  }
  const T r = T(1) / s;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) q[j] *= r;
}

template <class T>
void forward_typed(const Tensor& xt, double scale_d, SoftmaxMask kind, const Tensor& mask, const Tensor& yt) {
  const Shape& shape = xt.shape();
  const int64_t S = shape.back(), L = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
  const int64_t rows = xt.numel() / S;
  const T* x = xt.data_ptr<T>();
  T* y = yt.data_ptr<T>();
  const T scale = static_cast<T>(scale_d);
  MaskRows mr;
  if (kind == SoftmaxMask::Bool || kind == SoftmaxMask::Additive) {
    mr.shape = &shape;
    mr.strides.assign(mask.strides().begin(), mask.strides().end());
  }
  const bool* bm = kind == SoftmaxMask::Bool ? mask.data_ptr<bool>() : nullptr;
  const T* am = kind == SoftmaxMask::Additive ? mask.data_ptr<T>() : nullptr;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / S);
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* p = x + r * S;
      T* q = y + r * S;
      int64_t n = S;  // keys that take part
      switch (kind) {
        case SoftmaxMask::None:
#pragma omp simd
          for (int64_t j = 0; j < S; ++j) q[j] = p[j] * scale;
          break;
        case SoftmaxMask::Causal:
          n = std::min(S, r % L + 1);
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) q[j] = p[j] * scale;
          std::fill(q + n, q + S, T(0));
          break;
        case SoftmaxMask::Bool: {
          const bool* b = bm + mr.offset(r);
          const int64_t ks = mr.key_stride();
          const T ninf = -std::numeric_limits<T>::infinity();
          for (int64_t j = 0; j < S; ++j) q[j] = b[j * ks] ? p[j] * scale : ninf;
          break;
        }
        case SoftmaxMask::Additive: {
          const T* a = am + mr.offset(r);
          const int64_t ks = mr.key_stride();
          if (ks == 1) {
#pragma omp simd
            for (int64_t j = 0; j < S; ++j) q[j] = p[j] * scale + a[j];
          } else {
            for (int64_t j = 0; j < S; ++j) q[j] = p[j] * scale + a[j * ks];
          }
          break;
        }
      }
      softmax_row(q, n);
    }
  });
}

template <class T>
void backward_typed(const Tensor& gt, const Tensor& yt, double scale_d, bool causal, const Tensor& gxt) {
  const Shape& shape = yt.shape();
  const int64_t S = shape.back(), L = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
  const int64_t rows = yt.numel() / S;
  const T* g = gt.data_ptr<T>();
  const T* y = yt.data_ptr<T>();
  T* gx = gxt.data_ptr<T>();
  const T scale = static_cast<T>(scale_d);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / S);
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* G = g + r * S;
      const T* Y = y + r * S;
      T* R = gx + r * S;
      // Masked keys have y = 0, so their gradient is 0 without looking at the mask; causal rows
      // skip them altogether.
      const int64_t n = causal ? std::min(S, r % L + 1) : S;
      T dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < n; ++j) dot += G[j] * Y[j];
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) R[j] = scale * Y[j] * (G[j] - dot);
      std::fill(R + n, R + S, T(0));
    }
  });
}

}  // namespace

void masked_softmax(const Tensor& x, double scale, SoftmaxMask kind, const Tensor& mask, const Tensor& y) {
  KOAN_ASSERT(x.is_contiguous() && y.is_contiguous() && x.shape() == y.shape() && x.dim() >= 1);
  KOAN_ASSERT(kind == SoftmaxMask::None || kind == SoftmaxMask::Causal || mask.shape() == x.shape());
  if (x.numel() == 0) return;
  visit_floating(x.dtype(), "masked_softmax",
                 [&]<class T>() { forward_typed<T>(x, scale, kind, mask, y); });
}

void masked_softmax_backward(const Tensor& g, const Tensor& y, double scale, bool causal, const Tensor& gx) {
  KOAN_ASSERT(g.is_contiguous() && y.is_contiguous() && gx.is_contiguous() && g.shape() == y.shape() &&
              gx.shape() == y.shape());
  if (y.numel() == 0) return;
  visit_floating(y.dtype(), "masked_softmax_backward",
                 [&]<class T>() { backward_typed<T>(g, y, scale, causal, gx); });
}

}  // namespace koan::kernels
