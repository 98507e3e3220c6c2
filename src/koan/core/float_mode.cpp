#include "koan/core/float_mode.h"

#include <omp.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace koan {

#if defined(__SSE2__)
namespace {
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bit 15 flush-to-zero, bit 6 denormals-are-zero

void set_this_thread(bool on) { _mm_setcsr(on ? (_mm_getcsr() | kFtzDaz) : (_mm_getcsr() & ~kFtzDaz)); }
}  // namespace

bool set_flush_denormal(bool on) {
  set_this_thread(on);
  // The control register is per thread: set it in each pool thread too.  Threads the pool starts
  // later copy it from the thread that starts them.
  const int n = omp_get_max_threads();
#pragma omp parallel num_threads(n)
  set_this_thread(on);
  return true;
}

bool flush_denormal() { return (_mm_getcsr() & kFtzDaz) == kFtzDaz; }
#else
bool set_flush_denormal(bool) { return false; }
bool flush_denormal() { return false; }
#endif

}  // namespace koan
