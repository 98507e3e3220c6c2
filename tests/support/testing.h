// Test helpers: float64 gradcheck by central differences, PyTorch fixtures, tensor comparison.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "koan/koan.h"

namespace koan::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6, atol = 1e-5, rtol = 1e-3;
};

// Compares autograd's gradient of sum(fn(inputs) * w) (w fixed random weights) with central
// differences, for every floating input.  Inputs must be float64.
::testing::AssertionResult gradcheck(const Fn& fn, const std::vector<Tensor>& inputs,
                                     GradcheckOptions opts = {});

// The folder holding Fashion-MNIST for tests: the checkout's data/fashion-mnist, or where Debian's
// dataset-fashion-mnist puts it (scripts/setup installs it, so tests need not skip).  When neither
// exists it returns the Debian folder, and the loader's error then names the command to run.
std::string fashion_mnist_root();

// A path in the temporary folder that is this process's own (the name plus the process id), so
// suites running side by side (two build trees, ctest -j) never share a file.
std::filesystem::path temp_path(const std::string& name);

// Element-wise comparison with a message naming the first mismatch.
::testing::AssertionResult close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                                 double atol = 1e-6);

// Reference values made by tests/fixtures/gen_fixtures.py with PyTorch (committed files).
class Fixture {
 public:
  explicit Fixture(const std::string& family);  // tests/fixtures/<family>.safetensors
  bool has(const std::string& key) const;
  Tensor get(const std::string& key) const;
  // Case names "op/case" present for `op`.
  std::vector<std::string> cases(const std::string& op) const;

 private:
  std::string path_;
  std::map<std::string, Tensor> tensors_;
};

// A copy of t with the same values but non-contiguous strides (transposed storage, or a
// strided slice for 1-D), to exercise kernels' general paths.
Tensor non_contiguous(const Tensor& t);

}  // namespace koan::testing
