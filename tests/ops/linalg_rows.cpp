// Op table rows for the linalg family (fixtures: tests/fixtures/linalg.safetensors, made by
// gen_linalg.py), and products of transposed views checked against the same fixtures.
#include "ops/op_table.h"

namespace koan::testing {
namespace {

Tensor f32(const Shape& s) { return ones(s); }

KOAN_OP_ROW({.op = "matmul", .family = "linalg",
             .fn = [](const Inputs& x) { return koan::matmul(x[0], x[1]); },
             .errors = {
                 // inner dims differ
                 [] { (void)koan::matmul(f32({3, 4}), f32({5, 2})); },
                 [] { (void)koan::matmul(f32({4}), f32({3})); },
                 [] { (void)koan::matmul(f32({3}), f32({4, 2})); },
                 [] { (void)koan::matmul(f32({2, 3}), f32({2})); },
                 [] { (void)koan::matmul(f32({2, 3, 4}), f32({2, 5, 4})); },
                 // batch dims do not broadcast
                 [] { (void)koan::matmul(f32({2, 3, 4}), f32({3, 4, 5})); },
                 [] { (void)koan::matmul(f32({2, 1, 3, 4}), f32({3, 2, 4, 5})); },
                 // 0-d operands
                 [] { (void)koan::matmul(koan::ones({}), f32({3})); },
                 [] { (void)koan::matmul(f32({3}), koan::ones({})); },
                 // bool has no product
                 [] { (void)koan::matmul(koan::ones({2, 2}, {.dtype = DType::Bool}),
                                         koan::ones({2, 2}, {.dtype = DType::Bool})); },
                 [] { (void)koan::matmul(koan::Tensor(), f32({3})); },
                 // mm and bmm take exactly 2-D and 3-D with equal batch
                 [] { (void)koan::mm(f32({2, 3, 4}), f32({4, 5})); },
                 [] { (void)koan::bmm(f32({3, 4}), f32({4, 5})); },
                 [] { (void)koan::bmm(f32({2, 3, 4}), f32({1, 4, 5})); },
             },
             .rtol32 = 1e-5, .atol32 = 1e-5});

KOAN_OP_ROW({.op = "linear", .family = "linalg",
             .fn = [](const Inputs& x) {
               return x.size() > 2 ? koan::linear(x[0], x[1], x[2]) : koan::linear(x[0], x[1]);
             },
             .errors = {
                 // features differ from weight's in
                 [] { (void)koan::linear(f32({3, 4}), f32({5, 3})); },
                 // weight must be 2-D
                 [] { (void)koan::linear(f32({3, 4}), f32({4})); },
                 [] { (void)koan::linear(f32({3, 4}), f32({1, 5, 4})); },
                 // bias must match out features
                 [] { (void)koan::linear(f32({3, 4}), f32({5, 4}), f32({4})); },
                 [] { (void)koan::linear(koan::ones({}), f32({5, 1})); },
             },
             .rtol32 = 1e-5, .atol32 = 1e-5});

// matmul_t/<k>: products of transposed operands (gen_linalg.py lists the forms, in this order).
Tensor matmul_t(size_t k, const Tensor& a, const Tensor& b) {
  switch (k % 4) {
    case 0: return koan::matmul(a.t(), b);
    case 1: return koan::matmul(a, b.t());
    case 2: return koan::matmul(a.t(), b.t());
    default: return koan::matmul(a.transpose(1, 2), b);
  }
}

TEST(Linalg, TransposedOperandsMatchPyTorch) {
  Fixture fx("linalg");
  auto cases = fx.cases("matmul_t");
  ASSERT_EQ(cases.size(), 8u);
  for (size_t k = 0; k < cases.size(); ++k) {
    std::string c = "matmul_t/" + std::to_string(k);
    SCOPED_TRACE(c);
    Tensor a = fx.get(c + "/in0").requires_grad_(), b = fx.get(c + "/in1").requires_grad_();
    bool f64 = a.dtype() == DType::Float64;
    double rtol = f64 ? 1e-9 : 1e-5, atol = f64 ? 1e-10 : 1e-5;
    Tensor out = matmul_t(k, a, b);
    EXPECT_TRUE(close(out, fx.get(c + "/out"), rtol, atol)) << "forward";
    auto g = autograd::grad({out}, {a, b}, {fx.get(c + "/gout")});
    EXPECT_TRUE(close(g[0], fx.get(c + "/grad0"), rtol, atol)) << "gradient of a";
    EXPECT_TRUE(close(g[1], fx.get(c + "/grad1"), rtol, atol)) << "gradient of b";
    if (f64) {
      EXPECT_TRUE(gradcheck([k](const Inputs& x) { return matmul_t(k, x[0], x[1]); },
                            {a.detach(), b.detach()}));
    }
  }
}

TEST(Linalg, StridedSlicesAndBroadcastViews) {
  // Operands no GEMM can read directly (every-other column, stride-0 rows) are copied first.
  Generator gen(7);
  Tensor big = randn({6, 8}, {.dtype = DType::Float64}, &gen);
  Tensor a = big.slice(1, 0, 8, 2);                           // (6, 4), column stride 2
  Tensor b = randn({4, 3}, {.dtype = DType::Float64}, &gen);
  Tensor row = randn({1, 4}, {.dtype = DType::Float64}, &gen).expand({5, 4});  // stride 0
  Tensor ref_a = a.contiguous(), ref_row = row.contiguous();
  EXPECT_TRUE(close(koan::matmul(a, b), koan::matmul(ref_a, b), 1e-12, 1e-12));
  EXPECT_TRUE(close(koan::matmul(row, b), koan::matmul(ref_row, b), 1e-12, 1e-12));
  EXPECT_TRUE(gradcheck([](const Inputs& x) { return koan::matmul(x[0].slice(1, 0, 8, 2), x[1]); },
                        {big, b}));
}

// linear is one node whose backward is made of ops: its gradients differentiate again, and the
// weight gradient arrives in the weight's own (out, in) layout, so accumulating it reads it
// contiguously.
TEST(Linalg, LinearGradientsDifferentiateAndKeepTheWeightLayout) {
  Generator gen(3);
  auto d = [&](const Shape& s) { return randn(s, {.dtype = DType::Float64}, &gen); };
  Fn first = [](const std::vector<Tensor>& in) {
    EnableGradGuard on;
    std::vector<Tensor> l;
    for (auto& t : in) l.push_back(t.requires_grad() ? t : t.detach().requires_grad_());
    Tensor y = koan::linear(l[0], l[1], l[2]);
    auto g = autograd::grad({sum(mul(y, y))}, l, {}, true, true);
    return cat({g[0].flatten(), g[1].flatten(), g[2].flatten()}, 0);
  };
  EXPECT_TRUE(gradcheck(first, {d({2, 3, 4}), d({5, 4}), d({5})}));
  Tensor w = randn({5, 4}).requires_grad_();
  Tensor y = koan::linear(randn({3, 4}), w);
  EXPECT_EQ(y.grad_fn()->name(), "AddmmBackward");
  y.sum().backward();
  EXPECT_TRUE(w.grad().is_contiguous());
}

// The first-order backward calls the GEMMs directly; under create_graph it runs matmul ops.
// Both give the same gradients, for strided inputs, an expanded upstream gradient (from sum),
// 1-D and batched inputs, and any subset of inputs that needs a gradient.
TEST(Linalg, LinearFirstOrderBackwardEqualsTheOpsBackward) {
  Generator gen(5);
  auto d = [&](const Shape& s) { return randn(s, {.dtype = DType::Float64}, &gen); };
  struct Case {
    Tensor x, w, b;
  };
  std::vector<Case> cases = {
      {d({4, 3}).t(), d({4, 5}).t(), d({5})},     // transposed input and weight
      {d({2, 3, 4}), d({5, 4}), d({5})},          // batched input
      {d({4}), d({5, 4}), Tensor()},              // 1-D input, no bias
      {d({6, 4}).narrow(0, 1, 3), d({5, 4}), d({5})},
  };
  for (size_t i = 0; i < cases.size(); ++i)
    for (int wanted = 1; wanted < 8; ++wanted) {
      SCOPED_TRACE("case " + std::to_string(i) + ", inputs wanted " + std::to_string(wanted));
      const Case& c = cases[i];
      if (!c.b.defined() && wanted == 4) continue;
      auto grads = [&](bool create_graph) {
        std::vector<Tensor> in = {c.x.detach(), c.w.detach(), c.b.defined() ? c.b.detach() : Tensor()};
        std::vector<Tensor> want;
        for (int k = 0; k < 3; ++k)
          if ((wanted >> k & 1) && in[k].defined()) want.push_back(in[k].requires_grad_());
        Tensor y = koan::linear(in[0], in[1], in[2]);
        Tensor loss = add(sum(y), sum(mul(y, y)));  // sum's gradient is an expanded (stride 0) tensor
        return autograd::grad({loss}, want, {}, create_graph, create_graph);
      };
      auto fast = grads(false), ops = grads(true);
      ASSERT_EQ(fast.size(), ops.size());
      for (size_t k = 0; k < fast.size(); ++k) {
        EXPECT_EQ(fast[k].shape(), ops[k].shape());
        EXPECT_TRUE(close(fast[k], ops[k].detach(), 1e-12, 1e-12)) << "gradient " << k;
      }
    }
}

TEST(Linalg, MixedDtypesPromote) {
  // torch.matmul refuses mixed dtypes; koan promotes them (int64 @ float32 -> float32).
  Tensor a = koan::tensor({1.0, 2.0}, {.dtype = DType::Int64}).reshape({1, 2});
  Tensor b = koan::tensor({0.5, 0.25}).reshape({2, 1});
  Tensor y = koan::matmul(a, b);
  EXPECT_EQ(y.dtype(), DType::Float32);
  EXPECT_TRUE(close(y, koan::full({1, 1}, 1.0)));
}

TEST(Linalg, LargeBatchedProductMatchesLoop) {
  // Big enough to fold the batch into one GEMM (batched @ matrix) and to run many GEMMs.
  Generator gen(3);
  Tensor a = randn({16, 9, 33}, {.dtype = DType::Float64}, &gen);
  Tensor w = randn({33, 17}, {.dtype = DType::Float64}, &gen);
  Tensor y = koan::matmul(a, w), yb = koan::matmul(a, w.expand({16, 33, 17}));
  for (int64_t i = 0; i < 16; i += 5) {
    Tensor ref = koan::matmul(a.select(0, i), w);
    EXPECT_TRUE(close(y.select(0, i), ref, 1e-12, 1e-12)) << "batch " << i;
    EXPECT_TRUE(close(yb.select(0, i), ref, 1e-12, 1e-12)) << "batch " << i;
  }
  // float32 through oneDNN agrees with float64 through BLAS.
  Tensor y32 = koan::matmul(a.to(DType::Float32), w.to(DType::Float32));
  EXPECT_TRUE(close(y32, y.to(DType::Float32), 1e-4, 1e-4));
}

}  // namespace
}  // namespace koan::testing
