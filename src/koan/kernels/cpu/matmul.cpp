#include "koan/kernels/matmul.h"

#include "koan/kernels/cpu/loops.h"
#include "koan/kernels/elementwise.h"
#include "koan/kernels/gemm.h"

namespace koan::kernels {
namespace {

// How a 2-D operand is read by GEMM: transposed or not, and its leading dimension.
struct MatView {
  bool trans = false;
  int64_t ld = 0;
  bool ok = false;
};
MatView gemm_view(int64_t rows, int64_t cols, int64_t s_row, int64_t s_col) {
  if (s_col == 1 && (s_row >= std::max<int64_t>(cols, 1) || rows == 1))
    return {false, std::max<int64_t>(s_row, std::max<int64_t>(cols, 1)), true};
  if (s_row == 1 && (s_col >= std::max<int64_t>(rows, 1) || cols == 1))
    return {true, std::max<int64_t>(s_col, std::max<int64_t>(rows, 1)), true};
  return {};
}

Tensor contiguous_copy(const Tensor& t) {
  Tensor c = empty(t.shape(), {.dtype = t.dtype()});
  copy(t, c);
  return c;
}

template <class T>
void gemm_any(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    kernels::gemm<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    // Integer matmul: rare (index arithmetic), so a plain loop.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        T acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
        c[i * ldc + j] = static_cast<T>(alpha * acc + beta * c[i * ldc + j]);
      }
  }
}

}  // namespace

void bmm(const Tensor& a_in, const Tensor& b_in, const Tensor& out, bool accumulate) {
  KOAN_ASSERT(a_in.dim() == 3 && b_in.dim() == 3 && out.dim() == 3 && out.is_contiguous());
  int64_t batch = out.shape()[0], m = out.shape()[1], n = out.shape()[2], k = a_in.shape()[2];
  if (out.numel() == 0) return;
  if (k == 0) {
    if (!accumulate) fill(out, 0);
    return;
  }
  Tensor a = a_in, b = b_in;
  MatView va = gemm_view(m, k, a.strides()[1], a.strides()[2]);
  if (!va.ok) { a = contiguous_copy(a); va = gemm_view(m, k, k, 1); }
  MatView vb = gemm_view(k, n, b.strides()[1], b.strides()[2]);
  if (!vb.ok) { b = contiguous_copy(b); vb = gemm_view(k, n, n, 1); }
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw DTypeError("matmul: not defined for bool tensors");
    } else {
      const T* pa = base_ptr<T>(a) + a.offset();
      const T* pb = base_ptr<T>(b) + b.offset();
      T* pc = base_ptr<T>(out) + out.offset();
      int64_t sa = a.strides()[0], sb = b.strides()[0];
      // One GEMM when the batch folds into rows: a is a stack of row-major blocks and b is shared.
      if (batch > 1 && sb == 0 && !va.trans && sa == m * va.ld) {
        gemm_any<T>(false, vb.trans, batch * m, n, k, T(1), pa, va.ld, pb, vb.ld, accumulate ? T(1) : T(0), pc, n);
        return;
      }
      for (int64_t i = 0; i < batch; ++i)
        gemm_any<T>(va.trans, vb.trans, m, n, k, T(1), pa + i * sa, va.ld, pb + i * sb, vb.ld,
                accumulate ? T(1) : T(0), pc + i * m * n, n);
    }
  });
}

void linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) {
  KOAN_ASSERT(x.dim() == 2 && w.dim() == 2 && y.dim() == 2 && x.is_contiguous() && w.is_contiguous() &&
              y.is_contiguous() && (!bias.defined() || bias.is_contiguous()));
  const int64_t m = x.size(0), k = x.size(1), n = w.size(0);
  if (y.numel() == 0) return;
  visit_floating(x.dtype(), "linear", [&]<class T>() {
    T* yp = base_ptr<T>(y) + y.offset();
    if (k == 0) std::fill(yp, yp + m * n, T(0));
    else
      kernels::gemm<T>(false, true, m, n, k, T(1), base_ptr<T>(x) + x.offset(), k, base_ptr<T>(w) + w.offset(), k,
                       T(0), yp, n, GemmCut::cols);
    if (!bias.defined()) return;
    const T* b = base_ptr<T>(bias) + bias.offset();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) yp[i * n + j] += b[j];
  });
}

void linear_backward(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& gx, const Tensor& gw) {
  KOAN_ASSERT(g.dim() == 2 && g.is_contiguous() && (!gx.defined() || (gx.is_contiguous() && w.is_contiguous())) &&
              (!gw.defined() || (gw.is_contiguous() && x.is_contiguous())));
  const int64_t m = g.size(0), n = g.size(1);
  visit_floating(g.dtype(), "linear backward", [&]<class T>() {
    const T* gp = base_ptr<T>(g) + g.offset();
    if (gx.defined() && gx.numel() > 0) {
      const int64_t k = gx.size(1);
      T* out = base_ptr<T>(gx) + gx.offset();
      if (n == 0) std::fill(out, out + m * k, T(0));
      else kernels::gemm<T>(false, false, m, k, n, T(1), gp, n, base_ptr<T>(w) + w.offset(), k, T(0), out, k);
    }
    if (gw.defined() && gw.numel() > 0) {
      const int64_t k = gw.size(1);
      T* out = base_ptr<T>(gw) + gw.offset();
      if (m == 0) std::fill(out, out + n * k, T(0));
      else kernels::gemm<T>(true, false, n, k, m, T(1), gp, n, base_ptr<T>(x) + x.offset(), k, T(0), out, k,
                            GemmCut::rows);
    }
  });
}

}  // namespace koan::kernels
