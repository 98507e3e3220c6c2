#include "koan/core/parallel.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace koan {
namespace {

constexpr int kMaxThreads = 256;

int env_threads(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return 0;
  return std::clamp(std::atoi(v), 0, kMaxThreads);  // OMP_NUM_THREADS="4,2": its first level
}

int default_threads() {
  static const int n = [] {
    int t = env_threads("KOAN_NUM_THREADS");
    if (t == 0) t = env_threads("OMP_NUM_THREADS");
    if (t == 0) t = int(std::min<unsigned>(std::thread::hardware_concurrency(), kMaxThreads));
    return std::max(t, 1);
  }();
  return n;
}

thread_local int t_threads = 0;  // 0: the process default

}  // namespace

void set_num_threads(int n) {
  t_threads = std::clamp(n, 1, kMaxThreads);
  if (t_threads > 1) detail::resize_pool(t_threads - 1);
}

int get_num_threads() { return t_threads ? t_threads : default_threads(); }

bool in_parallel_region() { return detail::in_chunk(); }

namespace detail {
int parallel_chunks(int64_t n, int64_t grain) {
  if (in_chunk()) return 1;  // no nested teams: they oversubscribe the cores
  int64_t by_size = n / std::max<int64_t>(grain, 1);
  return static_cast<int>(std::clamp<int64_t>(by_size, 1, get_num_threads()));
}
}  // namespace detail

}  // namespace koan
