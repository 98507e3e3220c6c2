// The per-op overhead of issue 5 in thread CPU time, with heap and caching-allocator counts per
// op: a 1-element add without and with graph recording, and one Linear(16,16) SGD step on an
// 8x16 batch.  CPU time, best of many repetitions, because wall time on the shared 2-core machine
// moves by 2x from minute to minute (koan_compare --only op reports wall time, median).
//
//   build/bench/bench_overhead                 # this thread only (the C runtime stays single-threaded)
//   build/bench/bench_overhead --second-thread # after starting an idle thread, as any 2-thread
//                                              # process is: locked malloc, atomic refcounts
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "koan/koan.h"

namespace {
std::atomic<uint64_t> g_news{0};
}

// Every C++ heap allocation in this process goes through here, so the bench can count them.
void* operator new(size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, std::align_val_t a) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  size_t al = static_cast<size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
// GCC sees a replaced operator delete call free() on what it believes came from the library's
// operator new (-Wmismatched-new-delete); here both sides are the malloc-based ones above.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

using namespace koan;

namespace {

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

template <class T>
void keep(const T& v) {
  asm volatile("" : : "r"(&v) : "memory");
}

// Best-of-`reps` CPU microseconds per call of fn, and heap / koan-allocator allocations per call.
template <class F>
void measure(const char* label, int reps, int calls, F&& fn) {
  for (int i = 0; i < calls; ++i) fn();  // warm-up: caches, free lists, lazily built state
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = thread_cpu_s();
    for (int i = 0; i < calls; ++i) fn();
    best = std::min(best, thread_cpu_s() - t0);
  }
  uint64_t n0 = g_news.load(), a0 = allocator_stats().allocs, o0 = allocator_stats().os_allocs;
  for (int i = 0; i < calls; ++i) fn();
  double news = double(g_news.load() - n0) / calls;
  double allocs = double(allocator_stats().allocs - a0) / calls;
  double os = double(allocator_stats().os_allocs - o0) / calls;
  std::printf("%-34s %8.3f us   new/op %6.2f   koan allocs/op %5.2f   os allocs/op %4.2f\n", label,
              best * 1e6 / calls, news, allocs, os);
}

}  // namespace

int main(int argc, char** argv) {
  bool second = false;
  int reps = 15;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--second-thread")) second = true;
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
  }
  std::thread idle;
  std::atomic<bool> stop{false};
  if (second) idle = std::thread([&] { while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50)); });
  std::printf("threads: %s (thread CPU time, best of %d)\n", second ? "a second thread exists" : "one", reps);
  {
    NoGradGuard no_grad;
    Tensor a = ones({1}), b = ones({1});
    measure("add 1 element, no graph", reps, 20000, [&] { keep(add(a, b)); });
  }
  {
    Tensor a = ones({1}).requires_grad_(), b = ones({1});
    measure("add 1 element, graph recorded", reps, 20000, [&] { keep(add(a, b)); });
  }
  {
    manual_seed(0);
    auto lin = std::make_shared<nn::Linear>(nn::LinearOptions{.in = 16, .out = 16});
    optim::SGD opt(lin->parameters(), {.lr = 0.01});
    Tensor x = randn({8, 16});
    measure("Linear(16,16) fwd+sum+bwd+SGD", reps, 1000, [&] {
      opt.zero_grad();
      Tensor loss = sum(lin->forward(x));
      loss.backward();
      opt.step();
    });
    {
      NoGradGuard ng;
      measure("  forward only (no graph)", reps, 2000, [&] { keep(lin->forward(x)); });
    }
    measure("  forward + sum (graph)", reps, 2000, [&] { keep(sum(lin->forward(x))); });
    measure("  forward + sum + backward", reps, 2000, [&] {
      opt.zero_grad();
      sum(lin->forward(x)).backward();
    });
    measure("  SGD step (gradients in place)", reps, 2000, [&] { opt.step(); });
  }
  stop = true;
  if (idle.joinable()) idle.join();
}
