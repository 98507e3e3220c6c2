// Op table rows for the shape family (fixtures: tests/fixtures/shape.safetensors, made by
// gen_shape.py).  Most cases end with an int64 input holding the op's arguments.
#include "ops/op_table.h"

namespace koan::testing {
namespace {

std::vector<int64_t> args(const Tensor& t) { return t.to_vector<int64_t>(); }
Tensor m23() { return koan::randn({2, 3}); }

KOAN_OP_ROW({.op = "view", .family = "shape",
             .fn = [](const Inputs& x) { return koan::view(x[0], args(x[1])); },
             .errors = {[] { (void)koan::view(m23().transpose(0, 1), {6}); },   // strides
                        [] { (void)koan::view(m23(), {4}); },                    // sizes
                        [] { (void)koan::view(m23(), {-1, -1}); },
                        [] { (void)koan::view(m23(), {4, -1}); },
                        [] { (void)koan::view(m23(), {-2, 3}); }},
             // A view of a non-contiguous input legitimately fails (that is reshape's job).
             .check_noncontiguous = false});
KOAN_OP_ROW({.op = "reshape", .family = "shape",
             .fn = [](const Inputs& x) { return koan::reshape(x[0], args(x[1])); },
             .errors = {[] { (void)koan::reshape(m23(), {5}); },
                        [] { (void)koan::reshape(m23(), {-1, 4}); }}});
KOAN_OP_ROW({.op = "transpose", .family = "shape",
             .fn = [](const Inputs& x) { auto a = args(x[1]); return koan::transpose(x[0], a[0], a[1]); },
             .errors = {[] { (void)koan::transpose(m23(), 0, 2); },
                        [] { (void)koan::transpose(m23(), -3, 0); }}});
KOAN_OP_ROW({.op = "permute", .family = "shape",
             .fn = [](const Inputs& x) { return koan::permute(x[0], args(x[1])); },
             .errors = {[] { (void)koan::permute(m23(), {0, 0}); },
                        [] { (void)koan::permute(m23(), {0}); },
                        [] { (void)koan::permute(m23(), {0, 2}); }}});
KOAN_OP_ROW({.op = "narrow", .family = "shape",
             .fn = [](const Inputs& x) { auto a = args(x[1]); return koan::narrow(x[0], a[0], a[1], a[2]); },
             .errors = {[] { (void)koan::narrow(m23(), 1, 2, 2); },
                        [] { (void)koan::narrow(m23(), 2, 0, 1); },
                        [] { (void)koan::narrow(m23(), 0, 0, -1); },
                        [] { (void)koan::narrow(koan::scalar_tensor(1.0, DType::Float32), 0, 0, 1); }}});
KOAN_OP_ROW({.op = "slice", .family = "shape",
             .fn = [](const Inputs& x) { auto a = args(x[1]); return koan::slice(x[0], a[0], a[1], a[2], a[3]); },
             .errors = {[] { (void)koan::slice(m23(), 1, 0, 3, 0); },
                        [] { (void)koan::slice(m23(), 1, 0, 3, -1); },
                        [] { (void)koan::slice(m23(), 2, 0, 1); }}});
KOAN_OP_ROW({.op = "select", .family = "shape",
             .fn = [](const Inputs& x) { auto a = args(x[1]); return koan::select(x[0], a[0], a[1]); },
             .errors = {[] { (void)koan::select(m23(), 1, 3); },
                        [] { (void)koan::select(m23(), 0, -3); },
                        [] { (void)koan::select(m23(), 2, 0); },
                        [] { (void)koan::select(koan::scalar_tensor(1.0, DType::Float32), 0, 0); }}});
KOAN_OP_ROW({.op = "expand", .family = "shape",
             .fn = [](const Inputs& x) { return koan::expand(x[0], args(x[1])); },
             .errors = {[] { (void)koan::expand(m23(), {4, 3}); },
                        [] { (void)koan::expand(m23(), {3}); },
                        [] { (void)koan::expand(m23(), {-1, 2, 3}); }}});
KOAN_OP_ROW({.op = "squeeze", .family = "shape",
             .fn = [](const Inputs& x) {
               auto a = args(x[1]);
               return a[0] ? koan::squeeze(x[0], a[1]) : koan::squeeze(x[0]);
             },
             .errors = {[] { (void)koan::squeeze(m23(), 2); }}});
KOAN_OP_ROW({.op = "unsqueeze", .family = "shape",
             .fn = [](const Inputs& x) { return koan::unsqueeze(x[0], args(x[1])[0]); },
             .errors = {[] { (void)koan::unsqueeze(m23(), 3); },
                        [] { (void)koan::unsqueeze(m23(), -4); }}});
KOAN_OP_ROW({.op = "flatten", .family = "shape",
             .fn = [](const Inputs& x) { auto a = args(x[1]); return koan::flatten(x[0], a[0], a[1]); },
             .errors = {[] { (void)koan::flatten(m23(), 1, 0); },
                        [] { (void)koan::flatten(m23(), 0, 2); }}});
KOAN_OP_ROW({.op = "unflatten", .family = "shape",
             .fn = [](const Inputs& x) {
               auto a = args(x[1]);
               return koan::unflatten(x[0], a[0], Shape(a.begin() + 1, a.end()));
             },
             .errors = {[] { (void)koan::unflatten(m23(), 1, {2, 2}); },
                        [] { (void)koan::unflatten(m23(), 2, {1, 3}); },
                        [] { (void)koan::unflatten(m23(), 0, {-1, -1}); }}});
KOAN_OP_ROW({.op = "contiguous", .family = "shape",
             .fn = [](const Inputs& x) { return koan::contiguous(x[0]); },
             .errors = {[] { (void)koan::contiguous(koan::Tensor()); }}});
KOAN_OP_ROW({.op = "clone", .family = "shape",
             .fn = [](const Inputs& x) { return koan::clone(x[0]); },
             .errors = {[] { (void)koan::clone(koan::Tensor()); }}});
// float32 -> float64 and back.  No float64 gradcheck: the float64 -> float32 case rounds its
// output, which central differences cannot see through; the gradients are checked against
// PyTorch, and their dtype in ToGradients below.
KOAN_OP_ROW({.op = "to", .family = "shape",
             .fn = [](const Inputs& x) {
               return koan::to(x[0], x[0].dtype() == DType::Float32 ? DType::Float64 : DType::Float32);
             },
             .differentiable = false,
             .errors = {[] { (void)koan::to(koan::Tensor(), DType::Float64); }}});

TEST(ToGradients, FlowBackInTheInputDtype) {
  for (auto [from, to] : {std::pair{DType::Float32, DType::Float64}, std::pair{DType::Float64, DType::Float32}}) {
    Tensor x = koan::randn({3, 2}, {.dtype = from}).requires_grad_();
    Tensor y = koan::to(x, to);
    ASSERT_EQ(y.dtype(), to);
    Tensor w = koan::randn({3, 2}, {.dtype = to});
    Tensor loss = koan::sum(koan::mul(y, w));
    auto g = autograd::grad({loss}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true);
    ASSERT_TRUE(g[0].defined());
    EXPECT_EQ(g[0].dtype(), from);
    EXPECT_TRUE(close(g[0], koan::to(w, from), 1e-6, 1e-6));
    // Differentiable again: d/dx sum(g * x) = g.
    auto gg = autograd::grad({koan::sum(koan::mul(g[0], x))}, {x});
    EXPECT_EQ(gg[0].dtype(), from);
    EXPECT_TRUE(close(gg[0], koan::to(w, from), 1e-6, 1e-6));
  }
}

TEST(ShapeGrad, SecondOrderThroughViews) {
  // The sub-block views' backward embeds the gradient in zeros with a recorded op, so gradients
  // of gradients flow through narrow, slice, select and expand.
  Tensor a = koan::randn({3, 4, 2}, {.dtype = DType::Float64});
  Fn f = [](const Inputs& x) {
    Tensor y = koan::narrow(x[0], -2, 1, 3);               // (3, 3, 2)
    y = koan::slice(y, 0, 0, 3, 2).select(-1, 1);            // (2, 3)
    y = koan::expand(koan::unsqueeze(y, 0), {2, 2, 3}).permute({2, 0, 1}).reshape({3, 4});
    return koan::mul(y, koan::unflatten(koan::flatten(koan::transpose(y, 0, 1)), 0, {3, 4}));
  };
  EXPECT_TRUE(gradcheck(f, {a}));
  Fn g = [f](const Inputs& x) {
    EnableGradGuard on;  // gradcheck evaluates under NoGradGuard
    return autograd::grad({koan::sum(f(x))}, {x[0]}, {}, true, true)[0];
  };
  EXPECT_TRUE(gradcheck(g, {a}));
}

}  // namespace
}  // namespace koan::testing
