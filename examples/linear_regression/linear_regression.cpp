#include "linear_regression/linear_regression.h"

#include <algorithm>
#include <cmath>

#include "koan/autograd/grad_mode.h"
#include "koan/ops/join.h"
#include "koan/ops/linalg.h"
#include "koan/ops/loss.h"
#include "koan/ops/operators.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/optim/sgd.h"
#include "koan/tensor/creation.h"

namespace koan::examples {

namespace {
void check_xy(const Tensor& x, const Tensor& y, const char* op) {
  KOAN_CHECK(x.defined() && y.defined(), ValueError, op, ": undefined x or y");
  KOAN_CHECK(x.dim() == 2 && y.dim() == 1 && x.size(0) == y.size(0), ShapeError, op, ": x ", x.shape(),
             " must be (n, d) and y ", y.shape(), " must be (n)");
  KOAN_CHECK(x.size(0) > x.size(1), ValueError, op, ": needs more rows than features + 1, got x ", x.shape());
}
}  // namespace

LeastSquares solve_least_squares(const Tensor& x, const Tensor& y) {
  check_xy(x, y, "solve_least_squares");
  const int64_t n = x.size(0), k = x.size(1) + 1;
  Tensor a = cat({ones({n, 1}, {.dtype = DType::Float64}), x.to(DType::Float64)}, 1);
  Tensor yy = y.to(DType::Float64).unsqueeze(1);
  std::vector<double> g = matmul(a.t(), a).to_vector<double>();   // AᵀA, k × k
  std::vector<double> c = matmul(a.t(), yy).to_vector<double>();  // Aᵀy

  // Cholesky: AᵀA = L Lᵀ, L lower triangular, stored in place of g's lower half.
  for (int64_t j = 0; j < k; ++j) {
    double d = g[j * k + j];
    for (int64_t p = 0; p < j; ++p) d -= g[j * k + p] * g[j * k + p];
    KOAN_CHECK(d > 1e-12 * std::max(1.0, std::abs(g[j * k + j])), ValueError,
               "solve_least_squares: the normal equations are singular at column ", j,
               " (a constant or repeated feature?)");
    const double ljj = std::sqrt(d);
    g[j * k + j] = ljj;
    for (int64_t i = j + 1; i < k; ++i) {
      double s = g[i * k + j];
      for (int64_t p = 0; p < j; ++p) s -= g[i * k + p] * g[j * k + p];
      g[i * k + j] = s / ljj;
    }
  }
  // Forward substitution L z = Aᵀy, then back substitution Lᵀ c = z.
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t p = 0; p < i; ++p) c[i] -= g[i * k + p] * c[p];
    c[i] /= g[i * k + i];
  }
  for (int64_t i = k - 1; i >= 0; --i) {
    for (int64_t p = i + 1; p < k; ++p) c[i] -= g[p * k + i] * c[p];
    c[i] /= g[i * k + i];
  }
  return {c};
}

Tensor predict_linear(const std::vector<double>& coefficients, const Tensor& x) {
  KOAN_CHECK(x.dim() == 2 && static_cast<int64_t>(coefficients.size()) == x.size(1) + 1, ShapeError,
             "predict_linear: ", coefficients.size(), " coefficients do not fit x ", x.shape(),
             " (needs features + 1)");
  std::vector<double> w(coefficients.begin() + 1, coefficients.end());
  return matmul(x.to(DType::Float64), from_vector(w)) + coefficients[0];
}

double rmse(const Tensor& prediction, const Tensor& target) {
  return std::sqrt(mse_loss(prediction.to(DType::Float64), target.to(DType::Float64)).item<double>());
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  KOAN_CHECK(a.size() == b.size(), ShapeError, "max_abs_difference: sizes ", a.size(), " and ", b.size(), " differ");
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

GdResult fit_gradient_descent(const Tensor& x, const Tensor& y, const GdOptions& o, const Tensor& x_val,
                              const Tensor& y_val) {
  check_xy(x, y, "fit_gradient_descent");
  KOAN_CHECK(o.lr > 0 && o.max_steps > 0 && o.log_every > 0, ValueError, "fit_gradient_descent: lr ", o.lr,
             ", max_steps ", o.max_steps, " and log_every ", o.log_every, " must be positive");
  const Tensor xd = x.to(DType::Float64), yd = y.to(DType::Float64).unsqueeze(1);
  GdResult r;
  r.model = std::make_shared<nn::Linear>(nn::LinearOptions{.in = x.size(1), .out = 1, .dtype = DType::Float64});
  {
    // Start from zero so the run does not depend on the random initialisation.
    NoGradGuard no_grad;
    r.model->weight.zero_();
    r.model->bias.zero_();
  }
  optim::SGD opt(r.model->parameters(), {.lr = o.lr});

  auto log_row = [&](double train_mse) {
    std::map<std::string, double> row{{"loss", train_mse}, {"rmse", std::sqrt(train_mse)}};
    if (x_val.defined()) {
      NoGradGuard no_grad;
      row["val_rmse"] = rmse(r.model->forward(x_val.to(DType::Float64)).squeeze(1), y_val);
    }
    r.history.append(row);
  };

  for (r.steps = 0; r.steps < o.max_steps; ++r.steps) {
    opt.zero_grad();
    Tensor loss = mse_loss(r.model->forward(xd), yd);
    loss.backward();
    r.final_grad = std::max(max(abs(r.model->weight.grad())).item<double>(),
                            max(abs(r.model->bias.grad())).item<double>());
    if (r.steps % o.log_every == 0) log_row(loss.item<double>());
    if (r.final_grad < o.tolerance) {
      r.converged = true;
      break;
    }
    opt.step();
  }
  r.coefficients.push_back(r.model->bias.item<double>());
  for (double w : r.model->weight.to_vector<double>()) r.coefficients.push_back(w);
  return r;
}

}  // namespace koan::examples
