#include "koan/core/float_mode.h"

#include <atomic>

#include "koan/core/compute_pool.h"

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace koan {

#if defined(__SSE2__)
namespace {
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bit 15 flush-to-zero, bit 6 denormals-are-zero

void set_this_thread(bool on) { _mm_setcsr(on ? (_mm_getcsr() | kFtzDaz) : (_mm_getcsr() & ~kFtzDaz)); }

// The last mode asked for (-1: never asked), applied by pool workers started later: they may be
// started by a thread that never called set_flush_denormal.
std::atomic<int> g_mode{-1};
void apply_mode_on_start() {
  const int mode = g_mode.load();
  if (mode >= 0) set_this_thread(mode == 1);
}
}  // namespace

bool set_flush_denormal(bool on) {
  // The control register is per thread: set it here and on every koan pool worker.
  g_mode.store(on ? 1 : 0);
  detail::set_worker_start_hook(apply_mode_on_start);
  set_this_thread(on);
  detail::run_on_every_worker([](void* ctx, int) { set_this_thread(*static_cast<bool*>(ctx)); }, &on);
  return true;
}

bool flush_denormal() { return (_mm_getcsr() & kFtzDaz) == kFtzDaz; }
#else
bool set_flush_denormal(bool) { return false; }
bool flush_denormal() { return false; }
#endif

}  // namespace koan
