// The Boston house-prices data of project 1 (docs/projects/linear_regression.md): 506 rows of 13
// features and the target medv, split by a committed permutation and standardised.
//
//   BostonSplit d = load_boston("data/boston/boston.csv", "scripts/data/splits/boston_permutation.txt");
//   // d.x_train (405, 13) float64, standardised with the train rows' mean and population std
#pragma once
#include <string>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::examples {

struct BostonSplit {
  Tensor x_train, y_train;  // (n_train, 13), (n_train) float64
  Tensor x_test, y_test;
  Tensor mean, std;         // (13): the train rows' statistics the features were standardised with
  std::vector<std::string> features;
};

// Reads the CSV (header crim,...,lstat,medv), orders the rows by the permutation file (one row
// index per line; each of 0..rows-1 exactly once), takes the first `n_train` rows for training
// and the rest for testing, and standardises both with the train mean and population std.
// n_train = -1 keeps the last fifth (rounded down) for testing: 405 train and 101 test of 506.
BostonSplit load_boston(const std::string& csv_path, const std::string& permutation_path, int64_t n_train = -1);

// Reads one integer per line; the error names the file and line.
std::vector<int64_t> read_index_file(const std::string& path);

}  // namespace koan::examples
