// One thread pool for everything (koan's own, core/compute_pool.h), and the size below which work
// stays on one thread.
//
//   koan::set_num_threads(2);
//   koan::parallel_for(0, n, 4096, [&](int64_t begin, int64_t end) { ... });
//
// Chunks are split by index, never by timing, so results are identical at any thread count.
// Which thread runs a chunk is decided at run time (the caller runs its share and whatever a busy
// worker has not started), so a chunk must not depend on the thread it runs on.  The first
// exception thrown by a chunk reaches the caller.  A parallel_for inside a chunk runs inline.
#pragma once
#include <cstdint>

#include "koan/core/compute_pool.h"

namespace koan {

// The thread count is per calling thread, as OpenMP's was: a thread starts with the process
// default (KOAN_NUM_THREADS, else OMP_NUM_THREADS, else the number of cores), and a data-loader
// thread can run its ops on one thread while the main thread uses the pool.  set_num_threads(n)
// with n > 1 resizes the pool to n - 1 workers (the caller is the n-th); n = 1 leaves the workers
// asleep for other threads.
void set_num_threads(int n);
int get_num_threads();
// True inside a parallel_for chunk, on whichever thread runs it.
bool in_parallel_region();

// Runs its scope on n threads and restores the previous count however the scope ends.
//   { koan::NumThreadsGuard one(1); tiny_model_step(); }
class NumThreadsGuard {
 public:
  explicit NumThreadsGuard(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~NumThreadsGuard() { set_num_threads(saved_); }
  NumThreadsGuard(const NumThreadsGuard&) = delete;
  NumThreadsGuard& operator=(const NumThreadsGuard&) = delete;

 private:
  int saved_;
};

// Below this many elements an elementwise loop stays on one thread: waking threads costs more.
inline constexpr int64_t kParallelGrain = 32768;

namespace detail {
int parallel_chunks(int64_t n, int64_t grain);
}

// Runs fn(begin, end) over [begin, end) split into at most num_threads contiguous chunks of at
// least `grain` elements each.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& fn) {
  int64_t n = end - begin;
  if (n <= 0) return;
  if (n / 2 < grain) {  // one chunk whatever the thread count (n < 2 grain): no thread-local reads
    fn(begin, end);
    return;
  }
  int chunks = detail::parallel_chunks(n, grain);
  if (chunks <= 1) {
    fn(begin, end);
    return;
  }
  // Large chunks start at multiples of 64 elements: a vectorised loop then puts every element in
  // the same lane position (vector body, not scalar tail) whatever the thread count, which
  // matters where the vector and scalar versions of a function (libmvec's exp) round differently.
  auto cut = [&](int c) {
    if (c == chunks) return end;
    int64_t off = n * c / chunks;
    if (n / chunks >= 4096) off -= off % 64;
    return begin + off;
  };
  auto run = [&](int c) { fn(cut(c), cut(c + 1)); };
  using Run = decltype(run);
  detail::run_chunks(chunks, [](void* ctx, int c) { (*static_cast<Run*>(ctx))(c); }, &run);
}

}  // namespace koan
