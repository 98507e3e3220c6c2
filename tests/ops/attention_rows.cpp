// Op table rows for the attention family (fixtures: tests/fixtures/attention.safetensors, made
// by gen_attention.py).  An empty mask input stands for "no mask"; the scale travels as an int64
// fraction with the causal flag: P(numerator, denominator, is_causal).
#include "koan/autograd/engine.h"
#include "koan/autograd/grad_mode.h"
#include "koan/ops/attention.h"
#include "koan/ops/binary.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/softmax.h"
#include "koan/ops/unary.h"
#include "ops/op_table.h"

namespace koan::testing {
namespace {

Tensor opt(const Tensor& t) { return t.numel() ? t : Tensor(); }
Tensor f32(const Shape& s) { return randn(s); }
Tensor bools(const Shape& s) { return ones(s, {.dtype = DType::Bool}); }

KOAN_OP_ROW({.op = "masked_softmax", .family = "attention",
             .fn = [](const Inputs& x) {
               auto p = x[2].to_vector<int64_t>();
               return masked_softmax(x[0], opt(x[1]), static_cast<double>(p[0]) / static_cast<double>(p[1]),
                                     p[2] != 0);
             },
             .errors = {[] { (void)masked_softmax(randint(0, 3, {2, 3})); },                      // integer scores
                        [] { (void)masked_softmax(f32({3, 4}), bools({3, 4}), 1.0, true); },       // mask and causal
                        [] { (void)masked_softmax(f32({4}), Tensor(), 1.0, true); },               // causal needs (L, S)
                        [] { (void)masked_softmax(f32({3, 4}), bools({3, 5})); },                  // mask shape
                        [] { (void)masked_softmax(f32({3, 4}), bools({2, 3, 4})); },               // mask wider than x
                        [] { (void)masked_softmax(f32({3, 4}), randn({3, 4}, {.dtype = DType::Float64})); },
                        [] { (void)masked_softmax(f32({3, 4}), randint(0, 2, {3, 4})); },          // int mask
                        [] { (void)masked_softmax(f32({3, 4}), Tensor(), std::nan("")); },         // scale
                        [] { (void)masked_softmax(Tensor()); }}});

// The backward under create_graph is written with ops: its own gradient (second order) must
// agree with central differences, and its first-order value with the fused kernel's.
TEST(MaskedSoftmax, SecondOrderGradcheckAndBothBackwardPathsAgree) {
  const TensorOptions f64{.dtype = DType::Float64};
  Generator gen(11);
  Tensor w = randn({2, 5, 5}, f64, &gen);
  Tensor additive = randn({5, 5}, f64, &gen);
  for (int causal = 0; causal < 2; ++causal) {
    SCOPED_TRACE(causal ? "causal" : "additive mask");
    Tensor mask = causal ? Tensor() : additive;
    auto first = [&](const Tensor& x, bool create_graph) {
      Tensor y = masked_softmax(x, mask, 0.7, causal != 0);
      return autograd::grad({sum(mul(y, w))}, {x}, {}, create_graph, create_graph)[0];
    };
    Tensor x = randn({2, 5, 5}, f64, &gen).requires_grad_();
    EXPECT_TRUE(close(first(x, true).detach(), first(x, false), 1e-12, 1e-12));
    // gradcheck evaluates its differences under NoGradGuard; the first-order gradient needs a graph.
    EXPECT_TRUE(gradcheck(
        [&](const Inputs& in) {
          EnableGradGuard grad_on;
          return first(in[0], true);
        },
        {x.detach()}));
  }
}

// A query that may attend to nothing gets weights 0 and output 0, and its gradient is 0: no NaN
// reaches the other queries' gradients either.
TEST(MaskedSoftmax, FullyMaskedQueryGivesZerosNotNaN) {
  Tensor q = randn({1, 3, 4}).requires_grad_(), k = randn({1, 5, 4}), v = randn({1, 5, 2});
  Tensor mask = ones({3, 5}, {.dtype = DType::Bool});
  for (int64_t j = 0; j < 5; ++j) mask.at<bool>({1, j}) = false;
  auto [o, wts] = scaled_dot_product_attention_weights(q, k, v, mask);
  EXPECT_EQ(sum(abs(select(o, 1, 1))).item<float>(), 0.f);
  EXPECT_EQ(sum(abs(select(wts, 1, 1))).item<float>(), 0.f);
  EXPECT_NEAR(sum(select(wts, 1, 0)).item<float>(), 1.f, 1e-6);
  sum(o).backward();
  EXPECT_FALSE(any(isnan(q.grad())).item<bool>());
  EXPECT_EQ(sum(abs(select(q.grad(), 1, 1))).item<float>(), 0.f);
  EXPECT_GT(sum(abs(select(q.grad(), 1, 0))).item<float>(), 0.f);
}

}  // namespace
}  // namespace koan::testing
