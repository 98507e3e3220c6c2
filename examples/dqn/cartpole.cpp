#include "dqn/cartpole.h"

#include <cmath>

#include "koan/core/error.h"

namespace dqn {

CartPole::CartPole(uint64_t seed, CartPoleConfig config) : cfg_(config), gen_(seed) {}

CartPoleState CartPole::reset() {
  CartPoleState s;
  for (double& v : s) v = -cfg_.reset_bound + 2 * cfg_.reset_bound * koan::bits_to_double(gen_.next_u64());
  return reset(s);
}

CartPoleState CartPole::reset(const CartPoleState& state) {
  state_ = state;
  steps_ = 0;
  running_ = true;
  return state_;
}

StepResult CartPole::step(int action) {
  KOAN_CHECK(action == 0 || action == 1, ValueError, "CartPole.step: action ", action,
             " is not 0 (push left) or 1 (push right)");
  KOAN_CHECK(running_, ValueError, "CartPole.step: the episode ended after ", steps_,
             " steps (or never started); call reset() first");
  auto [x, x_dot, theta, theta_dot] = state_;
  // gym's cartpole.py, term for term and in the same order, so the rounding matches too.
  const double total_mass = cfg_.masspole + cfg_.masscart;
  const double polemass_length = cfg_.masspole * cfg_.length;
  const double force = action == 1 ? cfg_.force_mag : -cfg_.force_mag;
  const double costheta = std::cos(theta);
  const double sintheta = std::sin(theta);
  const double temp = (force + polemass_length * theta_dot * theta_dot * sintheta) / total_mass;
  const double thetaacc = (cfg_.gravity * sintheta - costheta * temp) /
                          (cfg_.length * (4.0 / 3.0 - cfg_.masspole * costheta * costheta / total_mass));
  const double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
  // Explicit Euler: positions move with the old velocities.
  x = x + cfg_.tau * x_dot;
  x_dot = x_dot + cfg_.tau * xacc;
  theta = theta + cfg_.tau * theta_dot;
  theta_dot = theta_dot + cfg_.tau * thetaacc;
  state_ = {x, x_dot, theta, theta_dot};
  ++steps_;

  StepResult r;
  r.observation = state_;
  r.reward = 1.0;
  r.terminated = x < -cfg_.x_threshold || x > cfg_.x_threshold || theta < -cfg_.theta_threshold ||
                 theta > cfg_.theta_threshold;
  r.truncated = !r.terminated && steps_ >= cfg_.max_steps;
  running_ = !(r.terminated || r.truncated);
  return r;
}

}  // namespace dqn
