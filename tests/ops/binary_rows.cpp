// Op table rows for the binary family (fixtures: tests/fixtures/binary.safetensors, made by
// gen_binary.py: float32/float64, broadcasting, 0-d operands, int64 and int64 x float32).
#include <cmath>
#include <limits>

#include "ops/op_table.h"

namespace koan::testing {
namespace {

Tensor f32(const Shape& s) { return ones(s); }
Tensor i64(const Shape& s) { return ones(s, {.dtype = DType::Int64}); }
Tensor b8(const Shape& s) { return ones(s, {.dtype = DType::Bool}); }

// Errors every binary op shares: shapes that do not broadcast, an undefined operand.
#define BINARY_ERRORS(NAME)                                        \
  [] { (void)koan::NAME(f32({3}), f32({4})); },                    \
  [] { (void)koan::NAME(f32({2, 3}), f32({3, 2})); },              \
  [] { (void)koan::NAME(f32({2, 1, 3}), f32({4, 2})); },           \
  [] { (void)koan::NAME(koan::Tensor(), f32({3})); },              \
  [] { (void)koan::NAME(f32({3}), koan::Tensor()); }

KOAN_OP_ROW({.op = "add", .family = "binary",
             .fn = [](const Inputs& x) { return koan::add(x[0], x[1], 2); },
             .errors = {BINARY_ERRORS(add)}});
KOAN_OP_ROW({.op = "sub", .family = "binary",
             .fn = [](const Inputs& x) { return koan::sub(x[0], x[1]); },
             // bool - bool is refused, as in PyTorch
             .errors = {BINARY_ERRORS(sub), [] { (void)koan::sub(b8({2}), b8({2})); }}});
KOAN_OP_ROW({.op = "mul", .family = "binary",
             .fn = [](const Inputs& x) { return koan::mul(x[0], x[1]); },
             .errors = {BINARY_ERRORS(mul)}});
KOAN_OP_ROW({.op = "div", .family = "binary",
             .fn = [](const Inputs& x) { return koan::div(x[0], x[1]); },
             .errors = {BINARY_ERRORS(div)}});
KOAN_OP_ROW({.op = "pow", .family = "binary",
             .fn = [](const Inputs& x) { return koan::pow(x[0], x[1]); },
             .errors = {BINARY_ERRORS(pow), [] { (void)koan::pow(b8({2}), b8({2})); }}});
KOAN_OP_ROW({.op = "maximum", .family = "binary",
             .fn = [](const Inputs& x) { return koan::maximum(x[0], x[1]); },
             .errors = {BINARY_ERRORS(maximum)}});
KOAN_OP_ROW({.op = "minimum", .family = "binary",
             .fn = [](const Inputs& x) { return koan::minimum(x[0], x[1]); },
             .errors = {BINARY_ERRORS(minimum)}});
KOAN_OP_ROW({.op = "remainder", .family = "binary",
             .fn = [](const Inputs& x) { return koan::remainder(x[0], x[1]); },
             .errors = {BINARY_ERRORS(remainder),
                        // integer division by zero (PyTorch: ZeroDivisionError), small and large
                        [] { (void)koan::remainder(i64({4}), koan::zeros({4}, {.dtype = DType::Int64})); },
                        [] {
                          (void)koan::remainder(i64({1 << 17}),
                                                koan::zeros({1 << 17}, {.dtype = DType::Int64}));
                        }}});
KOAN_OP_ROW({.op = "atan2", .family = "binary",
             .fn = [](const Inputs& x) { return koan::atan2(x[0], x[1]); },
             .errors = {BINARY_ERRORS(atan2)}});

#define COMPARE_ROW(NAME)                                                      \
  KOAN_OP_ROW({.op = #NAME, .family = "binary",                                \
               .fn = [](const Inputs& x) { return koan::NAME(x[0], x[1]); },   \
               .differentiable = false,                                         \
               .errors = {BINARY_ERRORS(NAME)}});

COMPARE_ROW(eq)
COMPARE_ROW(ne)
COMPARE_ROW(lt)
COMPARE_ROW(le)
COMPARE_ROW(gt)
COMPARE_ROW(ge)
// Logical ops take any dtype (non-zero is true): only shapes can be wrong.
COMPARE_ROW(logical_and)
COMPARE_ROW(logical_or)
COMPARE_ROW(logical_xor)

KOAN_OP_ROW({.op = "where", .family = "binary",
             .fn = [](const Inputs& x) { return koan::where(x[0], x[1], x[2]); },
             .errors = {
                 // the condition must be bool, not merely 0/1 values
                 [] { (void)koan::where(f32({3}), f32({3}), f32({3})); },
                 [] { (void)koan::where(i64({3}), f32({3}), f32({3})); },
                 // all three must broadcast together
                 [] { (void)koan::where(b8({4}), f32({3}), f32({3})); },
                 [] { (void)koan::where(b8({3}), f32({2}), f32({3})); },
                 [] { (void)koan::where(b8({3}), f32({3}), f32({2, 2})); },
                 [] { (void)koan::where(koan::Tensor(), f32({3}), f32({3})); },
             }});

#undef COMPARE_ROW
#undef BINARY_ERRORS

// Behaviour the fixtures cannot show.

TEST(BinaryOps, LogicalOpsAcceptAnyDtype) {
  Tensor a = koan::tensor({0.0, 0.5, -2.0, 0.0});
  Tensor b = koan::tensor({1.0, 0.0, 3.0, 0.0}, {.dtype = DType::Int64});
  EXPECT_EQ(koan::logical_and(a, b).to_vector<bool>(), (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(koan::logical_or(a, b).to_vector<bool>(), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(koan::logical_xor(a, b).to_vector<bool>(), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(koan::logical_and(a, b).dtype(), DType::Bool);
}

TEST(BinaryOps, ComparisonsWithScalars) {
  Tensor a = koan::tensor({1.0, 2.0, 3.0});
  EXPECT_EQ(koan::eq(a, 2).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(koan::ne(a, 2).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(koan::lt(a, 2.5).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(koan::le(a, 2).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(koan::gt(a, 2).to_vector<bool>(), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(koan::ge(a, 2).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  // An int tensor against a fractional scalar compares in floating point: 2 < 2.5.
  Tensor i = koan::tensor({2.0, 3.0}, {.dtype = DType::Int64});
  EXPECT_EQ(koan::lt(i, 2.5).to_vector<bool>(), (std::vector<bool>{true, false}));
}

TEST(BinaryOps, ScalarOverloadsMatchTensorOps) {
  Tensor a = koan::tensor({1.0, -2.0, 3.5});
  EXPECT_TRUE(close(koan::add(a, 2), koan::tensor({3.0, 0.0, 5.5})));
  EXPECT_TRUE(close(koan::sub(a, 1), koan::tensor({0.0, -3.0, 2.5})));
  EXPECT_TRUE(close(koan::rsub(a, 1), koan::tensor({0.0, 3.0, -2.5})));
  EXPECT_TRUE(close(koan::mul(a, 0.5), koan::tensor({0.5, -1.0, 1.75})));
  EXPECT_TRUE(close(koan::div(a, 2), koan::tensor({0.5, -1.0, 1.75})));
  EXPECT_TRUE(close(koan::pow(2.0, a), koan::tensor({2.0, 0.25, 11.313708498984761})));
  Tensor w = koan::where(koan::gt(a, 0), a, 0.0);
  EXPECT_TRUE(close(w, koan::tensor({1.0, 0.0, 3.5})));
  // Integer tensors with an integer scalar stay integer; div is true division.
  Tensor i = koan::tensor({7.0, -7.0}, {.dtype = DType::Int64});
  EXPECT_EQ(koan::mul(i, 3).dtype(), DType::Int64);
  EXPECT_EQ(koan::div(i, 2).dtype(), DType::Float32);
  EXPECT_TRUE(close(koan::div(i, 2), koan::tensor({3.5, -3.5})));
}

TEST(BinaryOps, RemainderTakesTheDivisorsSign) {
  // Python's modulo (torch.remainder), not C's fmod.
  Tensor a = koan::tensor({5.0, -5.0, 5.0, -5.0}, {.dtype = DType::Int64});
  Tensor b = koan::tensor({3.0, 3.0, -3.0, -3.0}, {.dtype = DType::Int64});
  EXPECT_EQ(koan::remainder(a, b).to_vector<int64_t>(), (std::vector<int64_t>{2, 1, -1, -2}));
  Tensor af = koan::tensor({5.5, -5.5, 5.5, -5.5}), bf = koan::tensor({3.0, 3.0, -3.0, -3.0});
  EXPECT_TRUE(close(koan::remainder(af, bf), koan::tensor({2.5, 0.5, -0.5, -2.5})));
}

TEST(BinaryOps, IntegerPowWrapsLikePyTorch) {
  // torch.pow on integers wraps modulo 2^bits (values read off PyTorch 1.13).
  Tensor a = koan::tensor({3.0, -3.0}, {.dtype = DType::Int64});
  Tensor e = koan::tensor({41.0, 41.0}, {.dtype = DType::Int64});
  EXPECT_EQ(koan::pow(a, e).to_vector<int64_t>(),
            (std::vector<int64_t>{-420491770248316829LL, 420491770248316829LL}));
  Tensor u = koan::full({1}, 3, {.dtype = DType::UInt8}), ue = koan::full({1}, 7, {.dtype = DType::UInt8});
  EXPECT_EQ(koan::pow(u, ue).to_vector<uint8_t>(), (std::vector<uint8_t>{139}));
  Tensor i = koan::full({1}, 7, {.dtype = DType::Int32}), ie = koan::full({1}, 13, {.dtype = DType::Int32});
  EXPECT_EQ(koan::pow(i, ie).to_vector<int32_t>(), (std::vector<int32_t>{-1895237401}));
}

TEST(BinaryOps, MaximumMinimumPropagateNaN) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor a = koan::tensor({1.0, nan}), b = koan::tensor({nan, 2.0});
  for (double v : koan::maximum(a, b).to_vector<double>()) EXPECT_TRUE(std::isnan(v));
  for (double v : koan::minimum(a, b).to_vector<double>()) EXPECT_TRUE(std::isnan(v));
}

TEST(BinaryOps, TiesSplitTheGradient) {
  // maximum(a, a) at a tie: PyTorch gives each side half the gradient.
  Tensor a = koan::tensor({1.0, 2.0}, {.dtype = DType::Float64}).requires_grad_();
  Tensor b = koan::tensor({1.0, 3.0}, {.dtype = DType::Float64}).requires_grad_();
  auto g = autograd::grad({koan::sum(koan::maximum(a, b))}, {a, b});
  EXPECT_TRUE(close(g[0], koan::tensor({0.5, 0.0}, {.dtype = DType::Float64})));
  EXPECT_TRUE(close(g[1], koan::tensor({0.5, 1.0}, {.dtype = DType::Float64})));
}

TEST(BinaryOps, LargeBroadcastMatchesSmallLoop) {
  // Big enough to take the threaded path; values checked against a scalar loop.
  Tensor a = koan::arange(0, 300, 1, DType::Float64).reshape({300, 1});
  Tensor b = koan::arange(0, 200, 1, DType::Float64);
  Tensor c = koan::sub(koan::mul(a, 2), b);
  ASSERT_EQ(c.shape(), (Shape{300, 200}));
  auto v = c.to_vector<double>();
  for (int64_t i = 0; i < 300; i += 37)
    for (int64_t j = 0; j < 200; j += 23) EXPECT_EQ(v[i * 200 + j], 2.0 * i - j);
}

TEST(BinaryOps, WhereGradientReachesOnlyTheChosenSide) {
  Tensor c = koan::tensor({1.0, 0.0, 1.0}).to(DType::Bool);
  Tensor a = koan::tensor({1.0, 2.0, 3.0}, {.dtype = DType::Float64}).requires_grad_();
  Tensor b = koan::full({}, 5.0, {.dtype = DType::Float64}).requires_grad_();
  auto g = autograd::grad({koan::sum(koan::where(c, a, b))}, {a, b});
  EXPECT_TRUE(close(g[0], koan::tensor({1.0, 0.0, 1.0}, {.dtype = DType::Float64})));
  EXPECT_EQ(g[1].shape(), Shape{});
  EXPECT_DOUBLE_EQ(g[1].item<double>(), 1.0);
}

TEST(BinaryOps, SecondDerivativeOfMulAndDiv) {
  // Backward rules are written with ops: d2/dx2 of x^3 / y via create_graph.
  Tensor x = koan::tensor({1.5, -0.5}, {.dtype = DType::Float64}).requires_grad_();
  Tensor y = koan::tensor({2.0, 4.0}, {.dtype = DType::Float64});
  Tensor f = koan::sum(koan::div(koan::mul(koan::mul(x, x), x), y));
  auto g1 = autograd::grad({f}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true);
  auto g2 = autograd::grad({koan::sum(g1[0])}, {x});
  // d/dx (3x^2 / y) = 6x / y
  EXPECT_TRUE(close(g2[0], koan::tensor({4.5, -0.75}, {.dtype = DType::Float64})));
}

}  // namespace
}  // namespace koan::testing
