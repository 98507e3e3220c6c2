// Project 1: linear regression on the Boston house prices (docs/projects/linear_regression.md).
//   scripts/get-data boston && build/examples/koan_linear_regression
// Fits medv from 13 standardised features twice: the closed form of the normal equations, and
// full-batch gradient descent with autograd from zero, then checks that both give the same weights.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "koan/autograd/grad_mode.h"
#include "koan/core/parallel.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"
#include "linear_regression/boston.h"
#include "linear_regression/linear_regression.h"

using namespace koan;
using namespace koan::examples;

int main(int argc, char** argv) {
  std::string data_path = "data/boston/boston.csv";
  std::string split_path = "scripts/data/splits/boston_permutation.txt";
  std::string out_dir = "runs/linear_regression";
  GdOptions gd;
  int threads = 1;
  CLI::App app{"Linear regression on the Boston house prices: closed form vs gradient descent"};
  app.add_option("--data", data_path, "Boston CSV (scripts/get-data boston)");
  app.add_option("--split", split_path, "row permutation: first 405 train, last 101 test");
  app.add_option("--lr", gd.lr, "gradient-descent step size on the mean squared error");
  app.add_option("--max-steps", gd.max_steps, "gradient-descent steps at most");
  app.add_option("--tolerance", gd.tolerance, "stop when every gradient component is below this");
  app.add_option("--threads", threads, "threads");
  app.add_option("--out", out_dir, "folder for history.csv and curves.svg");
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  try {
    auto t0 = std::chrono::steady_clock::now();
    BostonSplit d = load_boston(data_path, split_path);
    std::printf("Boston house prices: %lld train rows, %lld test rows, %lld features (standardised with the\n"
                "train mean and population std); target medv in $1000s\n\n",
                (long long)d.x_train.size(0), (long long)d.x_test.size(0), (long long)d.x_train.size(1));

    const double mean_y = mean(d.y_train).item<double>();
    const double rmse_mean = rmse(full_like(d.y_test, mean_y), d.y_test);

    LeastSquares exact = solve_least_squares(d.x_train, d.y_train);
    const double rmse_exact = rmse(predict_linear(exact.coefficients, d.x_test), d.y_test);

    GdResult r = fit_gradient_descent(d.x_train, d.y_train, gd, d.x_test, d.y_test);
    const double rmse_gd = rmse(predict_linear(r.coefficients, d.x_test), d.y_test);
    const double rmse_gd_train = rmse(predict_linear(r.coefficients, d.x_train), d.y_train);
    const double gap = max_abs_difference(r.coefficients, exact.coefficients);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::printf("gradient descent (lr %g, full batch, float64): %s after %lld steps, largest gradient %.2e\n\n",
                gd.lr, r.converged ? "converged" : "NOT converged", (long long)r.steps, r.final_grad);
    std::printf("%-10s %14s %14s %12s\n", "", "closed form", "grad. descent", "difference");
    std::printf("%-10s %14.6f %14.6f %12.2e\n", "bias", exact.coefficients[0], r.coefficients[0],
                std::abs(exact.coefficients[0] - r.coefficients[0]));
    for (size_t j = 0; j < d.features.size(); ++j)
      std::printf("%-10s %14.6f %14.6f %12.2e\n", d.features[j].c_str(), exact.coefficients[j + 1],
                  r.coefficients[j + 1], std::abs(exact.coefficients[j + 1] - r.coefficients[j + 1]));
    std::printf("\nlargest weight difference: %.2e (%s 1e-4)\n\n", gap, gap <= 1e-4 ? "within" : "NOT within");

    std::printf("test RMSE, predicting the train mean: %.4f   (reference 8.4885)\n", rmse_mean);
    std::printf("test RMSE, closed form:               %.4f   (reference 4.0972)\n", rmse_exact);
    std::printf("test RMSE, gradient descent:          %.4f   (train RMSE %.4f)\n", rmse_gd, rmse_gd_train);
    std::printf("wall time %.3f s on %d thread(s)\n", seconds, get_num_threads());

    std::filesystem::create_directories(out_dir);
    r.history.save_csv(out_dir + "/history.csv");
    r.history.plot_svg(out_dir + "/curves.svg", "Boston linear regression, gradient descent (x: step / 25)");
    std::printf("history: %s/history.csv\ncurves:  %s/curves.svg\n", out_dir.c_str(), out_dir.c_str());
    return r.converged && gap <= 1e-4 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "koan_linear_regression: " << e.what() << "\n";
    return 1;
  }
}
