#include "koan/kernels/scan.h"

#include <vector>

#include "koan/kernels/cpu/loops.h"

namespace koan::kernels {
namespace {

template <class T, class O>
void cumsum_typed(const Tensor& in, int64_t dim, bool reverse, const Tensor& out) {
  using A = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  int64_t outer = 1, n = in.dim() ? in.shape()[dim] : 1, inner = 1;
  for (int64_t d = 0; d < in.dim(); ++d) {
    if (d < dim) outer *= in.shape()[d];
    else if (d > dim) inner *= in.shape()[d];
  }
  const T* x = in.data_ptr<T>();
  O* y = out.data_ptr<O>();
  int64_t cols = outer * inner;
  int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
  // Columns (o, c) are independent scans; a thread takes a run of them, inner loop along memory.
  parallel_for(0, cols, grain, [&](int64_t b, int64_t e) {
    std::vector<A> acc;
    while (b < e) {
      int64_t o = b / inner, c0 = b % inner, c1 = std::min(inner, c0 + (e - b)), w = c1 - c0;
      acc.assign(w, A(0));
      const T* p = x + o * n * inner + c0;
      O* q = y + o * n * inner + c0;
      for (int64_t t = 0; t < n; ++t) {
        int64_t i = reverse ? n - 1 - t : t;
        for (int64_t c = 0; c < w; ++c) {
          acc[c] += static_cast<A>(p[i * inner + c]);
          q[i * inner + c] = static_cast<O>(acc[c]);
        }
      }
      b += w;
    }
  });
}

}  // namespace

void cumsum(const Tensor& in, int64_t dim, bool reverse, const Tensor& out) {
  KOAN_ASSERT(in.is_contiguous() && out.is_contiguous() && in.shape() == out.shape());
  if (in.numel() == 0) return;
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) cumsum_typed<T, T>(in, dim, reverse, out);
    else cumsum_typed<T, int64_t>(in, dim, reverse, out);
  });
}

}  // namespace koan::kernels
