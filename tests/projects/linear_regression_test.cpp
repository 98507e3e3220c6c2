// Project 1 (examples/linear_regression): the closed form, gradient descent meeting it, and the
// Boston loader's split and standardisation, on the first 100 rows of the data (committed slice).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>

#include "data/data_test_util.h"
#include "koan/koan.h"
#include "linear_regression/boston.h"
#include "linear_regression/linear_regression.h"

using namespace koan;
using namespace koan::examples;
using koan::data::testing::TempDir;

namespace {
const std::string kSlice = std::string(KOAN_SOURCE_DIR) + "/tests/fixtures/projects/boston_head100.csv";

// A permutation file of 0..n-1: odd rows first, then even rows.
std::string write_permutation(const TempDir& dir, int64_t n) {
  std::ofstream out(dir.file("perm.txt"));
  for (int64_t i = 1; i < n; i += 2) out << i << "\n";
  for (int64_t i = 0; i < n; i += 2) out << i << "\n";
  return dir.file("perm.txt");
}
}  // namespace

TEST(LinearRegression, ClosedFormRecoversAnExactLinearFunction) {
  Generator g(3);
  Tensor x = randn({50, 3}, {.dtype = DType::Float64}, &g);
  Tensor y = matmul(x, tensor({3.0, -1.0, 0.5}, {.dtype = DType::Float64})) + 2.0;
  LeastSquares ls = solve_least_squares(x, y);
  std::vector<double> want = {2.0, 3.0, -1.0, 0.5};
  EXPECT_LT(max_abs_difference(ls.coefficients, want), 1e-10);
  // A repeated column makes the normal equations singular: the error says so.
  Tensor bad = cat({x, narrow(x, 1, 0, 1)}, 1);
  try {
    solve_least_squares(bad, y);
    FAIL() << "a singular system must throw";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("singular"), std::string::npos) << e.what();
  }
}

TEST(LinearRegression, LoaderSplitsAndStandardisesWithTrainStatistics) {
  TempDir dir("boston_split");
  BostonSplit d = load_boston(kSlice, write_permutation(dir, 100), 80);
  ASSERT_EQ(d.x_train.shape(), Shape({80, 13}));
  ASSERT_EQ(d.x_test.shape(), Shape({20, 13}));
  EXPECT_EQ(d.x_train.dtype(), DType::Float64);
  // Row 1 of the file comes first (the permutation starts with the odd rows): medv 21.6.
  EXPECT_DOUBLE_EQ(d.y_train.to_vector<double>()[0], 21.6);
  EXPECT_DOUBLE_EQ(d.y_test.to_vector<double>()[19], 43.8);  // row 98
  // Train columns have mean 0 and population std 1 (chas is all 0 in this slice: left at scale 1).
  auto m = mean(d.x_train, {0}).to_vector<double>();
  auto s = koan::std(d.x_train, {0}, 0).to_vector<double>();
  for (int j = 0; j < 13; ++j) {
    EXPECT_NEAR(m[j], 0.0, 1e-12) << d.features[j];
    if (d.features[j] != "chas") {
      EXPECT_NEAR(s[j], 1.0, 1e-12) << d.features[j];
    }
  }
  // A file that is not a permutation is refused, naming it.
  std::ofstream(dir.file("dup.txt")) << "0\n0\n";
  EXPECT_THROW(load_boston(kSlice, dir.file("dup.txt")), ValueError);
}

TEST(LinearRegression, GradientDescentReachesTheClosedForm) {
  TempDir dir("boston_gd");
  BostonSplit d = load_boston(kSlice, write_permutation(dir, 100), 80);
  // chas is constant in the slice: drop it so the normal equations are well posed.
  Tensor keep = tensor({0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  Tensor xtr = index_select(d.x_train, 1, keep), xte = index_select(d.x_test, 1, keep);
  LeastSquares exact = solve_least_squares(xtr, d.y_train);
  GdResult gd = fit_gradient_descent(xtr, d.y_train, {.lr = 0.1, .max_steps = 200000, .tolerance = 1e-9}, xte,
                                     d.y_test);
  ASSERT_TRUE(gd.converged) << "largest gradient " << gd.final_grad << " after " << gd.steps << " steps";
  EXPECT_LT(max_abs_difference(gd.coefficients, exact.coefficients), 1e-4);
  // The least-squares fit beats predicting the train mean on the train rows.
  double mean_rmse = rmse(full_like(d.y_train, mean(d.y_train).item<double>()), d.y_train);
  EXPECT_LT(rmse(predict_linear(exact.coefficients, xtr), d.y_train), 0.7 * mean_rmse);
  // The history logged the descent: the train loss falls.
  ASSERT_GT(gd.history.epochs(), 2u);
  EXPECT_LT(gd.history["loss"].back(), 0.1 * gd.history["loss"].front());
  EXPECT_TRUE(gd.history.has("val_rmse"));
}
