// The fixed problem every optim trajectory test runs (tests/fixtures/gen_optim.py):
//   loss(W, b) = mean((X W + b - Y)^2) + 0.05 * sum(W^4)   in float64.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "support/testing.h"

namespace koan::optim_test {

inline const testing::Fixture& fixture() {
  static testing::Fixture f("optim");
  return f;
}

struct Problem {
  Tensor X, Y, W, b;
  Problem() {
    const auto& f = fixture();
    X = f.get("problem/X"), Y = f.get("problem/Y");
    W = f.get("problem/W0").clone().requires_grad_();
    b = f.get("problem/b0").clone().requires_grad_();
  }
  Tensor loss() const {
    Tensor r = sub(add(matmul(X, W), b), Y);
    return add(mean(mul(r, r)), mul(sum(mul(mul(mul(W, W), W), W)), 0.05));
  }
  // zero_grad, backward, step: one iteration as the generator runs it.
  void iterate(optim::Optimizer& opt) const {
    opt.zero_grad();
    loss().backward();
    opt.step();
  }
};

// Relative error <= 1e-9 (the atol only covers values that are exactly zero in the fixture).
inline ::testing::AssertionResult near(const Tensor& actual, const Tensor& expected) {
  return testing::close(actual, expected, 1e-9, 1e-15);
}

// The fixture's trajectory row t of "<prefix>/<name>" (W or b).
inline Tensor row(const std::string& key, int64_t t) { return fixture().get(key).select(0, t); }

}  // namespace koan::optim_test
