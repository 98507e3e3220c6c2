// The learning-curve figure of docs/projects/dqn.md: per seed, the episode rewards (faint) and
// their 100-episode moving average, with CartPole-v0's "solved" line at 195.
#pragma once
#include <string>
#include <vector>

namespace dqn {

struct Curve {
  std::string label;            // "seed 0"
  std::vector<double> rewards;  // per episode
  std::vector<double> moving_avg;
};

// A self-contained SVG (no scripts, no external fonts).
std::string curves_svg(const std::vector<Curve>& curves, const std::string& title, double solved = 195);

}  // namespace dqn
