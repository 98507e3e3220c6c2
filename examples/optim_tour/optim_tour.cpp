// The runnable snippet of docs/optimizers.md: six optimizers on the same elongated quadratic
//   f(x, y) = x²/2 + 10·y²   (curvatures 1 and 20: a long, narrow valley),
// from the same start, with one param tensor p = (x, y).  Prints f and the position every few
// steps; run build/examples/optim_tour to see the output shown in the doc.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "koan/koan.h"

using namespace koan;

namespace {

Tensor f(const Tensor& p) {
  Tensor w = tensor({0.5, 10.0}, {.dtype = DType::Float64});
  return sum(mul(w, mul(p, p)));
}

struct Run {
  std::string name;
  std::function<std::unique_ptr<optim::Optimizer>(Tensor)> make;
};

}  // namespace

int main() {
  const std::vector<int> shown = {0, 1, 2, 5, 10, 20, 40};
  std::vector<Run> runs = {
      {"SGD        lr 0.09", [](Tensor p) { return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, optim::SGDOptions{.lr = 0.09}); }},
      {"momentum   lr 0.02 mu 0.9",
       [](Tensor p) {
         return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, optim::SGDOptions{.lr = 0.02, .momentum = 0.9});
       }},
      {"Nesterov   lr 0.02 mu 0.9",
       [](Tensor p) {
         return std::make_unique<optim::SGD>(std::vector<Tensor>{p},
                                             optim::SGDOptions{.lr = 0.02, .momentum = 0.9, .nesterov = true});
       }},
      {"AdaGrad    lr 1.5",
       [](Tensor p) { return std::make_unique<optim::Adagrad>(std::vector<Tensor>{p}, optim::AdagradOptions{.lr = 1.5}); }},
      {"RMSProp    lr 0.1",
       [](Tensor p) { return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, optim::RMSpropOptions{.lr = 0.1}); }},
      {"Adam       lr 0.3",
       [](Tensor p) { return std::make_unique<optim::Adam>(std::vector<Tensor>{p}, optim::AdamOptions{.lr = 0.3}); }},
  };

  std::printf("f(x, y) = x^2/2 + 10 y^2 from (x, y) = (-4, 1); f after each step and the final point\n\n");
  std::printf("%-26s", "optimizer");
  for (int s : shown) std::printf(" %9s", ("step " + std::to_string(s)).c_str());
  std::printf("   final (x, y)\n");
  for (auto& run : runs) {
    Tensor p = tensor({-4.0, 1.0}, {.dtype = DType::Float64}).requires_grad_();
    auto opt = run.make(p);
    std::printf("%-26s", run.name.c_str());
    for (int step = 0; step <= shown.back(); ++step) {
      opt->zero_grad();
      Tensor loss = f(p);
      if (std::find(shown.begin(), shown.end(), step) != shown.end())
        std::printf(" %9.2e", loss.item<double>());
      loss.backward();
      opt->step();
    }
    auto xy = p.to_vector<double>();
    std::printf("   (%.3f, %.3f)\n", xy[0], xy[1]);
  }

  // The paths: SGD zig-zags across the valley, momentum swings wide, the adaptive methods step
  // about equally in x and y however different the slopes are.
  std::printf("\npath (x, y) of the first 8 steps\n");
  for (auto& run : runs) {
    Tensor p = tensor({-4.0, 1.0}, {.dtype = DType::Float64}).requires_grad_();
    auto opt = run.make(p);
    std::printf("%-9.9s", run.name.c_str());
    for (int step = 0; step < 8; ++step) {
      opt->zero_grad();
      f(p).backward();
      opt->step();
      auto xy = p.to_vector<double>();
      std::printf(" (%5.2f,%5.2f)", xy[0], xy[1]);
    }
    std::printf("\n");
  }
}
