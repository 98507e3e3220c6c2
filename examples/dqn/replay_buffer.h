// Experience replay: a ring of the last `capacity` transitions (s, a, r, s', terminated), from
// which DQN learns on uniformly sampled minibatches (Mnih et al. 2015), breaking the correlation
// between consecutive steps.
//
//   dqn::ReplayBuffer buf(50000, /*obs_dim=*/4);
//   buf.push(obs, action, reward, next_obs, terminated);
//   koan::Generator g(1);
//   dqn::Batch b = buf.sample(64, g);            // tensors ready for the Q network
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace dqn {

// One minibatch: obs and next_obs (B, obs_dim) float32, action (B, 1) int64 (ready for gather),
// reward and terminated (B) float32 (terminated is 1 where the episode really ended, so the
// target does not bootstrap; 0 for time-limit truncation, which does).
struct Batch {
  koan::Tensor obs, action, reward, next_obs, terminated;
};

class ReplayBuffer {
 public:
  ReplayBuffer(int64_t capacity, int64_t obs_dim);

  // Stores one transition, overwriting the oldest once full.
  void push(std::span<const double> obs, int action, double reward, std::span<const double> next_obs,
            bool terminated);
  // `batch_size` transitions drawn uniformly with replacement.  Needs a non-empty buffer.
  Batch sample(int64_t batch_size, koan::Generator& gen) const;

  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }

 private:
  int64_t capacity_, obs_dim_;
  int64_t size_ = 0, next_ = 0;
  std::vector<float> obs_, next_obs_, reward_, terminated_;
  std::vector<int64_t> action_;
};

}  // namespace dqn
