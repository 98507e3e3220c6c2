#include "dqn/dqn.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "dqn/replay_buffer.h"
#include "koan/autograd/grad_mode.h"
#include "koan/core/error.h"
#include "koan/core/float_mode.h"
#include "koan/core/parallel.h"
#include "koan/nn/loss.h"
#include "koan/ops/index.h"
#include "koan/ops/inplace.h"
#include "koan/ops/operators.h"
#include "koan/ops/reduce.h"
#include "koan/optim/adam.h"
#include "koan/optim/clip_grad.h"
#include "koan/tensor/creation.h"
#include "koan/train/model_file.h"

namespace dqn {

using koan::Tensor;
namespace nn = koan::nn;

namespace {

constexpr int kWindow = 100;        // the moving average of CartPole-v0's "solved" rule
constexpr double kSolved = 195.0;   // ... and its threshold

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of the calling thread (the run is single-threaded; other jobs do not inflate it).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void check_config(const DqnConfig& c) {
  auto bad = [](const char* what, double v) {
    KOAN_CHECK(false, ValueError, "train_dqn: ", what, " = ", v, " is out of range");
  };
  if (c.episodes < 1) bad("episodes", c.episodes);
  if (c.threads < 1) bad("threads", c.threads);
  if (!(c.gamma >= 0 && c.gamma <= 1)) bad("gamma", c.gamma);
  if (!(c.lr > 0) || !(c.lr_end > 0)) bad("lr (and lr_end)", c.lr);
  if (!(c.solved_lr_factor > 0 && c.solved_lr_factor <= 1)) bad("solved_lr_factor", c.solved_lr_factor);
  if (c.batch_size < 1) bad("batch_size", static_cast<double>(c.batch_size));
  if (c.buffer_capacity < c.batch_size) bad("buffer_capacity (below batch_size)", static_cast<double>(c.buffer_capacity));
  if (!(c.target_tau >= 0 && c.target_tau <= 1)) bad("target_tau", c.target_tau);
  if (c.target_update_every < 1) bad("target_update_every", static_cast<double>(c.target_update_every));
  if (!(c.eps_end >= 0 && c.eps_end <= c.eps_start && c.eps_start <= 1)) bad("eps_start/eps_end", c.eps_start);
  if (c.eps_decay_steps < 1) bad("eps_decay_steps", static_cast<double>(c.eps_decay_steps));
  if (!(c.huber_delta > 0)) bad("huber_delta", c.huber_delta);
  if (!(c.clip_norm > 0)) bad("clip_norm", c.clip_norm);
  if (c.eval_every < 1 || c.eval_episodes < 1 || c.confirm_episodes < 0)
    bad("eval_every/eval_episodes/confirm_episodes", c.eval_every);
  for (int64_t h : c.hidden)
    if (h < 1) bad("a hidden width", static_cast<double>(h));
}

Tensor observation_tensor(const CartPoleState& s) {
  return koan::from_vector<float>({static_cast<float>(s[0]), static_cast<float>(s[1]), static_cast<float>(s[2]),
                                   static_cast<float>(s[3])},
                                  koan::Shape{1, CartPole::kObservations});
}

// Keeps the greedy check's winner: in memory and, when asked, as a model file.
struct BestAgent {
  std::shared_ptr<nn::Sequential> net;
  int episode = -1;
  double check = -1, moving_avg = -1;

  bool offer(const nn::Sequential& q, int ep, double check_mean, double ma) {
    // Ties (several checkpoints at 200) go to the one the training average rates higher.
    if (net && (check_mean < check || (check_mean == check && ma <= moving_avg))) return false;
    net = std::dynamic_pointer_cast<nn::Sequential>(q.clone());
    episode = ep, check = check_mean, moving_avg = ma;
    return true;
  }
};

// Flushes denormal floats to zero for its scope (koan::set_flush_denormal), then restores the
// previous mode.
class FlushDenormals {
 public:
  explicit FlushDenormals(bool on) : saved_(koan::flush_denormal()) { koan::set_flush_denormal(on); }
  ~FlushDenormals() { koan::set_flush_denormal(saved_); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  bool saved_ = false;
};


}  // namespace

uint64_t stream_seed(uint64_t seed, uint64_t stream) {
  // splitmix64 of (seed, stream): nearby seeds give unrelated streams.
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (stream + 1) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

nlohmann::json q_network_architecture(const std::vector<int64_t>& hidden) {
  nlohmann::json layers = nlohmann::json::array();
  int64_t in = CartPole::kObservations;
  for (int64_t h : hidden) {
    layers.push_back({{"type", "Linear"}, {"in", in}, {"out", h}});
    layers.push_back({{"type", "ReLU"}});
    in = h;
  }
  layers.push_back({{"type", "Linear"}, {"in", in}, {"out", CartPole::kActions}});
  return layers;
}

std::shared_ptr<nn::Sequential> make_q_network(const std::vector<int64_t>& hidden) {
  return koan::train::build_sequential(q_network_architecture(hidden));
}

int greedy_action(nn::Module& q, const CartPoleState& s) {
  koan::NoGradGuard no_grad;
  std::vector<float> v = q.forward(observation_tensor(s)).to_vector<float>();
  return v[1] > v[0] ? 1 : 0;
}

Tensor td_targets(const Tensor& reward, const Tensor& terminated, const Tensor& next_q_target,
                  const Tensor& next_q_online, double gamma) {
  koan::NoGradGuard no_grad;
  KOAN_CHECK(next_q_target.dim() == 2 && reward.dim() == 1 && next_q_target.size(0) == reward.size(0) &&
                 terminated.shape() == reward.shape() &&
                 (!next_q_online.defined() || next_q_online.shape() == next_q_target.shape()),
             ShapeError, "td_targets: reward ", reward.shape(), ", terminated ", terminated.shape(),
             " and next Q values ", next_q_target.shape(), " do not fit (B), (B), (B, actions)");
  // Double DQN: the online network picks the action, the target network values it, which removes
  // most of the max operator's upward bias.
  Tensor pick = koan::argmax(next_q_online.defined() ? next_q_online : next_q_target, 1, /*keepdim=*/true);
  Tensor next = koan::gather(next_q_target, 1, pick).squeeze(1);
  return reward + (1.0 - terminated) * next * gamma;
}

EvalResult evaluate(nn::Module& q, int episodes, uint64_t seed) {
  KOAN_CHECK(episodes >= 1, ValueError, "evaluate: episodes = ", episodes, " must be at least 1");
  CartPole env(seed);
  EvalResult r;
  for (int e = 0; e < episodes; ++e) {
    CartPoleState obs = env.reset();
    double total = 0;
    while (true) {
      StepResult s = env.step(greedy_action(q, obs));
      total += s.reward;
      obs = s.observation;
      if (s.terminated || s.truncated) break;
    }
    r.rewards.push_back(total);
  }
  r.mean = 0;
  for (double x : r.rewards) r.mean += x;
  r.mean /= episodes;
  r.min = *std::min_element(r.rewards.begin(), r.rewards.end());
  return r;
}

SolveRecord solve_record(const std::vector<double>& rewards, int window, double threshold) {
  KOAN_CHECK(window >= 1, ValueError, "solve_record: window = ", window, " must be at least 1");
  SolveRecord rec;
  double sum = 0;
  for (size_t i = 0; i < rewards.size(); ++i) {
    sum += rewards[i];
    if (i >= static_cast<size_t>(window)) sum -= rewards[i - window];
    const double ma = sum / static_cast<double>(std::min(i + 1, static_cast<size_t>(window)));
    rec.moving_avg.push_back(ma);
    if (i + 1 < static_cast<size_t>(window)) continue;
    if (ma >= threshold && rec.solved_episode < 0) rec.solved_episode = static_cast<int>(i + 1);
    else if (ma < threshold && rec.solved_episode > 0) ++rec.episodes_below_after_solved;
  }
  return rec;
}

DqnResult train_dqn(const DqnConfig& c) {
  check_config(c);
  FlushDenormals ftz(c.flush_denormals);
  koan::NumThreadsGuard threads(c.threads);
  const auto t0 = std::chrono::steady_clock::now();

  // Every random stream of the run comes from the seed: same seed, same numbers.
  koan::manual_seed(stream_seed(c.seed, 0));  // network initialisation
  auto q = make_q_network(c.hidden);
  // The target network is a deep copy: its own parameters, refreshed from q by value.
  auto target = std::dynamic_pointer_cast<nn::Sequential>(q->clone());
  const std::vector<Tensor> params = q->parameters();
  std::vector<Tensor> target_params = target->parameters();
  koan::optim::Adam opt(params, {.lr = c.lr});
  CartPole env(stream_seed(c.seed, 1));
  koan::Generator explore(stream_seed(c.seed, 2));
  koan::Generator sampler(stream_seed(c.seed, 3));
  const uint64_t check_seed = stream_seed(c.seed, 4);
  ReplayBuffer buffer(c.buffer_capacity, CartPole::kObservations);

  DqnResult res;
  BestAgent best;
  double window_sum = 0;
  bool solved = false;
  int64_t steps = 0;

  auto epsilon = [&] {
    double f = std::min(1.0, static_cast<double>(steps) / static_cast<double>(c.eps_decay_steps));
    return c.eps_start + f * (c.eps_end - c.eps_start);
  };

  auto learn = [&] {
    Batch b = buffer.sample(c.batch_size, sampler);
    Tensor y;
    {
      koan::NoGradGuard no_grad;
      Tensor next_online = c.double_dqn ? q->forward(b.next_obs) : Tensor();
      y = td_targets(b.reward, b.terminated, target->forward(b.next_obs), next_online, c.gamma);
    }
    Tensor q_sa = koan::gather(q->forward(b.obs), 1, b.action).squeeze(1);
    Tensor loss = koan::huber_loss(q_sa, y, koan::Reduction::Mean, c.huber_delta);
    opt.zero_grad();
    loss.backward();
    koan::optim::clip_grad_norm_(params, c.clip_norm);
    opt.step();
    if (c.target_tau > 0) {
      koan::NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) koan::add_(target_params[i], params[i] - target_params[i], c.target_tau);
    }
    ++res.updates;
  };

  for (int ep = 1; ep <= c.episodes; ++ep) {
    // Geometric decay: the same factor each episode, so late (solved) episodes take small steps.
    double lr = c.lr * std::pow(c.lr_end / c.lr, static_cast<double>(ep - 1) / std::max(1, c.episodes - 1));
    if (solved) lr *= c.solved_lr_factor;
    opt.set_lr(0, lr);
    EpisodeLog log;
    log.epsilon = epsilon();
    CartPoleState obs = env.reset();
    double total = 0;
    while (true) {
      auto ta = std::chrono::steady_clock::now();
      double ca = thread_cpu_seconds();
      // Two draws every step, explored or not, keep the streams aligned across settings.
      double u = koan::bits_to_double(explore.next_u64());
      int random_action = static_cast<int>(explore.next_u64() >> 63);
      int a = u < epsilon() ? random_action : greedy_action(*q, obs);
      StepResult s = env.step(a);
      res.act_seconds += seconds_since(ta);
      res.act_cpu_seconds += thread_cpu_seconds() - ca;
      total += s.reward;
      buffer.push(obs, a, s.reward, s.observation, s.terminated);
      obs = s.observation;
      ++steps;
      if (steps >= c.learning_starts && buffer.size() >= c.batch_size) {
        auto tu = std::chrono::steady_clock::now();
        double cu = thread_cpu_seconds();
        learn();
        res.update_seconds += seconds_since(tu);
        res.update_cpu_seconds += thread_cpu_seconds() - cu;
      }
      if (c.target_tau == 0 && steps % c.target_update_every == 0) target->load_state_dict(q->state_dict());
      if (s.terminated || s.truncated) break;
    }

    res.rewards.push_back(total);
    window_sum += total;
    if (ep > kWindow) window_sum -= res.rewards[ep - 1 - kWindow];
    const double ma = window_sum / std::min(ep, kWindow);
    if (ep >= kWindow && ma >= kSolved) solved = true;

    if (ep % c.eval_every == 0 && ma >= c.eval_from) {
      q->eval();
      log.check = evaluate(*q, c.eval_episodes, check_seed).mean;
      if (log.check >= kSolved && c.confirm_episodes > c.eval_episodes)
        log.check = evaluate(*q, c.confirm_episodes, check_seed).mean;
      q->train();
      res.checks.emplace_back(ep, log.check);
      if (best.offer(*q, ep, log.check, ma) && !c.save_path.empty())
        koan::train::save_model(c.save_path, *best.net, q_network_architecture(c.hidden));
    }

    log.episode = ep, log.reward = total, log.moving_avg = ma, log.lr = lr, log.env_steps = steps;
    log.best_check = best.check;
    if (c.on_episode) c.on_episode(log);
  }

  // No check ran (training never got near solving): the last agent stands in for the best.
  if (!best.net) {
    best.offer(*q, c.episodes, -1, window_sum / std::min(c.episodes, kWindow));
    if (!c.save_path.empty()) koan::train::save_model(c.save_path, *best.net, q_network_architecture(c.hidden));
  }
  SolveRecord rec = solve_record(res.rewards, kWindow, kSolved);
  res.moving_avg = rec.moving_avg;
  res.solved_episode = rec.solved_episode;
  res.episodes_below_after_solved = rec.episodes_below_after_solved;
  res.stayed_solved = rec.stayed_solved();
  res.best = best.net;
  res.best_episode = best.episode;
  res.best_check = best.check;
  res.env_steps = steps;
  res.seconds = seconds_since(t0);
  return res;
}

}  // namespace dqn
