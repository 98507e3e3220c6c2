// Op table rows for the join family (fixtures: tests/fixtures/join.safetensors, made by
// gen_join.py).  The last input of each case holds the op's int64 arguments.
#include "ops/op_table.h"

namespace koan::testing {
namespace {

std::vector<int64_t> args(const Tensor& t) { return t.to_vector<int64_t>(); }
Inputs head(const Inputs& x) { return Inputs(x.begin(), x.end() - 1); }
Tensor r(const Shape& s) { return koan::randn(s); }

// The pieces scaled by 1, 2, 3, ... and joined again, so one output checks every piece.
Tensor rejoin(const std::vector<Tensor>& parts, int64_t dim) {
  std::vector<Tensor> scaled;
  for (size_t k = 0; k < parts.size(); ++k) scaled.push_back(koan::mul(parts[k], static_cast<double>(k + 1)));
  return koan::cat(scaled, dim);
}

Tensor cat_fn(const Inputs& x) { return koan::cat(head(x), args(x.back())[0]); }
Tensor stack_fn(const Inputs& x) { return koan::stack(head(x), args(x.back())[0]); }

KOAN_OP_ROW({.op = "cat", .family = "join", .fn = cat_fn,
             .errors = {[] { (void)koan::cat({}, 0); },
                        [] { (void)koan::cat({r({2, 3}), r({3, 3})}, 1); },
                        [] { (void)koan::cat({r({2, 3}), r({2, 3, 1})}, 0); },
                        [] { (void)koan::cat({r({2, 3}), r({2, 3})}, 2); },
                        [] { (void)koan::cat({koan::scalar_tensor(1.0, DType::Float32)}, 0); },
                        [] { (void)koan::cat({r({2}), koan::Tensor()}, 0); }}});
KOAN_OP_ROW({.op = "stack", .family = "join", .fn = stack_fn,
             .errors = {[] { (void)koan::stack({}, 0); },
                        [] { (void)koan::stack({r({2, 3}), r({3, 2})}, 0); },
                        [] { (void)koan::stack({r({2, 3}), r({2, 3})}, 3); }}});
KOAN_OP_ROW({.op = "split", .family = "join",
             .fn = [](const Inputs& x) {
               auto a = args(x[1]);
               auto parts = a.size() == 2 ? koan::split(x[0], a[1], a[0])
                                          : koan::split(x[0], std::vector<int64_t>(a.begin() + 1, a.end()), a[0]);
               return rejoin(parts, a[0]);
             },
             .errors = {[] { (void)koan::split(r({4, 3}), std::vector<int64_t>{1, 2}, 0); },
                        [] { (void)koan::split(r({4, 3}), 0, 0); },
                        [] { (void)koan::split(r({4, 3}), 2, 2); },
                        [] { (void)koan::split(r({4, 3}), std::vector<int64_t>{5, -1}, 0); }}});
KOAN_OP_ROW({.op = "chunk", .family = "join",
             .fn = [](const Inputs& x) {
               auto a = args(x[1]);
               return rejoin(koan::chunk(x[0], a[0], a[1]), a[1]);
             },
             .errors = {[] { (void)koan::chunk(r({4, 3}), 0, 0); },
                        [] { (void)koan::chunk(r({4, 3}), 2, -3); }}});
KOAN_OP_ROW({.op = "repeat", .family = "join",
             .fn = [](const Inputs& x) { return koan::repeat(x[0], args(x[1])); },
             .errors = {[] { (void)koan::repeat(r({2, 3}), {2}); },
                        [] { (void)koan::repeat(r({2, 3}), {2, -1}); }}});
KOAN_OP_ROW({.op = "pad", .family = "join",
             .fn = [](const Inputs& x) {
               auto a = args(x[1]);
               static const char* modes[] = {"constant", "reflect", "replicate"};
               std::vector<int64_t> pads(a.begin() + 1, a.end());
               return koan::pad(x[0], pads, modes[a[0]], 0.5);
             },
             .errors = {[] { (void)koan::pad(r({2, 3}), {1}); },
                        [] { (void)koan::pad(r({2, 3}), {1, 1, 1, 1, 1, 1}); },
                        [] { (void)koan::pad(r({2, 3}), {1, 1}, "circular"); },
                        [] { (void)koan::pad(r({2, 3}), {3, 0}, "reflect"); },
                        [] { (void)koan::pad(r({2, 3}), {-1, 0}, "replicate"); },
                        [] { (void)koan::pad(r({2, 3}), {-2, -2}); }}});
KOAN_OP_ROW({.op = "flip", .family = "join",
             .fn = [](const Inputs& x) { return koan::flip(x[0], args(x[1])); },
             .errors = {[] { (void)koan::flip(r({2, 3}), {2}); },
                        [] { (void)koan::flip(r({2, 3}), {1, -1}); }}});
KOAN_OP_ROW({.op = "tril", .family = "join",
             .fn = [](const Inputs& x) { return koan::tril(x[0], args(x[1])[0]); },
             .errors = {[] { (void)koan::tril(r({3}), 0); }}});
KOAN_OP_ROW({.op = "triu", .family = "join",
             .fn = [](const Inputs& x) { return koan::triu(x[0], args(x[1])[0]); },
             .errors = {[] { (void)koan::triu(r({3}), 0); }}});

// Mixed-dtype inputs: not table cases, since gradcheck wants every float input in float64.
TEST(JoinPromotion, MatchesPyTorch) {
  Fixture fx("join");
  for (auto [op, fn] : {std::pair{std::string("cat_promote"), &cat_fn}, std::pair{std::string("stack_promote"), &stack_fn}}) {
    auto cases = fx.cases(op);
    ASSERT_FALSE(cases.empty()) << op;
    for (const std::string& c : cases) {
      SCOPED_TRACE(c);
      Inputs in;
      for (int i = 0; fx.has(c + "/in" + std::to_string(i)); ++i) in.push_back(fx.get(c + "/in" + std::to_string(i)));
      std::vector<Tensor> wrt;
      std::vector<int> idx;
      for (int i = 0; i < static_cast<int>(in.size()); ++i)
        if (fx.has(c + "/grad" + std::to_string(i))) {
          in[i].requires_grad_();
          wrt.push_back(in[i]);
          idx.push_back(i);
        }
      Tensor out = fn(in);
      Tensor expected = fx.get(c + "/out");
      EXPECT_EQ(out.dtype(), expected.dtype());
      EXPECT_TRUE(close(out, expected, 1e-6, 1e-7));
      auto grads = autograd::grad({out}, wrt, {fx.get(c + "/gout")});
      for (size_t k = 0; k < wrt.size(); ++k) {
        // Each gradient comes back in its input's dtype.
        EXPECT_EQ(grads[k].dtype(), wrt[k].dtype());
        EXPECT_TRUE(close(grads[k], fx.get(c + "/grad" + std::to_string(idx[k])), 1e-6, 1e-7));
      }
    }
  }
}

TEST(JoinErrors, NameTheMismatchingShapes) {
  try {
    (void)koan::cat({r({2, 3}), r({4, 5})}, 0);
    FAIL() << "cat did not throw";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  }
  try {
    (void)koan::stack({r({2, 3}), r({2, 3}), r({3, 2})}, 0);
    FAIL() << "stack did not throw";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[3, 2]"), std::string::npos) << m;
    EXPECT_NE(m.find("entry 2"), std::string::npos) << m;
  }
}

TEST(JoinViews, SplitAndChunkShareStorage) {
  Tensor x = koan::arange(12.0).reshape({4, 3});
  auto parts = koan::split(x, 3, 0);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].shape(), (Shape{1, 3}));
  EXPECT_EQ(parts[0].storage(), x.storage());
  auto ch = koan::chunk(x, 3, 1);
  ASSERT_EQ(ch.size(), 3u);
  ch[2].fill_(-1.0);
  EXPECT_EQ(x.at<float>({3, 2}), -1.0f);
  EXPECT_EQ(x.at<float>({3, 1}), 10.0f);
}

TEST(JoinGrad, SecondOrderThroughCatPadFlip) {
  // Backward rules are ops, so gradients of gradients work.
  Tensor a = koan::randn({2, 3}, {.dtype = DType::Float64});
  Tensor b = koan::randn({2, 2}, {.dtype = DType::Float64});
  Fn f = [](const Inputs& x) {
    Tensor y = koan::cat({x[0], x[1]}, 1);
    y = koan::flip(koan::pad(y, {1, 2, 0, 1}, "constant", 0.0), {0});
    y = koan::pad(koan::tril(koan::repeat(y, {1, 2}), 1), {1, 1}, "reflect");
    return koan::mul(y, y);
  };
  EXPECT_TRUE(gradcheck(f, {a, b}));
  Fn g = [f](const Inputs& x) {
    EnableGradGuard on;  // gradcheck evaluates under NoGradGuard
    return autograd::grad({koan::sum(f(x))}, {x[0]}, {}, true, true)[0];
  };
  EXPECT_TRUE(gradcheck(g, {a, b}));
}

}  // namespace
}  // namespace koan::testing
