#include "koan/tensor/random.h"

namespace koan {

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard lock(mu_);
  seed_ = seed;
  key_ = mix(seed ^ 0x6a09e667f3bcc909ULL);
  offset_ = 0;
}

void Generator::set_state(uint64_t seed, uint64_t offset) {
  manual_seed(seed);
  std::lock_guard lock(mu_);
  offset_ = offset;
}

uint64_t Generator::reserve(uint64_t n) {
  std::lock_guard lock(mu_);
  uint64_t first = offset_;
  offset_ += n;
  return first;
}

Generator& default_generator() {
  static Generator g(0x5eed);
  return g;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace koan
