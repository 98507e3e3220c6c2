// Reduce family beyond the op table: the threaded paths on large tensors (against plain loops
// and compositions of other ops), thread-count invariance, second derivatives of the backward
// rules written with ops, and results that in-place ops may modify.
#include <cmath>

#include "support/testing.h"

namespace koan::testing {
namespace {

using Inputs = std::vector<Tensor>;

Tensor f64(const Shape& s) { return randn(s, {.dtype = DType::Float64}); }

// d/dx of sum(fn(x) * w), kept differentiable, so gradcheck of it checks second derivatives.
Fn grad_of(Fn fn, const Shape& out_shape) {
  Tensor w = randn(out_shape, {.dtype = DType::Float64});
  return [fn, w](const std::vector<Tensor>& in) {
    EnableGradGuard on;  // gradcheck evaluates the numeric side without grad mode
    Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_();
    Tensor y = fn({x});
    return autograd::grad({sum(mul(y, w))}, {x}, {}, true, true)[0];
  };
}

TEST(ReduceOps, SecondDerivatives) {
  struct C {
    const char* name;
    Fn fn;
    Shape in, out;
  };
  std::vector<C> cases = {
      {"softmax", [](const Inputs& x) { return softmax(x[0], 1); }, {3, 4}, {3, 4}},
      {"log_softmax", [](const Inputs& x) { return log_softmax(x[0], 0); }, {3, 4}, {3, 4}},
      {"logsumexp", [](const Inputs& x) { return logsumexp(x[0], {1}); }, {3, 4}, {3}},
      {"var", [](const Inputs& x) { return var(x[0], {0}); }, {3, 4}, {4}},
      {"std", [](const Inputs& x) { return koan::std(x[0], {1}, 0, true); }, {3, 4}, {3, 1}},
      {"norm2", [](const Inputs& x) { return norm(x[0], 2, {1}); }, {3, 4}, {3}},
      {"norm3", [](const Inputs& x) { return norm(x[0], 3, {0}); }, {3, 4}, {4}},
      {"prod", [](const Inputs& x) { return prod(x[0], {1}); }, {3, 4}, {3}},
      {"cumsum", [](const Inputs& x) { return mul(cumsum(x[0], 1), x[0]); }, {3, 4}, {3, 4}},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor x = add(f64(c.in), 0.1);
    EXPECT_TRUE(gradcheck(grad_of(c.fn, c.out), {x}));
  }
}

TEST(ReduceOps, ProdGradientWithZeros) {
  // Rows with no zero, one zero and two zeros: first and second derivatives are exact.
  Tensor x = tensor({{1.5, -2.0, 0.5, 3.0}, {1.5, 0.0, 2.0, -1.0}, {0.0, 2.0, 0.0, 1.25}},
                    {.dtype = DType::Float64});
  Fn fn = [](const Inputs& in) { return prod(in[0], {1}); };
  EXPECT_TRUE(gradcheck(fn, {x}));
  EXPECT_TRUE(gradcheck(grad_of(fn, {3}), {x}));
  Fn all_fn = [](const Inputs& in) { return prod(in[0]); };
  EXPECT_TRUE(gradcheck(all_fn, {x}));
  Tensor xr = x.detach().requires_grad_();
  Tensor g = autograd::grad({prod(xr, {1})}, {xr}, {ones({3}, {.dtype = DType::Float64})})[0];
  // Row 1: only the zero gets a gradient, the product of the others.
  EXPECT_TRUE(close(g.select(0, 1), tensor({0.0, -3.0, 0.0, 0.0}, {.dtype = DType::Float64})));
  EXPECT_TRUE(close(g.select(0, 2), zeros({4}, {.dtype = DType::Float64})));
}

// Large inputs take the threaded paths; the results must match plain compositions and must not
// depend on the thread count.
TEST(ReduceOps, LargeInputsMatchReferences) {
  Tensor x = randn({300, 257}, {.dtype = DType::Float64});
  for (int64_t d : {0, 1}) {
    SCOPED_TRACE(d);
    Tensor m = amax(x, {d}, true);
    Tensor e = exp(sub(x, m));
    Tensor ref = div(e, sum(e, {d}, true));
    EXPECT_TRUE(close(softmax(x, d), ref, 1e-10, 1e-12));
    EXPECT_TRUE(close(log_softmax(x, d), log(ref), 1e-9, 1e-10));
    EXPECT_TRUE(close(logsumexp(x, {d}, true), add(log(sum(e, {d}, true)), m), 1e-10, 1e-10));
    Tensor mu = mean(x, {d}, true);
    EXPECT_TRUE(close(var(x, {d}), div(sum(square(sub(x, mu)), {d}), static_cast<double>(x.size(d) - 1)),
                      1e-10, 1e-12));
    EXPECT_TRUE(close(norm(x, 2, {d}), sqrt(sum(square(x), {d})), 1e-10, 1e-12));
    EXPECT_TRUE(close(norm(x, 1, {d}), sum(abs(x), {d}), 1e-10, 1e-12));
    // cumsum against a running loop
    Tensor c = cumsum(x, d);
    auto xv = x.contiguous().to_vector<double>(), cv = c.contiguous().to_vector<double>();
    int64_t R = x.size(0), C = x.size(1);
    double worst = 0;
    for (int64_t o = 0; o < (d == 0 ? C : R); ++o) {
      double acc = 0;
      for (int64_t i = 0; i < (d == 0 ? R : C); ++i) {
        int64_t k = d == 0 ? i * C + o : o * C + i;
        acc += xv[k];
        worst = std::max(worst, std::abs(cv[k] - acc));
      }
    }
    EXPECT_LT(worst, 1e-10);
  }
}

TEST(ReduceOps, ThreadCountInvariance) {
  Tensor x = randn({64, 70, 40});
  int before = get_num_threads();
  auto run = [&] {
    return std::vector<Tensor>{softmax(x, 1), log_softmax(x, -1), cumsum(x, 0), var(x, {0, 2}),
                               norm(x, 2, {1}), prod(x, {2}), logsumexp(x, {1}), sum(x, {0, 1}),
                               amax(x, {0, 2})};
  };
  set_num_threads(1);
  auto one = run();
  set_num_threads(std::max(2, before));
  auto many = run();
  set_num_threads(before);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(equal(one[i], many[i])) << "result " << i;
}

TEST(ReduceOps, SoftmaxFusedBackwardMatchesOpBackward) {
  Tensor x = randn({40, 33, 5}, {.dtype = DType::Float64}).requires_grad_();
  Tensor g = randn({40, 33, 5}, {.dtype = DType::Float64});
  for (bool log : {false, true})
    for (int64_t d : {0, 1, 2}) {
      Tensor y = log ? log_softmax(x, d) : softmax(x, d);
      Tensor fused = autograd::grad({y}, {x}, {g}, true, false)[0];       // kernel
      Tensor composed = autograd::grad({y}, {x}, {g}, true, true)[0];     // ops
      EXPECT_TRUE(close(fused, composed, 1e-12, 1e-14)) << "log " << log << " dim " << d;
    }
}

TEST(ReduceOps, ResultsAcceptInPlaceOps) {
  // A reduction's result is a fresh tensor, not a view: in-place ops on it are fine.
  Tensor x = randn({3, 4}).requires_grad_();
  Tensor s = sum(x, {0});
  add_(s, 1.0);
  Tensor v = var(x, {1});  // saves x, not its result
  mul_(v, 2.0);
  sum(add(s, sum(v))).backward();
  Tensor xd = x.detach();
  // d/dx sum(s + sum(v)) = 1 + 4 * 2 * 2 (x - mean) / 3  (sum(v) is broadcast over s's 4 entries)
  Tensor dvar = mul(sub(xd, mean(xd, {1}, true)), 4.0 * 2.0 * 2.0 / 3.0);
  EXPECT_TRUE(close(x.grad(), add(ones({3, 4}), dvar)));
}

TEST(ReduceOps, EdgeValues) {
  // Empty reductions give the identity, as PyTorch.
  EXPECT_EQ(prod(zeros({0})).item<float>(), 1.f);
  EXPECT_FALSE(any(zeros({0})).item<bool>());
  EXPECT_TRUE(all(zeros({2, 0}), {1}).to_vector<bool>() == std::vector<bool>({true, true}));
  EXPECT_TRUE(std::isinf(logsumexp(zeros({0}), {0}).item<float>()));
  // All -inf logits: logsumexp is -inf, not NaN.
  float ninf = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(logsumexp(tensor({ninf, ninf}), {0}).item<float>(), ninf);
  // A single element has no unbiased variance; the population one is 0.
  EXPECT_TRUE(std::isnan(var(ones({1})).item<float>()));
  EXPECT_EQ(var(ones({1}), {}, 0).item<float>(), 0.f);
  // Huge logits stay finite.
  Tensor p = softmax(tensor({1e30f, 0.f, -1e30f}), 0);
  EXPECT_TRUE(close(p, tensor({1.f, 0.f, 0.f})));
  EXPECT_EQ(cumsum(tensor({1, 2, 3}, DType::Int32), 0).dtype(), DType::Int64);
}

}  // namespace
}  // namespace koan::testing
