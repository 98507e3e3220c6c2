// Project 1 (docs/projects/linear_regression.md): least-squares linear regression two ways, the
// closed form of the normal equations and gradient descent with autograd, which must meet it.
//
//   LeastSquares exact = solve_least_squares(x, y);             // float64, bias first
//   GdResult gd = fit_gradient_descent(x, y, {.lr = 0.1});      // nn::Linear + optim::SGD, full batch
//   double gap = max_abs_difference(gd.coefficients, exact.coefficients);
#pragma once
#include <memory>
#include <vector>

#include "koan/nn/linear.h"
#include "koan/train/history.h"

namespace koan::examples {

// Coefficients of y ≈ b + x·w as one vector (b, w1, ..., wd), float64.
struct LeastSquares {
  std::vector<double> coefficients;
};

// Minimises |A c - y|² with A = [1, x] through the normal equations AᵀA c = Aᵀy, solved by a
// Cholesky factorisation in float64 (AᵀA is symmetric positive definite when x has full column
// rank; otherwise a ValueError says so).
LeastSquares solve_least_squares(const Tensor& x, const Tensor& y);

struct GdOptions {
  double lr = 0.1;          // step size on the mean squared error
  int64_t max_steps = 20000;
  double tolerance = 1e-10; // stop when every gradient component is below this
  int64_t log_every = 25;   // a History row (train and test RMSE) every this many steps
};

struct GdResult {
  std::shared_ptr<nn::Linear> model;
  std::vector<double> coefficients;  // (bias, weights), as LeastSquares
  int64_t steps = 0;
  bool converged = false;
  double final_grad = 0;             // largest gradient component at the end
  train::History history;            // "loss" (train MSE), "rmse", "val_rmse" per logged step
};

// Full-batch gradient descent on the mean squared error of a float64 nn::Linear(d, 1) that starts
// at zero, with optim::SGD; the gradient comes from autograd.  x_val / y_val (optional) feed the
// history's val_rmse.
GdResult fit_gradient_descent(const Tensor& x, const Tensor& y, const GdOptions& options = {},
                              const Tensor& x_val = {}, const Tensor& y_val = {});

// Predictions b + x·w for coefficients (b, w...), and the root mean squared error.
Tensor predict_linear(const std::vector<double>& coefficients, const Tensor& x);
double rmse(const Tensor& prediction, const Tensor& target);
double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace koan::examples
