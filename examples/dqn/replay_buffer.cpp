#include "dqn/replay_buffer.h"

#include <algorithm>

#include "koan/core/error.h"
#include "koan/tensor/creation.h"

namespace dqn {

ReplayBuffer::ReplayBuffer(int64_t capacity, int64_t obs_dim)
    : capacity_(capacity), obs_dim_(obs_dim) {
  KOAN_CHECK(capacity > 0 && obs_dim > 0, ValueError, "ReplayBuffer: capacity ", capacity,
             " and obs_dim ", obs_dim, " must be positive");
  obs_.resize(capacity * obs_dim);
  next_obs_.resize(capacity * obs_dim);
  reward_.resize(capacity);
  terminated_.resize(capacity);
  action_.resize(capacity);
}

void ReplayBuffer::push(std::span<const double> obs, int action, double reward, std::span<const double> next_obs,
                        bool terminated) {
  KOAN_CHECK(static_cast<int64_t>(obs.size()) == obs_dim_ && static_cast<int64_t>(next_obs.size()) == obs_dim_,
             ShapeError, "ReplayBuffer.push: observations of ", obs.size(), " and ", next_obs.size(),
             " numbers, expected ", obs_dim_);
  std::copy(obs.begin(), obs.end(), obs_.begin() + next_ * obs_dim_);
  std::copy(next_obs.begin(), next_obs.end(), next_obs_.begin() + next_ * obs_dim_);
  action_[next_] = action;
  reward_[next_] = static_cast<float>(reward);
  terminated_[next_] = terminated ? 1.f : 0.f;
  next_ = (next_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
}

Batch ReplayBuffer::sample(int64_t batch_size, koan::Generator& gen) const {
  KOAN_CHECK(size_ > 0 && batch_size > 0, ValueError, "ReplayBuffer.sample: batch of ", batch_size,
             " from a buffer holding ", size_, " transitions");
  using koan::DType;
  Batch b{koan::empty({batch_size, obs_dim_}, {.dtype = DType::Float32}),
          koan::empty({batch_size, 1}, {.dtype = DType::Int64}),
          koan::empty({batch_size}, {.dtype = DType::Float32}),
          koan::empty({batch_size, obs_dim_}, {.dtype = DType::Float32}),
          koan::empty({batch_size}, {.dtype = DType::Float32})};
  float* o = b.obs.data_ptr<float>();
  float* no = b.next_obs.data_ptr<float>();
  int64_t* a = b.action.data_ptr<int64_t>();
  float* r = b.reward.data_ptr<float>();
  float* t = b.terminated.data_ptr<float>();
  for (int64_t i = 0; i < batch_size; ++i) {
    // Modulo bias is below 2^-40 for any buffer that fits in memory.
    int64_t j = static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(size_));
    std::copy_n(obs_.begin() + j * obs_dim_, obs_dim_, o + i * obs_dim_);
    std::copy_n(next_obs_.begin() + j * obs_dim_, obs_dim_, no + i * obs_dim_);
    a[i] = action_[j];
    r[i] = reward_[j];
    t[i] = terminated_[j];
  }
  return b;
}

}  // namespace dqn
