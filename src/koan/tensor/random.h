// Seedable, counter-based random numbers.
//
// A Generator is (seed, offset).  Draw k of n numbers is a pure function of (seed, offset + k),
// so filling a tensor in parallel gives the same values whatever the thread count, and saving
// (seed, offset) in a checkpoint resumes the stream exactly.
//
//   koan::manual_seed(42);
//   koan::Generator g(7);
//   Tensor x = koan::randn({3}, {}, &g);
#pragma once
#include <cstdint>
#include <mutex>

namespace koan {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x853c49e6748fea9bULL) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset);
  // Reserves n consecutive counters and returns the first.
  uint64_t reserve(uint64_t n);
  // The 64 random bits for counter c (a pure function of seed and c).  Inline, so a loop that
  // draws one number per element vectorises (dropout's mask was 11 ns an element as a call).
  uint64_t bits(uint64_t counter) const { return mix(key_ + mix(counter + 0x9e3779b97f4a7c15ULL)); }
  uint64_t next_u64() { return bits(reserve(1)); }

 private:
  static uint64_t mix(uint64_t z) {  // splitmix64's finaliser: a bijection with full avalanche
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t seed_ = 0, key_ = 0, offset_ = 0;
  std::mutex mu_;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

// Conversions of random bits to numbers.
inline double bits_to_double(uint64_t b) { return static_cast<double>(b >> 11) * 0x1.0p-53; }
inline float bits_to_float(uint64_t b) { return static_cast<float>(b >> 40) * 0x1.0p-24f; }

}  // namespace koan
