// Op table rows for the unary family (fixtures: tests/fixtures/unary.safetensors).
#include "ops/op_table.h"

namespace koan::testing {
namespace {

#define UNARY_ROW(NAME, CALL)                                                      \
  KOAN_OP_ROW({.op = #NAME, .family = "unary",                                      \
               .fn = [](const Inputs& x) { return CALL; },                          \
               .errors = {[] { (void)koan::NAME(koan::Tensor()); }}});

UNARY_ROW(neg, koan::neg(x[0]))
UNARY_ROW(abs, koan::abs(x[0]))
UNARY_ROW(exp, koan::exp(x[0]))
UNARY_ROW(log, koan::log(x[0]))
UNARY_ROW(log1p, koan::log1p(x[0]))
UNARY_ROW(expm1, koan::expm1(x[0]))
UNARY_ROW(sqrt, koan::sqrt(x[0]))
UNARY_ROW(rsqrt, koan::rsqrt(x[0]))
UNARY_ROW(sin, koan::sin(x[0]))
UNARY_ROW(cos, koan::cos(x[0]))
UNARY_ROW(tanh, koan::tanh(x[0]))
UNARY_ROW(sigmoid, koan::sigmoid(x[0]))
UNARY_ROW(relu, koan::relu(x[0]))
UNARY_ROW(leaky_relu, koan::leaky_relu(x[0], 0.1))
UNARY_ROW(elu, koan::elu(x[0], 1.5))
UNARY_ROW(gelu, koan::gelu(x[0]))
UNARY_ROW(silu, koan::silu(x[0]))
UNARY_ROW(softplus, koan::softplus(x[0], 2.0, 5.0))
UNARY_ROW(erf, koan::erf(x[0]))
UNARY_ROW(sign, koan::sign(x[0]))
UNARY_ROW(floor, koan::floor(x[0]))
UNARY_ROW(ceil, koan::ceil(x[0]))
UNARY_ROW(round, koan::round(x[0]))
UNARY_ROW(reciprocal, koan::reciprocal(x[0]))
UNARY_ROW(square, koan::square(x[0]))

KOAN_OP_ROW({.op = "clamp", .family = "unary",
             .fn = [](const Inputs& x) { return koan::clamp(x[0], -0.5, 0.7); },
             .errors = {[] { (void)koan::clamp(koan::ones({2}), std::nullopt, std::nullopt); }}});
KOAN_OP_ROW({.op = "pow_scalar", .family = "unary",
             .fn = [](const Inputs& x) { return koan::pow(x[0], 2.5); },
             .errors = {[] { (void)koan::pow(koan::Tensor(), 2.5); }}});
KOAN_OP_ROW({.op = "logical_not", .family = "unary",
             .fn = [](const Inputs& x) { return koan::logical_not(x[0]); },
             .differentiable = false});

// GELU's first-order backward is one fused kernel; under create_graph it is a chain of ops.  Both
// must give the same gradient (to rounding), for the exact and the tanh forms, and the chain must
// differentiate again.
TEST(UnaryGrad, GeluFusedBackwardEqualsTheOpChain) {
  for (const char* approx : {"none", "tanh"})
    for (DType dt : {DType::Float64, DType::Float32}) {
      SCOPED_TRACE(str(approx, " ", name(dt)));
      Generator gen(11);
      Tensor x = mul(randn({5, 37}, {.dtype = dt}, &gen), 3.0), v = randn({5, 37}, {.dtype = dt}, &gen);
      Tensor xr = x.detach().requires_grad_();
      Tensor fused = autograd::grad({sum(mul(koan::gelu(xr, approx), v))}, {xr})[0];
      Tensor chain = autograd::grad({sum(mul(koan::gelu(xr, approx), v))}, {xr}, {}, true, true)[0];
      EXPECT_TRUE(close(fused, chain, dt == DType::Float64 ? 1e-12 : 1e-5, dt == DType::Float64 ? 1e-12 : 1e-6));
    }
  Generator gen(12);
  Tensor v = randn({7}, {.dtype = DType::Float64}, &gen);  // a constant upstream gradient
  for (const char* approx : {"none", "tanh"}) {
    Fn first = [&](const std::vector<Tensor>& in) {
      EnableGradGuard on;
      Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_();
      return autograd::grad({sum(mul(koan::gelu(x, approx), v))}, {x}, {}, true, true)[0];
    };
    EXPECT_TRUE(gradcheck(first, {randn({7}, {.dtype = DType::Float64}, &gen)})) << approx;
  }
}

}  // namespace
}  // namespace koan::testing
