// examples/dqn: CartPole-v0 physics against hand-computed steps and reference trajectories
// (tests/fixtures/projects/gen_cartpole.py), the replay buffer, the (Double) DQN targets, the
// solved rule, reproducibility per seed, and a short training that must clearly learn.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "dqn/cartpole.h"
#include "dqn/dqn.h"
#include "dqn/replay_buffer.h"
#include "koan/koan.h"
#include "support/testing.h"
#include "koan/train/model_file.h"

using namespace koan;

namespace {

TEST(DqnCartPole, FirstStepFromRestMatchesHandComputation) {
  // From rest with the pole upright, sin = 0 and cos = 1: temp = F / 1.1,
  // thetaacc = -temp / (0.5 (4/3 - 0.1/1.1)) = -600/41, xacc = temp + 0.05 * 600/41 / 1.1 = 400/41.
  // Euler moves positions with the old (zero) velocities.
  for (int action : {0, 1}) {
    dqn::CartPole env(0);
    env.reset({0, 0, 0, 0});
    dqn::StepResult s = env.step(action);
    const double sign = action == 1 ? 1 : -1;
    EXPECT_EQ(s.observation[0], 0);
    EXPECT_NEAR(s.observation[1], sign * 0.02 * 400.0 / 41.0, 1e-15);
    EXPECT_EQ(s.observation[2], 0);
    EXPECT_NEAR(s.observation[3], -sign * 0.02 * 600.0 / 41.0, 1e-15);
    EXPECT_EQ(s.reward, 1);
    EXPECT_FALSE(s.terminated);
    EXPECT_FALSE(s.truncated);
  }
}

TEST(DqnCartPole, MatchesReferenceTrajectories) {
  std::ifstream f(std::string(KOAN_SOURCE_DIR) + "/tests/fixtures/projects/cartpole_steps.json");
  ASSERT_TRUE(f) << "missing fixture cartpole_steps.json";
  nlohmann::json j = nlohmann::json::parse(f);
  ASSERT_EQ(j["cases"].size(), 4u);
  for (const auto& c : j["cases"]) {
    dqn::CartPole env(0);
    env.reset(c["start"].get<dqn::CartPoleState>());
    const auto& actions = c["actions"];
    ASSERT_GT(actions.size(), 3u);
    for (size_t t = 0; t < actions.size(); ++t) {
      dqn::StepResult s = env.step(actions[t].get<int>());
      auto want = c["states"][t].get<dqn::CartPoleState>();
      for (int k = 0; k < 4; ++k)
        EXPECT_NEAR(s.observation[k], want[k], 1e-12 * (1 + std::abs(want[k]))) << "step " << t << " component " << k;
      EXPECT_EQ(s.terminated, c["terminated"][t].get<bool>()) << "step " << t;
    }
    // Every reference case ends with a failure; the environment then refuses to step on.
    EXPECT_TRUE(c["terminated"].back().get<bool>());
    EXPECT_THROW(env.step(0), ValueError);
  }
}

TEST(DqnCartPole, ResetIsSeededUniformAndBounded) {
  dqn::CartPole a(5), b(5), other(6);
  double sum = 0, sum2 = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    auto sa = a.reset(), sb = b.reset(), so = other.reset();
    EXPECT_EQ(sa, sb);
    EXPECT_NE(sa, so);
    for (double v : sa) {
      EXPECT_GE(v, -0.05);
      EXPECT_LT(v, 0.05);
      sum += v, sum2 += v * v;
    }
  }
  // Uniform on [-0.05, 0.05]: mean 0, standard deviation 0.1 / sqrt(12) = 0.0289.
  EXPECT_NEAR(sum / (4 * n), 0, 0.002);
  EXPECT_NEAR(std::sqrt(sum2 / (4 * n)), 0.1 / std::sqrt(12.0), 0.002);
}

TEST(DqnCartPole, TimeLimitTruncatesAtTwoHundredSteps) {
  // A hand-tuned controller that keeps the pole up: push toward where the pole is falling.
  dqn::CartPole env(3);
  auto obs = env.reset();
  dqn::StepResult s;
  int steps = 0;
  do {
    s = env.step(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0 ? 1 : 0);
    obs = s.observation;
    ++steps;
  } while (!s.terminated && !s.truncated);
  EXPECT_EQ(steps, 200);
  EXPECT_TRUE(s.truncated);
  EXPECT_FALSE(s.terminated);
  EXPECT_THROW(env.step(1), ValueError);
  env.reset();
  EXPECT_EQ(env.steps(), 0);
}

TEST(DqnCartPole, RejectsBadActionsNamingThem) {
  dqn::CartPole env(0);
  env.reset();
  try {
    env.step(2);
    FAIL() << "action 2 accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("CartPole.step: action 2"), std::string::npos) << e.what();
  }
  dqn::CartPole fresh(0);
  EXPECT_THROW(fresh.step(0), ValueError);  // never reset
}

TEST(DqnReplayBuffer, KeepsTheLastCapacityTransitionsAndSamplesWholeRows) {
  dqn::ReplayBuffer buf(10, 4);
  for (int i = 0; i < 15; ++i) {
    std::vector<double> o = {double(i), i + 0.25, i + 0.5, i + 0.75}, n = {i + 1.0, 0, 0, 0};
    buf.push(o, i % 2, 100.0 + i, n, i % 3 == 0);
  }
  EXPECT_EQ(buf.size(), 10);
  Generator g(1);
  dqn::Batch b = buf.sample(256, g);
  ASSERT_EQ(b.obs.shape(), (Shape{256, 4}));
  ASSERT_EQ(b.action.shape(), (Shape{256, 1}));
  auto obs = b.obs.to_vector<float>(), next = b.next_obs.to_vector<float>(), r = b.reward.to_vector<float>(),
       t = b.terminated.to_vector<float>();
  auto a = b.action.to_vector<int64_t>();
  std::set<int> seen;
  for (int k = 0; k < 256; ++k) {
    int i = static_cast<int>(obs[4 * k]);
    seen.insert(i);
    EXPECT_GE(i, 5) << "an overwritten transition was sampled";
    EXPECT_EQ(obs[4 * k + 3], i + 0.75f);
    EXPECT_EQ(next[4 * k], i + 1.0f);
    EXPECT_EQ(a[k], i % 2);
    EXPECT_EQ(r[k], 100.0f + i);
    EXPECT_EQ(t[k], i % 3 == 0 ? 1.f : 0.f);
  }
  EXPECT_EQ(seen.size(), 10u);  // 256 draws reach all 10 rows
  Generator g2(1);
  EXPECT_EQ(buf.sample(256, g2).obs.to_vector<float>(), obs);
  EXPECT_THROW(dqn::ReplayBuffer(10, 4).sample(1, g), ValueError);
  EXPECT_THROW(buf.push(std::vector<double>{1, 2}, 0, 0, std::vector<double>{1, 2, 3, 4}, false), ShapeError);
}

TEST(DqnTargets, PlainAndDoubleByHand) {
  Tensor next_target = tensor({{1.f, 5.f}, {3.f, 2.f}, {0.f, 7.f}});
  Tensor next_online = tensor({{4.f, 0.f}, {0.f, 1.f}, {2.f, 1.f}});
  Tensor reward = tensor({1.f, 1.f, 0.5f});
  Tensor terminated = tensor({0.f, 1.f, 0.f});
  // DQN: r + 0.9 max_a Q_target(s', a);  the terminated row keeps only r.
  EXPECT_EQ(dqn::td_targets(reward, terminated, next_target, Tensor(), 0.9).to_vector<float>(),
            (std::vector<float>{1 + 0.9f * 5, 1, 0.5f + 0.9f * 7}));
  // Double DQN: the online net picks (a = 0, 1, 0), the target net values: 1, 2, 0.
  auto y = dqn::td_targets(reward, terminated, next_target, next_online, 0.9).to_vector<float>();
  EXPECT_FLOAT_EQ(y[0], 1 + 0.9f * 1);
  EXPECT_FLOAT_EQ(y[1], 1);
  EXPECT_FLOAT_EQ(y[2], 0.5f);
  EXPECT_THROW(dqn::td_targets(tensor({1.f}), terminated, next_target, Tensor(), 0.9), ShapeError);
}

TEST(DqnTargets, TargetNetworkIsADeepCopy) {
  manual_seed(0);
  auto q = dqn::make_q_network({16, 16});
  auto target = q->clone();
  Tensor x = randn({3, 4});
  auto before = target->forward(x).to_vector<float>();
  {
    NoGradGuard g;
    for (Tensor p : q->parameters()) add_(p, 1.0);
  }
  EXPECT_EQ(target->forward(x).to_vector<float>(), before);  // untouched by q's change
  EXPECT_NE(q->forward(x).to_vector<float>(), before);
  target->load_state_dict(q->state_dict());
  EXPECT_EQ(target->forward(x).to_vector<float>(), q->forward(x).to_vector<float>());
}

TEST(DqnSolveRule, MovingAverageFirstCrossingAndRelapse) {
  std::vector<double> rewards(99, 200.0);
  rewards.push_back(100);                          // episode 100: average 199 -> solved at 100
  for (int i = 0; i < 10; ++i) rewards.push_back(200);
  auto rec = dqn::solve_record(rewards);
  EXPECT_EQ(rec.solved_episode, 100);
  EXPECT_DOUBLE_EQ(rec.moving_avg[99], 199);
  EXPECT_DOUBLE_EQ(rec.moving_avg[0], 200);  // before 100 episodes: the average so far
  EXPECT_TRUE(rec.stayed_solved());
  for (int i = 0; i < 5; ++i) rewards.push_back(0);  // a relapse: 200 -> 0 costs 2 per episode
  rec = dqn::solve_record(rewards);
  EXPECT_EQ(rec.solved_episode, 100);
  // The 100 of episode 100 is still in the window: averages 197, 195 (still solved), 193, 191, 189.
  EXPECT_EQ(rec.episodes_below_after_solved, 3);
  EXPECT_FALSE(rec.stayed_solved());
  EXPECT_EQ(dqn::solve_record(std::vector<double>(99, 200.0)).solved_episode, -1);  // too few episodes
}

dqn::DqnConfig small_config(uint64_t seed, int episodes) {
  return {.seed = seed,
          .episodes = episodes,
          .hidden = {64, 64},
          .lr = 1e-3,
          .lr_end = 1e-3,
          .learning_starts = 500,
          .target_update_every = 250,
          .eps_decay_steps = 3000,
          .eval_every = 10,
          .eval_episodes = 5,
          .eval_from = 0};
}

TEST(DqnTraining, RejectsBadSettingsNamingThem) {
  auto expect_error = [](dqn::DqnConfig c, const std::string& what) {
    try {
      dqn::train_dqn(c);
      FAIL() << what << " accepted";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("train_dqn: " + what), std::string::npos) << e.what();
    }
  };
  expect_error({.episodes = 0}, "episodes = 0");
  expect_error({.gamma = 1.5}, "gamma = 1.5");
  expect_error({.target_tau = -0.1}, "target_tau = -0.1");
  expect_error({.threads = 0}, "threads = 0");
}

TEST(DqnTraining, SameSeedSameNumbers) {
  auto a = dqn::train_dqn(small_config(4, 25));
  auto b = dqn::train_dqn(small_config(4, 25));
  auto c = dqn::train_dqn(small_config(5, 25));
  ASSERT_GT(a.updates, 0);
  EXPECT_EQ(a.rewards, b.rewards);
  EXPECT_EQ(a.checks, b.checks);
  EXPECT_NE(a.rewards, c.rewards);
  auto wa = a.best->parameters(), wb = b.best->parameters();
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_EQ(wa[i].to_vector<float>(), wb[i].to_vector<float>());
}

TEST(DqnTraining, ShortRunLearnsToBalanceAndSavesTheBestAgent) {
  // A random policy lasts about 22 steps and a constant one about 9; a short run must do far
  // better, and the model file must hold the same agent that the run kept.
  auto path = (koan::testing::temp_path("koan_dqn_test.koan")).string();
  auto cfg = small_config(0, 120);
  cfg.save_path = path;
  auto r = dqn::train_dqn(cfg);
  ASSERT_TRUE(r.best);
  EXPECT_GE(r.best_check, 100) << "best greedy check";
  auto loaded = train::load_model(path);
  auto e_loaded = dqn::evaluate(*loaded, 10, 99);
  auto e_best = dqn::evaluate(*r.best, 10, 99);
  EXPECT_EQ(e_loaded.rewards, e_best.rewards);
  EXPECT_GE(e_loaded.mean, 100);
  std::filesystem::remove(path);
}

}  // namespace
