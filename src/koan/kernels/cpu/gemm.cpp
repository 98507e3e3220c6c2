#include "koan/kernels/gemm.h"

#include <oneapi/dnnl/dnnl.h>
#include <cblas.h>

#include <algorithm>
#include <type_traits>

#include "koan/core/error.h"
#include "koan/core/parallel.h"

namespace koan::kernels {
namespace {

// A panel is worth a thread from about 2^20 multiply-adds (~20 us on one AVX-512 core): waking a
// sleeping worker costs tens of microseconds.  Row panels start at multiples of 16 rows and
// column panels at multiples of 64 columns, whole register tiles of the sgemm kernels, and are at
// least twice that, so the library's packing per panel stays small next to its arithmetic.
constexpr int64_t kPanelMacs = int64_t(1) << 20;
constexpr int64_t kRowAlign = 16, kMinRows = 32;
constexpr int64_t kColAlign = 64, kMinCols = 128;

template <class T>
void gemm_one_thread(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                     int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
                                  beta, c, ldc);
    KOAN_CHECK(st == dnnl_success, Error, "gemm: oneDNN sgemm failed with status ", int(st),
               " (m=", m, ", n=", n, ", k=", k, ")");
  } else {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
                n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace

GemmSplit gemm_split(int64_t m, int64_t n, int64_t k, int threads, GemmCut prefer) {
  if (threads <= 1 || in_parallel_region()) return {};
  const int64_t cap = std::min<int64_t>(threads, m * n * k / kPanelMacs);
  auto panels = [&](int64_t by) { return int(std::max<int64_t>(1, std::min(cap, by))); };
  const int64_t by_rows = m / kMinRows, by_cols = n / kMinCols;
  const bool rows = by_rows >= by_cols;
  const GemmSplit chosen{panels(rows ? by_rows : by_cols), rows};
  if (prefer == GemmCut::any) return chosen;
  // A preferred cut may take panels down to one register-tile width: each still holds at least
  // a million multiply-adds (cap), and keeping the weight on its core saves more than it costs.
  const bool pr = prefer == GemmCut::rows;
  const GemmSplit preferred{panels(pr ? m / kRowAlign : n / kColAlign), pr};
  return preferred.panels >= chosen.panels ? preferred : chosen;
}

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc, GemmCut prefer) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  if (m == 0 || n == 0) return;
  detail::pin_openmp_to_one_thread();
  const GemmSplit split = gemm_split(m, n, k, get_num_threads(), prefer);
  if (split.panels <= 1) {
    gemm_one_thread(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const int64_t size = split.by_rows ? m : n, align = split.by_rows ? kRowAlign : kColAlign;
  auto cut = [&](int64_t p) {
    if (p == split.panels) return size;
    const int64_t at = size * p / split.panels;
    return at - at % align;
  };
  parallel_for(0, split.panels, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const int64_t lo = cut(p), len = cut(p + 1) - lo;
      if (split.by_rows)  // rows lo.. of op(A) and of C
        gemm_one_thread(ta, tb, len, n, k, alpha, ta ? a + lo : a + lo * lda, lda, b, ldb, beta,
                        c + lo * ldc, ldc);
      else  // columns lo.. of op(B) and of C
        gemm_one_thread(ta, tb, m, len, k, alpha, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta,
                        c + lo, ldc);
    }
  });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t, GemmCut);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t, GemmCut);

}  // namespace koan::kernels
