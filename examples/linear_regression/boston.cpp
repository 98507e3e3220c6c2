#include "linear_regression/boston.h"

#include <filesystem>
#include <fstream>

#include "koan/data/csv.h"
#include "koan/ops/index.h"
#include "koan/ops/operators.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

namespace koan::examples {

std::vector<int64_t> read_index_file(const std::string& path) {
  std::ifstream in(path);
  KOAN_CHECK(in.good(), IOError, "read_index_file: cannot open ", path);
  std::vector<int64_t> out;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    size_t used = 0;
    int64_t v = -1;
    try {
      v = std::stoll(line, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    KOAN_CHECK(used == line.size() && v >= 0, IOError, "read_index_file: ", path, " line ", lineno,
               ": expected a non-negative integer, got '", line, "'");
    out.push_back(v);
  }
  return out;
}

BostonSplit load_boston(const std::string& csv_path, const std::string& permutation_path, int64_t n_train) {
  KOAN_CHECK(std::filesystem::exists(csv_path), IOError, "load_boston: ", csv_path,
             " is missing (run scripts/get-data boston)");
  data::CsvTable table = data::read_csv(csv_path);
  BostonSplit d;
  d.features = {"crim", "zn", "indus", "chas", "nox", "rm", "age", "dis", "rad", "tax", "ptratio", "b", "lstat"};
  Tensor x = table.to_tensor(d.features, DType::Float64);
  Tensor y = table.column("medv", DType::Float64);
  const int64_t n = table.rows();

  std::vector<int64_t> perm = read_index_file(permutation_path);
  KOAN_CHECK(static_cast<int64_t>(perm.size()) == n, ValueError, "load_boston: ", permutation_path, " has ",
             perm.size(), " indices but ", csv_path, " has ", n, " rows");
  std::vector<bool> seen(n, false);
  for (int64_t i : perm) {
    KOAN_CHECK(i < n && !seen[i], ValueError, "load_boston: ", permutation_path, " is not a permutation of 0..",
               n - 1, " (index ", i, ")");
    seen[i] = true;
  }
  if (n_train < 0) n_train = n - n / 5;  // the split: 405 train, the last 101 (a fifth) test
  KOAN_CHECK(n_train >= 2 && n_train < n, ValueError, "load_boston: n_train ", n_train, " must be in [2, ", n, ")");

  Tensor order = from_vector(perm);
  Tensor train_rows = narrow(order, 0, 0, n_train), test_rows = narrow(order, 0, n_train, n - n_train);
  Tensor xtr = index_select(x, 0, train_rows), xte = index_select(x, 0, test_rows);
  d.mean = mean(xtr, {0});
  // Population std, as numpy's default; a constant column (possible in a small slice) keeps scale 1.
  Tensor s = koan::std(xtr, {0}, /*correction=*/0);
  d.std = where(eq(s, 0.0), ones_like(s), s);
  d.x_train = (xtr - d.mean) / d.std;
  d.x_test = (xte - d.mean) / d.std;
  d.y_train = index_select(y, 0, train_rows);
  d.y_test = index_select(y, 0, test_rows);
  return d;
}

}  // namespace koan::examples
