// koan_dqn: Deep Q-learning on CartPole-v0 over several seeds (docs/projects/dqn.md).
//
//   koan_dqn                                   # Double DQN, seeds 0 1 2, 1000 episodes each
//   koan_dqn --seeds 3 --episodes 400 --plain  # plain DQN target, one seed
//
// For each seed: trains, reports the episode at which the 100-episode average of the training
// rewards first reaches 195 and whether it stays there, then reloads the best agent from its
// model file (--out/dqn_seed<S>.koan) and plays 100 greedy episodes with it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "dqn/curves.h"
#include "dqn/dqn.h"
#include "koan/core/parallel.h"
#include "koan/train/model_file.h"

namespace {

struct Args {
  dqn::DqnConfig cfg;
  std::vector<uint64_t> seeds = {0, 1, 2};
  int threads = 1;
  int eval_episodes = 100;
  int log_every = 50;
  std::string out = "dqn_runs";
};

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) v.push_back(std::stoll(item));
  return v;
}

void usage() {
  std::printf(
      "usage: koan_dqn [options]\n"
      "  --episodes N        training episodes per seed (1000)\n"
      "  --seeds A,B,...     seeds, one run each (0,1,2)\n"
      "  --seed S            one seed\n"
      "  --threads N         compute threads (1)\n"
      "  --plain             plain DQN target instead of Double DQN\n"
      "  --lr X --lr-end Y   Adam learning rate, decayed geometrically over the episodes (1e-3, 1e-5);\n"
      "                      --lr alone sets both (a constant rate)\n"
      "  --solved-lr-factor X  lr multiplier once the 100-episode average reaches 195 (0.1)\n"
      "  --hidden A,B        hidden widths (128,128)\n"
      "  --batch N           minibatch (64)\n"
      "  --replay N          replay buffer capacity in transitions (200000)\n"
      "  --target-every N    steps between target-network copies when --tau is 0 (500)\n"
      "  --tau X             soft target updates by X after every learning step (0.005; 0: hard copies)\n"
      "  --eps-decay N       steps over which epsilon falls from 1 to eps-end (10000)\n"
      "  --eps-end X         final epsilon (0.01)\n"
      "  --gamma X           discount (0.98)\n"
      "  --keep-denormals    do not flush denormal floats to zero (slow; for comparison)\n"
      "  --eval-episodes N   greedy episodes for the final evaluation (100)\n"
      "  --log-every N       progress line every N episodes (50; 0: none)\n"
      "  --out DIR           model files, history CSV and curves SVG (dqn_runs)\n");
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "koan_dqn: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--episodes") a.cfg.episodes = std::stoi(next());
    else if (k == "--seeds") {
      a.seeds.clear();
      for (int64_t s : parse_list(next())) a.seeds.push_back(static_cast<uint64_t>(s));
    } else if (k == "--seed") a.seeds = {std::stoull(next())};
    else if (k == "--threads") a.threads = std::stoi(next());
    else if (k == "--plain") a.cfg.double_dqn = false;
    else if (k == "--double") a.cfg.double_dqn = true;
    else if (k == "--lr") a.cfg.lr = a.cfg.lr_end = std::stod(next());
    else if (k == "--lr-end") a.cfg.lr_end = std::stod(next());
    else if (k == "--solved-lr-factor") a.cfg.solved_lr_factor = std::stod(next());
    else if (k == "--hidden") a.cfg.hidden = parse_list(next());
    else if (k == "--replay") a.cfg.buffer_capacity = std::stoll(next());
    else if (k == "--batch") a.cfg.batch_size = std::stoll(next());
    else if (k == "--tau") a.cfg.target_tau = std::stod(next());
    else if (k == "--target-every") a.cfg.target_update_every = std::stoll(next());
    else if (k == "--eps-decay") a.cfg.eps_decay_steps = std::stoll(next());
    else if (k == "--eps-end") a.cfg.eps_end = std::stod(next());
    else if (k == "--gamma") a.cfg.gamma = std::stod(next());
    else if (k == "--keep-denormals") a.cfg.flush_denormals = false;
    else if (k == "--eval-episodes") a.eval_episodes = std::stoi(next());
    else if (k == "--log-every") a.log_every = std::stoi(next());
    else if (k == "--out") a.out = next();
    else if (k == "--help" || k == "-h") {
      usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "koan_dqn: unknown option %s\n", k.c_str());
      usage();
      std::exit(2);
    }
  }
  return a;
}

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += '-';
    s += std::to_string(v[i]);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  Args a = parse(argc, argv);
  koan::set_num_threads(a.threads);
  std::filesystem::create_directories(a.out);
  const dqn::DqnConfig& c = a.cfg;
  std::printf("CartPole-v0, %s, network 4-%s-2, Adam lr %g -> %g (x%g once solved), gamma %g, batch %lld, replay %lld, "
              "target %s, epsilon 1 -> %g over %lld steps, Huber delta %g, clip %g; %d threads\n",
              c.double_dqn ? "Double DQN" : "DQN", join(c.hidden).c_str(), c.lr, c.lr_end, c.solved_lr_factor, c.gamma,
              static_cast<long long>(c.batch_size), static_cast<long long>(c.buffer_capacity),
              c.target_tau > 0 ? ("soft tau " + std::to_string(c.target_tau)).c_str()
                               : ("copy every " + std::to_string(c.target_update_every) + " steps").c_str(),
              c.eps_end, static_cast<long long>(c.eps_decay_steps),
              c.huber_delta, c.clip_norm, a.threads);

  struct Row {
    uint64_t seed;
    dqn::DqnResult r;
    dqn::EvalResult e;
  };
  std::vector<Row> rows;
  std::vector<dqn::Curve> curves;
  for (uint64_t seed : a.seeds) {
    dqn::DqnConfig cfg = a.cfg;
    cfg.seed = seed;
    cfg.threads = a.threads;
    cfg.save_path = a.out + "/dqn_seed" + std::to_string(seed) + ".koan";
    cfg.on_episode = [&](const dqn::EpisodeLog& l) {
      if (a.log_every > 0 && (l.episode % a.log_every == 0 || l.episode == cfg.episodes)) {
        std::printf("seed %llu  episode %4d  reward %5.0f  avg100 %6.1f  epsilon %.3f  steps %7lld",
                    static_cast<unsigned long long>(seed), l.episode, l.reward, l.moving_avg, l.epsilon,
                    static_cast<long long>(l.env_steps));
        if (l.best_check >= 0) std::printf("  best check %.1f", l.best_check);
        std::printf("\n");
        std::fflush(stdout);
      }
    };
    dqn::DqnResult r = dqn::train_dqn(cfg);
    // The saved file, not the in-memory copy, is what gets evaluated.
    auto agent = koan::train::load_model(cfg.save_path);
    agent->eval();
    dqn::EvalResult e = dqn::evaluate(*agent, a.eval_episodes, dqn::stream_seed(seed, 5));
    std::printf("seed %llu: average >= 195 first at episode %s, %s; best agent from episode %d "
                "(check %.1f); greedy evaluation over %d episodes: mean %.1f, min %.0f; %.0f s\n",
                static_cast<unsigned long long>(seed),
                r.solved_episode > 0 ? std::to_string(r.solved_episode).c_str() : "(never)",
                r.solved_episode < 0 ? "-"
                : r.stayed_solved    ? "stayed there"
                                     : ("then below 195 for " + std::to_string(r.episodes_below_after_solved) +
                                        " episodes")
                                           .c_str(),
                r.best_episode, r.best_check, a.eval_episodes, e.mean, e.min, r.seconds);
    curves.push_back({"seed " + std::to_string(seed), r.rewards, r.moving_avg});
    rows.push_back({seed, std::move(r), std::move(e)});
  }

  // History: one column pair per seed.
  {
    std::ofstream csv(a.out + "/dqn_history.csv");
    csv << "episode";
    for (auto& row : rows) csv << ",reward_seed" << row.seed << ",avg100_seed" << row.seed;
    csv << "\n";
    for (int ep = 0; ep < a.cfg.episodes; ++ep) {
      csv << ep + 1;
      for (auto& row : rows) csv << "," << row.r.rewards[ep] << "," << row.r.moving_avg[ep];
      csv << "\n";
    }
    std::ofstream svg(a.out + "/dqn_curves.svg");
    svg << dqn::curves_svg(curves, std::string("CartPole-v0, ") + (c.double_dqn ? "Double DQN" : "DQN") +
                                       " (koan): training reward");
  }

  std::printf("\n| seed | avg100 >= 195 first at episode | stays >= 195 | final avg100 | best agent (episode) "
              "| greedy mean over %d | min | env steps | ms/act (wall, CPU) | ms/update (wall, CPU) | wall s |\n",
              a.eval_episodes);
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  int reached = 0, passed = 0;
  for (auto& row : rows) {
    const auto& r = row.r;
    reached += r.solved_episode > 0;
    passed += row.e.mean >= 195;
    const double n_steps = static_cast<double>(r.env_steps), n_updates = static_cast<double>(std::max<int64_t>(1, r.updates));
    std::printf("| %llu | %s | %s | %.1f | %d | %.1f | %.0f | %lld | %.3f, %.3f | %.3f, %.3f | %.0f |\n",
                static_cast<unsigned long long>(row.seed),
                r.solved_episode > 0 ? std::to_string(r.solved_episode).c_str() : "never",
                r.solved_episode < 0 ? "-" : r.stayed_solved ? "yes" : ("no (" + std::to_string(r.episodes_below_after_solved) + " episodes below)").c_str(),
                r.moving_avg.back(), r.best_episode, row.e.mean, row.e.min, static_cast<long long>(r.env_steps),
                1e3 * r.act_seconds / n_steps, 1e3 * r.act_cpu_seconds / n_steps, 1e3 * r.update_seconds / n_updates,
                1e3 * r.update_cpu_seconds / n_updates, r.seconds);
  }
  std::printf("\nreached 195: %d/%zu seeds; best agent >= 195 over %d greedy episodes: %d/%zu seeds\n", reached,
              rows.size(), a.eval_episodes, passed, rows.size());
  std::printf("files: %s/dqn_seed<S>.koan, %s/dqn_history.csv, %s/dqn_curves.svg\n", a.out.c_str(), a.out.c_str(),
              a.out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "koan_dqn: %s\n", e.what());
  return 1;
}
