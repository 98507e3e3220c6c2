// The caching allocator every tensor buffer comes from.
//
// Freed blocks are kept in per-size-class free lists and handed out again, so a training loop
// that allocates the same shapes every step reaches the operating system only in its first step
// (a fresh multi-megabyte buffer costs page faults worth far more than its compute).
//
//   auto s = koan::allocator_stats();   // bytes in use, peak, cached
//   koan::release_cached_memory();      // give cached blocks back to the OS
#pragma once
#include <cstddef>
#include <cstdint>

namespace koan {

inline constexpr size_t kAlignment = 64;  // one cache line, and an AVX-512 vector

struct AllocatorStats {
  size_t in_use = 0;      // bytes handed out (rounded to size classes) and not yet freed
  size_t peak = 0;        // high-water mark of in_use since start or reset_peak
  size_t cached = 0;      // bytes held in free lists, ready for reuse
  uint64_t allocs = 0;    // calls to allocate
  uint64_t os_allocs = 0; // of those, how many reached the operating system
};

// Size classes: four per power of two (at most 25% slack), 64-byte minimum.
size_t size_class(size_t nbytes);
void* allocate(size_t nbytes);
void deallocate(void* p, size_t nbytes);
AllocatorStats allocator_stats();
void reset_peak_memory();
void release_cached_memory();

}  // namespace koan
