#include "koan/tensor/random.h"

namespace koan {
namespace {
uint64_t mix(uint64_t z) {  // splitmix64's finaliser: a bijection with full avalanche
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

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

uint64_t Generator::bits(uint64_t counter) const {
  return mix(key_ + mix(counter + 0x9e3779b97f4a7c15ULL));
}

Generator& default_generator() {
  static Generator g(0x5eed);
  return g;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace koan
