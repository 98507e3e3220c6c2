// Denormal floats flushed to zero, as torch.set_flush_denormal(True).
//
//   koan::set_flush_denormal(true);   // every koan thread: tiny values become 0
//
// Why: x86 arithmetic on denormals (|x| < 1.2e-38 in float32) is about 100x slower than on normal
// numbers.  Training can drift into them (Adam's moments of units that stopped firing decay
// geometrically), and then a cheap in-place multiply dominates a run.  Flushing changes results
// only below float's normal range.
#pragma once

namespace koan {

// Sets flush-to-zero and denormals-are-zero on the calling thread and on every thread of koan's
// pool.  Returns false (and changes nothing) where the CPU has no such mode (non-x86 builds).
bool set_flush_denormal(bool on);
// Whether the calling thread flushes denormals.
bool flush_denormal();

}  // namespace koan
