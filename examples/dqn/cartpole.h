// CartPole-v0: the classic-control cart-pole of OpenAI Gym, written out in C++ with the same
// constants and the same explicit Euler step, so its episodes match gym's for the same start.
//
//   dqn::CartPole env(/*seed=*/7);
//   auto obs = env.reset();                       // 4 numbers uniform in [-0.05, 0.05]
//   while (true) {
//     auto s = env.step(obs[2] > 0 ? 1 : 0);      // 0 pushes left, 1 pushes right
//     obs = s.observation;
//     if (s.terminated || s.truncated) break;      // pole fell / cart left / 200 steps
//   }
//
// State (x, x_dot, theta, theta_dot): cart position (m) and velocity, pole angle from upright
// (rad) and its rate.  Reward 1 for every step taken, the failing step included (as gym).
#pragma once
#include <array>
#include <cstdint>

#include "koan/tensor/random.h"

namespace dqn {

struct CartPoleConfig {
  double gravity = 9.8;
  double masscart = 1.0;
  double masspole = 0.1;
  double length = 0.5;  // half the pole's length
  double force_mag = 10.0;
  double tau = 0.02;  // seconds per step
  double theta_threshold = 12.0 * 2.0 * 3.14159265358979323846 / 360.0;  // 12 degrees
  double x_threshold = 2.4;
  int max_steps = 200;  // CartPole-v0's TimeLimit
  double reset_bound = 0.05;
};

using CartPoleState = std::array<double, 4>;

struct StepResult {
  CartPoleState observation;
  double reward = 0;
  bool terminated = false;  // the pole fell past 12 degrees or the cart left [-2.4, 2.4]
  bool truncated = false;   // the time limit ended the episode with the pole still up
};

class CartPole {
 public:
  explicit CartPole(uint64_t seed, CartPoleConfig config = {});

  // A new episode from a state drawn uniformly in [-reset_bound, reset_bound]^4.
  CartPoleState reset();
  // A new episode from a given state (tests, replays).
  CartPoleState reset(const CartPoleState& state);
  // One Euler step of tau seconds under a push left (0) or right (1).  Calling it before
  // reset() or after the episode ended is a koan::ValueError, as is any other action.
  StepResult step(int action);

  const CartPoleState& state() const { return state_; }
  int steps() const { return steps_; }
  const CartPoleConfig& config() const { return cfg_; }

  static constexpr int kObservations = 4;
  static constexpr int kActions = 2;

 private:
  CartPoleConfig cfg_;
  koan::Generator gen_;
  CartPoleState state_{};
  int steps_ = 0;
  bool running_ = false;
};

}  // namespace dqn
