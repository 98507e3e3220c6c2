#include "koan/core/parallel.h"

#include <omp.h>

#include <algorithm>

namespace koan {

void set_num_threads(int n) { omp_set_num_threads(std::max(1, n)); }
int get_num_threads() { return omp_get_max_threads(); }
bool in_parallel_region() { return omp_in_parallel(); }

namespace detail {
int parallel_chunks(int64_t n, int64_t grain) {
  if (omp_in_parallel()) return 1;  // no nested teams: they oversubscribe the cores
  int64_t by_size = n / std::max<int64_t>(grain, 1);
  return static_cast<int>(std::clamp<int64_t>(by_size, 1, omp_get_max_threads()));
}
}  // namespace detail

}  // namespace koan
