// kernels::gemm cut into panels over the pool: the split result equals the one-call result bit
// for bit, and both match a plain double-precision loop, for row and column panels whose sizes
// are not multiples of the panel alignment, every transpose combination, padded leading
// dimensions, alpha and beta; at 1, 2 and 3 threads.  Then matmul and a single-sample conv (the
// ops that reach the split) agree across thread counts.
#include <random>
#include <vector>

#include "koan/kernels/gemm.h"
#include "support/testing.h"

namespace koan {
namespace {

struct GemmCase {
  int64_t m, n, k;
  bool by_rows;  // the split gemm_split must choose at 2 threads
};

// Row panels (m large), column panels (n large, m small), and tails that are not multiples of
// the 16-row / 64-column alignment.
const GemmCase kCases[] = {{301, 77, 97, true}, {40, 333, 160, false}, {515, 130, 33, true},
                           {33, 1027, 70, false}};

template <class T>
std::vector<T> random_vec(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> d(-1, 1);
  std::vector<T> v(n);
  for (auto& x : v) x = T(d(rng));
  return v;
}

template <class T>
void check_split_equals_unsplit() {
  std::mt19937 rng(7);
  NumThreadsGuard restore(get_num_threads());
  for (const GemmCase& gc : kCases) {
    const kernels::GemmSplit split = kernels::gemm_split(gc.m, gc.n, gc.k, 2);
    ASSERT_EQ(split.panels, 2) << gc.m << "x" << gc.n << "x" << gc.k;
    ASSERT_EQ(split.by_rows, gc.by_rows) << gc.m << "x" << gc.n << "x" << gc.k;
    ASSERT_EQ(kernels::gemm_split(gc.m, gc.n, gc.k, 1).panels, 1);
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const int64_t m = gc.m, n = gc.n, k = gc.k;
        // Stored shapes: A is m x k (k x m transposed), B k x n (n x k); leading dims padded.
        const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, lda = a_cols + 3;
        const int64_t b_rows = tb ? n : k, b_cols = tb ? k : n, ldb = b_cols + 5;
        const int64_t ldc = n + 2;
        const auto a = random_vec<T>(a_rows * lda, rng), b = random_vec<T>(b_rows * ldb, rng);
        const auto c0 = random_vec<T>(m * ldc, rng);
        const T alpha = T(0.5), beta = T(0.25);
        auto run = [&](int threads) {
          set_num_threads(threads);
          std::vector<T> c = c0;
          kernels::gemm<T>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
          return c;
        };
        const auto one = run(1), two = run(2), three = run(3);
        const std::string where = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                                  (ta ? " A^T" : "") + (tb ? " B^T" : "");
        ASSERT_EQ(one, two) << where;
        ASSERT_EQ(one, three) << where;
        // Against the definition, and padding left untouched.
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double acc = 0;
            for (int64_t p = 0; p < k; ++p)
              acc += double(ta ? a[p * lda + i] : a[i * lda + p]) * double(tb ? b[j * ldb + p] : b[p * ldb + j]);
            const double want = double(alpha) * acc + double(beta) * double(c0[i * ldc + j]);
            const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
            ASSERT_NEAR(double(two[i * ldc + j]), want, tol)
                << where << " at " << i << "," << j;
          }
          for (int64_t j = n; j < ldc; ++j) ASSERT_EQ(two[i * ldc + j], c0[i * ldc + j]) << where;
        }
      }
  }
}

TEST(GemmKernel, PanelSplitEqualsOneCallFloat32) { check_split_equals_unsplit<float>(); }
TEST(GemmKernel, PanelSplitEqualsOneCallFloat64) { check_split_equals_unsplit<double>(); }

TEST(GemmKernel, SmallProductsAndParallelRegionsStayOnOneThread) {
  EXPECT_EQ(kernels::gemm_split(64, 16, 16, 2).panels, 1) << "a Linear(16,16) step's product";
  EXPECT_EQ(kernels::gemm_split(20, 20, 100000, 8).panels, 1) << "too few rows and columns";
  EXPECT_EQ(kernels::gemm_split(1024, 1024, 1024, 8).panels, 8);
  EXPECT_EQ(kernels::gemm_split(1024, 1024, 1024, 1).panels, 1);
  NumThreadsGuard restore(get_num_threads());
  set_num_threads(2);
  std::vector<int> panels(2, 0);
  parallel_for(0, 2, 1, [&](int64_t b, int64_t) {
    panels[b] = kernels::gemm_split(1024, 1024, 1024, get_num_threads()).panels;
  });
  EXPECT_EQ(panels, std::vector<int>({1, 1})) << "one level of parallelism: no split inside a chunk";
}

// A layer's products cut along its weight (GemmCut): the forward's columns are the weight's rows,
// and its gradient is cut by rows.  The preference wins only where it gives as many panels, and
// may go down to one register tile (64 columns, 16 rows) per panel.
TEST(GemmKernel, PreferredCutFollowsTheWeightWhereItSplitsAsFar) {
  using kernels::GemmCut;
  auto split = [](int64_t m, int64_t n, int64_t k, GemmCut prefer) {
    auto s = kernels::gemm_split(m, n, k, 2, prefer);
    return std::pair<int, bool>(s.panels, s.by_rows);
  };
  using P = std::pair<int, bool>;
  // The MLP's first layer at batch 64: either cut gives 2 panels.
  EXPECT_EQ(split(64, 256, 784, GemmCut::any), P(2, true));
  EXPECT_EQ(split(64, 256, 784, GemmCut::cols), P(2, false));
  // The CNN's dense layer: 128 output columns are two 64-column panels only when preferred.
  EXPECT_EQ(split(64, 128, 1600, GemmCut::any), P(2, true));
  EXPECT_EQ(split(64, 128, 1600, GemmCut::cols), P(2, false));
  // Its weight gradient (128 x 1600): columns by default, rows when preferred.
  EXPECT_EQ(split(128, 1600, 64, GemmCut::any), P(2, false));
  EXPECT_EQ(split(128, 1600, 64, GemmCut::rows), P(2, true));
  // Too narrow for two column panels: the automatic cut stays.
  EXPECT_EQ(split(256, 100, 512, GemmCut::cols), P(2, true));
  // Too small to split at all, whichever cut is preferred.
  EXPECT_EQ(split(64, 128, 64, GemmCut::cols).first, 1);
  EXPECT_EQ(kernels::gemm_split(64, 256, 784, 1, GemmCut::cols).panels, 1);
}

TEST(GemmKernel, PreferredCutEqualsOneCall) {
  using kernels::GemmCut;
  std::mt19937 rng(11);
  NumThreadsGuard restore(get_num_threads());
  struct Case {
    bool ta, tb;
    int64_t m, n, k;
    GemmCut prefer;
  };
  // linear's forward (x W^T, cut by W's rows) and weight gradient (g^T x, cut by rows), with
  // sizes that are not multiples of the panel alignment.
  for (const Case& c : {Case{false, true, 64, 130, 1600, GemmCut::cols}, Case{false, true, 70, 256, 784, GemmCut::cols},
                        Case{true, false, 130, 1600, 64, GemmCut::rows}, Case{true, false, 50, 700, 96, GemmCut::rows}}) {
    const auto split = kernels::gemm_split(c.m, c.n, c.k, 2, c.prefer);
    ASSERT_EQ(split.panels, 2);
    ASSERT_EQ(split.by_rows, c.prefer == GemmCut::rows);
    const int64_t lda = c.ta ? c.m : c.k, ldb = c.tb ? c.k : c.n;
    const auto a = random_vec<float>(c.m * c.k, rng), b = random_vec<float>(c.k * c.n, rng);
    auto run = [&](int threads) {
      set_num_threads(threads);
      std::vector<float> out(c.m * c.n);
      kernels::gemm<float>(c.ta, c.tb, c.m, c.n, c.k, 1.f, a.data(), lda, b.data(), ldb, 0.f, out.data(), c.n,
                           c.prefer);
      return out;
    };
    const auto one = run(1), two = run(2);
    ASSERT_EQ(one, two) << c.m << "x" << c.n << "x" << c.k;
    for (int64_t i = 0; i < c.m; i += 7)
      for (int64_t j = 0; j < c.n; j += 5) {
        double acc = 0;
        for (int64_t p = 0; p < c.k; ++p)
          acc += double(c.ta ? a[p * lda + i] : a[i * lda + p]) * double(c.tb ? b[j * ldb + p] : b[p * ldb + j]);
        ASSERT_NEAR(double(two[i * c.n + j]), acc, 1e-3) << i << "," << j;
      }
  }
}

TEST(GemmKernel, MatmulAndSingleSampleConvAgreeAcrossThreadCounts) {
  NumThreadsGuard restore(get_num_threads());
  Generator g(3);
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor a = randn({300, 200}, {.dtype = dt}, &g), b = randn({150, 200}, {.dtype = dt}, &g);
    Tensor x = randn({1, 16, 40, 40}, {.dtype = dt}, &g), w = randn({64, 16, 3, 3}, {.dtype = dt}, &g);
    auto run = [&](int threads) {
      set_num_threads(threads);
      Tensor xg = x.detach().requires_grad_(true), wg = w.detach().requires_grad_(true);
      Tensor y = conv2d(xg, wg, Tensor(), 1, 1);
      y.sum().backward();
      return std::vector<Tensor>{matmul(a, b.t()), matmul(a.t(), a), y, xg.grad(), wg.grad()};
    };
    auto one = run(1), two = run(2);
    for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(equal(one[i], two[i])) << i << " " << name(dt);
  }
}

}  // namespace
}  // namespace koan
