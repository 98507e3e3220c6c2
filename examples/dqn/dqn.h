// Deep Q-learning (Mnih et al. 2015) on CartPole-v0, with the Double DQN target as an option
// (van Hasselt et al. 2016).
//
//   dqn::DqnConfig cfg{.seed = 1, .episodes = 600, .save_path = "dqn_seed1.koan"};
//   dqn::DqnResult r = dqn::train_dqn(cfg);       // r.solved_episode, r.best (the best agent)
//   auto agent = koan::train::load_model("dqn_seed1.koan");
//   dqn::EvalResult e = dqn::evaluate(*agent, 100, /*seed=*/12345);   // greedy episodes
//
// The Q network maps the 4 observations to one value per action.  Each environment step:
//   act   ε-greedy on Q(s, ·) (ε falls linearly from eps_start to eps_end),
//   store (s, a, r, s', terminated) in the replay buffer,
//   learn on a minibatch:  y = r + γ (1 - terminated) Q_target(s', a*),
//           a* = argmax_a Q_target(s', a)  (DQN)   or   argmax_a Q(s', a)  (Double DQN),
//           loss = Huber(Q(s, a) - y), gradient norm clipped, one Adam step,
//   and move the target network a fraction tau toward Q (Polyak averaging), or, with tau = 0,
//   copy Q into it every `target_update_every` steps.
// A time-limit truncation (200 steps) is not a terminal state: its target still bootstraps,
// otherwise the same state would be worth ~100 one time and 1 another (the usual reason DQN on
// CartPole does not stay solved).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dqn/cartpole.h"
#include "koan/nn/container.h"
#include "koan/tensor/tensor.h"

namespace dqn {

// What train_dqn reports after each episode.
struct EpisodeLog {
  int episode = 0;  // 1-based
  double reward = 0, moving_avg = 0, epsilon = 0, lr = 0;
  int64_t env_steps = 0;
  double check = -1;  // greedy check mean this episode, -1 when none ran
  double best_check = -1;
};

struct DqnConfig {
  uint64_t seed = 0;  // network init, environment, exploration and replay sampling
  int episodes = 1000;
  std::vector<int64_t> hidden = {128, 128};
  bool double_dqn = true;
  double gamma = 0.98;  // horizon ~50 steps; 0.99 let the solved agent drift away again
  double lr = 1e-3;     // Adam
  double lr_end = 1e-5; // geometric decay from lr to lr_end over the run's episodes
  // Once the 100-episode average first reaches 195, every later lr is multiplied by this: a solved
  // agent then changes slowly, which keeps it from unlearning the task (1: off).
  double solved_lr_factor = 0.1;
  int64_t batch_size = 64;
  int64_t buffer_capacity = 200000;  // every transition of a 1000-episode run
  int64_t learning_starts = 1000;  // steps of the ε schedule's start before the first update
  int64_t target_update_every = 500;  // steps between hard copies Q -> target (when target_tau is 0)
  double target_tau = 0.005;  // > 0: soft updates after every learning step, target += tau (Q - target)
  double eps_start = 1.0;
  double eps_end = 0.01;
  int64_t eps_decay_steps = 10000;
  double huber_delta = 1.0;
  double clip_norm = 10.0;
  // Greedy checks for keeping the best agent: every `eval_every` episodes once the 100-episode
  // average reaches `eval_from`, `eval_episodes` greedy episodes on a fixed set of starts; a
  // check scoring >= 195 is confirmed on `confirm_episodes` starts (the same first ones), and
  // the confirmed mean is the agent's score.
  int eval_every = 10;
  int eval_episodes = 20;
  int confirm_episodes = 100;
  double eval_from = 150;
  // Flush denormal floats to zero during the run (torch.set_flush_denormal(True)).  Adam's moment
  // estimates for weights that stop receiving gradient (dead ReLUs) decay geometrically through
  // the denormal range, where x86 arithmetic is ~100x slower: without this, the in-place
  // multiplies of Adam's step dominate the run.
  bool flush_denormals = true;
  // koan's threads during the run.  The ops here are tiny; with more than one thread every
  // matrix product wakes the others, which on a busy machine made a test 35x slower.
  int threads = 1;
  std::string save_path;  // the best agent as a koan model file; empty: kept in memory only
  // Called after every episode (progress printing); may be empty.
  std::function<void(const EpisodeLog&)> on_episode;
};

struct DqnResult {
  std::vector<double> rewards;     // per episode
  std::vector<double> moving_avg;  // mean of the last 100 episodes (of all so far before 100)
  int solved_episode = -1;  // first episode whose 100-episode average (>= 100 episodes) is >= 195
  bool stayed_solved = false;  // the average never fell below 195 after that
  int episodes_below_after_solved = 0;
  std::vector<std::pair<int, double>> checks;  // (episode, greedy check mean)
  std::shared_ptr<koan::nn::Sequential> best;  // the agent of the best check (or the last one)
  int best_episode = -1;
  double best_check = -1;
  int64_t env_steps = 0, updates = 0;
  // Wall-clock seconds, and the training thread's CPU seconds for acting (network + environment)
  // and learning (sample, targets, forward, backward, clip, Adam): the CPU figures are the ones
  // to trust on a shared machine.
  double seconds = 0, update_seconds = 0, act_seconds = 0;
  double update_cpu_seconds = 0, act_cpu_seconds = 0;
};

struct EvalResult {
  std::vector<double> rewards;
  double mean = 0, min = 0;
};

// The Q network as a model-file architecture: Linear/ReLU layers obs -> hidden... -> actions.
nlohmann::json q_network_architecture(const std::vector<int64_t>& hidden);
std::shared_ptr<koan::nn::Sequential> make_q_network(const std::vector<int64_t>& hidden);

// argmax_a Q(s, a) for one state (ties to the lower action), without recording a graph.
int greedy_action(koan::nn::Module& q, const CartPoleState& s);

// The regression targets y = r + γ (1 - terminated) Q_target(s', a*) for a batch, with a* the
// argmax of next_q_online (Double DQN) when it is defined, else of next_q_target (DQN).
// next_q_*: (B, actions); reward, terminated: (B).  Pure tensor math, no graph.
koan::Tensor td_targets(const koan::Tensor& reward, const koan::Tensor& terminated, const koan::Tensor& next_q_target,
                        const koan::Tensor& next_q_online, double gamma);

DqnResult train_dqn(const DqnConfig& config);

// CartPole-v0's "solved" rule applied to a run's episode rewards: the 100-episode moving average
// (of all episodes so far before the 100th), the first episode (1-based, at least the 100th)
// where it is >= 195, and how many later episodes it spent below 195.
struct SolveRecord {
  std::vector<double> moving_avg;
  int solved_episode = -1;
  int episodes_below_after_solved = 0;
  bool stayed_solved() const { return solved_episode > 0 && episodes_below_after_solved == 0; }
};
SolveRecord solve_record(const std::vector<double>& rewards, int window = 100, double threshold = 195);

// Greedy episodes of `q` on CartPole-v0 started from `seed`'s draws.
EvalResult evaluate(koan::nn::Module& q, int episodes, uint64_t seed);

// Independent seeds for the run's random streams: stream k of run seed s.
uint64_t stream_seed(uint64_t seed, uint64_t stream);

}  // namespace dqn
