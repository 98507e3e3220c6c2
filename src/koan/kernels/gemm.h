// Row-major GEMM, C = alpha op(A) op(B) + beta C: oneDNN's sgemm (float32) and OpenBLAS's dgemm
// (float64), each on one thread, with a large product cut into panels of C rows (or columns)
// that koan's pool runs side by side.  The libraries' own OpenMP threading stays off (core/
// compute_pool.h): one pool, and no second team starting inside or beside it.
//
//   kernels::gemm<float>(false, true, m, n, k, 1.f, a, k, b, k, 0.f, c, n);
//
// Each element of C is one library call's dot product whichever panel holds it, so the result
// does not depend on the split (tests/ops/gemm_test.cpp checks it bit for bit).
#pragma once
#include <cstdint>

namespace koan::kernels {

// Which way a split product cuts C when either way gives as many panels.  A layer's weight cut the
// same way in its forward product, its weight gradient and the optimizer's step (which splits a
// parameter into contiguous halves at 2 threads) stays in one core's cache from step to step;
// moving it between the cores costs more than its arithmetic on this kind of machine (an SGD step
// over a 784 x 256 weight: 30 us when it stays, 160 us when it moves).  cols: C's columns are the
// weight's rows (y = x W^T); rows: C is the weight's gradient.
enum class GemmCut { any, rows, cols };

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc, GemmCut prefer = GemmCut::any);

// How gemm cuts an m x n x k product for `threads` threads: `panels` blocks of C rows (by_rows)
// or columns.  One panel below about a million multiply-adds per thread, or inside a parallel
// region, where the caller's own split is the parallelism.
struct GemmSplit {
  int panels = 1;
  bool by_rows = true;
};
GemmSplit gemm_split(int64_t m, int64_t n, int64_t k, int threads, GemmCut prefer = GemmCut::any);

}  // namespace koan::kernels
