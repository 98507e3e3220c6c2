#include "koan/tensor/allocator.h"

#include <bit>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace koan {
namespace {

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  AllocatorStats stats;
};

Cache& cache() {
  // Leaked on purpose: tensors held in static objects may be freed after main returns.
  static Cache* c = new Cache;
  return *c;
}

}  // namespace

size_t size_class(size_t n) {
  if (n <= kAlignment) return kAlignment;
  size_t p = std::bit_floor(n);  // n in [p, 2p)
  size_t quarter = p / 4;
  if (quarter < kAlignment) return (n + kAlignment - 1) / kAlignment * kAlignment;
  return (n + quarter - 1) / quarter * quarter;
}

void* allocate(size_t nbytes) {
  size_t cls = size_class(nbytes);
  Cache& c = cache();
  {
    std::lock_guard lock(c.mu);
    c.stats.allocs++;
    c.stats.in_use += cls;
    if (c.stats.in_use > c.stats.peak) c.stats.peak = c.stats.in_use;
    auto it = c.free_lists.find(cls);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cached -= cls;
      return p;
    }
    c.stats.os_allocs++;
  }
  void* p = std::aligned_alloc(kAlignment, cls);
  if (!p) {
    // Give the cache back and try once more before reporting failure.
    release_cached_memory();
    p = std::aligned_alloc(kAlignment, cls);
    if (!p) {
      std::lock_guard lock(c.mu);
      c.stats.in_use -= cls;
      throw std::bad_alloc();
    }
  }
  return p;
}

void deallocate(void* p, size_t nbytes) {
  if (!p) return;
  size_t cls = size_class(nbytes);
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  c.stats.in_use -= cls;
  c.stats.cached += cls;
  c.free_lists[cls].push_back(p);
}

AllocatorStats allocator_stats() {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  return c.stats;
}

void reset_peak_memory() {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  c.stats.peak = c.stats.in_use;
}

void release_cached_memory() {
  Cache& c = cache();
  std::unordered_map<size_t, std::vector<void*>> lists;
  {
    std::lock_guard lock(c.mu);
    lists.swap(c.free_lists);
    c.stats.cached = 0;
  }
  for (auto& [cls, ptrs] : lists)
    for (void* p : ptrs) std::free(p);
}

}  // namespace koan
