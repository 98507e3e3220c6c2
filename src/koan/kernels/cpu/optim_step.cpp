// Fused Adam/AdamW and SGD updates: elementwise, so split over threads by position and
// identical at any thread count.  Each step is written in the order of the unfused rule (the
// same roundings in the tensors' dtype), so the two agree to the last bit or nearly so.
#include "koan/kernels/optim_step.h"

#include <cmath>

#include "koan/core/parallel.h"
#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

template <class T>
T* at(const Tensor& t) {
  return t.defined() ? base_ptr<T>(t) + t.offset() : nullptr;
}

template <class T, bool kAmsgrad>
void adam_impl(const Tensor& pt, const Tensor& gt, const Tensor& mt, const Tensor& vt, const Tensor& vmt,
               const AdamStep& a) {
  T *p = at<T>(pt), *m = at<T>(mt), *v = at<T>(vt), *vmax = at<T>(vmt);
  const T* grad = at<T>(gt);
  const double t = static_cast<double>(a.step);
  const T b1 = T(a.beta1), b2 = T(a.beta2), c1 = T(1 - a.beta1), c2 = T(1 - a.beta2);
  const T wd = T(a.weight_decay), decay = T(1 - a.lr * a.weight_decay);
  const T sign = a.maximize ? T(-1) : T(1);
  const T step_size = T(a.lr / (1 - std::pow(a.beta1, t)));
  const T bc2_sqrt = T(std::sqrt(1 - std::pow(a.beta2, t)));
  const T eps = T(a.eps);
  const bool coupled = !a.decoupled && a.weight_decay != 0, decoupled = a.decoupled;
  // Captured by value.  By reference the loop read its constants from the caller's stack after
  // every store (a float store may alias a float), and at 2 threads those reads shared a cache
  // line with the caller's own writes: an SGD step over 200 704 floats took 220 us, by value 33.
  // The closure itself still lives on the caller's stack; here GCC keeps its members in registers
  // through the simd loop.  Dropout (norm.cpp), where it did not, copies them into the chunk's
  // locals, which does not depend on the compiler.
  parallel_for(0, pt.numel(), kParallelGrain, [=](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      T g = sign * grad[i];
      T pi = p[i];
      if (coupled) g += wd * pi;
      if (decoupled) pi *= decay;
      const T mi = m[i] * b1 + c1 * g;
      const T vi = v[i] * b2 + c2 * (g * g);
      m[i] = mi;
      v[i] = vi;
      T vh = vi;
      if constexpr (kAmsgrad) {
        vh = vmax[i] > vi ? vmax[i] : vi;
        vmax[i] = vh;
      }
      const T denom = std::sqrt(vh) / bc2_sqrt + eps;
      p[i] = pi - step_size * (mi / denom);
    }
  });
}

template <class T>
void sgd_impl(const Tensor& pt, const Tensor& gt, const Tensor& bt, const SgdStep& s) {
  T *p = at<T>(pt), *buf = at<T>(bt);
  const T* grad = at<T>(gt);
  const T sign = s.maximize ? T(-1) : T(1), wd = T(s.weight_decay), mu = T(s.momentum);
  const T damp = T(1 - s.dampening), lr = T(s.lr);
  const bool decay = s.weight_decay != 0, first = s.first, nesterov = s.nesterov;
  parallel_for(0, pt.numel(), kParallelGrain, [=](int64_t b, int64_t e) {  // by value: see adam_impl
    if (!buf) {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) {
        T d = sign * grad[i];
        if (decay) d += wd * p[i];
        p[i] -= lr * d;
      }
      return;
    }
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      T d = sign * grad[i];
      if (decay) d += wd * p[i];
      const T bi = first ? d : buf[i] * mu + damp * d;
      buf[i] = bi;
      d = nesterov ? d + mu * bi : bi;
      p[i] -= lr * d;
    }
  });
}

}  // namespace

void adam_step(const Tensor& p, const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor& vmax,
               const AdamStep& a) {
  KOAN_ASSERT(p.is_contiguous() && grad.is_contiguous() && m.is_contiguous() && v.is_contiguous() &&
              (!vmax.defined() || vmax.is_contiguous()));
  if (p.numel() == 0) return;
  visit_floating(p.dtype(), "adam step", [&]<class T>() {
    if (vmax.defined())
      adam_impl<T, true>(p, grad, m, v, vmax, a);
    else
      adam_impl<T, false>(p, grad, m, v, vmax, a);
  });
}

void sgd_step(const Tensor& p, const Tensor& grad, const Tensor& buf, const SgdStep& s) {
  KOAN_ASSERT(p.is_contiguous() && grad.is_contiguous() && (!buf.defined() || buf.is_contiguous()));
  if (p.numel() == 0) return;
  visit_floating(p.dtype(), "sgd step", [&]<class T>() { sgd_impl<T>(p, grad, buf, s); });
}

}  // namespace koan::kernels
