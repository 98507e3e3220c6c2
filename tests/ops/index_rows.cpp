// Op table rows for the index family (fixtures: tests/fixtures/index.safetensors, made by
// gen_index.py).  Scalar arguments that vary by case (dim, k, flags) arrive as 0-d int64 inputs.
#include <cmath>
#include <limits>

#include "ops/op_table.h"

namespace koan::testing {
namespace {

int64_t I(const Tensor& t) { return t.item<int64_t>(); }
Tensor f(std::initializer_list<float> v) { return koan::tensor(v); }
Tensor idx(std::initializer_list<int64_t> v) { return koan::tensor(v); }
std::vector<Tensor> rest(const Inputs& x, size_t from) { return {x.begin() + from, x.end()}; }

KOAN_OP_ROW({.op = "index_select", .family = "index",
             .fn = [](const Inputs& x) { return koan::index_select(x[0], I(x[2]), x[1]); },
             .errors = {[] { (void)koan::index_select(koan::ones({3, 2}), 0, idx({0, 3})); },
                        [] { (void)koan::index_select(koan::ones({3, 2}), 1, idx({-1})); },
                        [] { (void)koan::index_select(koan::ones({3, 2}), 0, f({0, 1})); },
                        [] { (void)koan::index_select(koan::ones({3, 2}), 0, koan::zeros({2, 1}, {.dtype = DType::Int64})); },
                        [] { (void)koan::index_select(koan::ones({3, 2}), 2, idx({0})); }}});

KOAN_OP_ROW({.op = "gather", .family = "index",
             .fn = [](const Inputs& x) { return koan::gather(x[0], I(x[2]), x[1]); },
             .errors = {[] { (void)koan::gather(koan::ones({3, 2}), 1, koan::full({3, 2}, 2, {.dtype = DType::Int64})); },
                        [] { (void)koan::gather(koan::ones({3, 2}), 1, idx({0, 1})); },  // dims differ
                        [] { (void)koan::gather(koan::ones({3, 2}), 1, koan::zeros({4, 1}, {.dtype = DType::Int64})); },
                        [] { (void)koan::gather(koan::ones({3, 2}), 1, koan::zeros({3, 1}, {.dtype = DType::Int32})); }}});

KOAN_OP_ROW({.op = "scatter", .family = "index",
             .fn = [](const Inputs& x) { return koan::scatter(x[0], I(x[3]), x[1], x[2]); },
             .errors = {[] { (void)koan::scatter(koan::ones({3, 2}), 1, koan::full({3, 1}, 2, {.dtype = DType::Int64}), koan::ones({3, 1})); },
                        [] { (void)koan::scatter(koan::ones({3, 2}), 1, koan::zeros({3, 1}, {.dtype = DType::Int64}),
                                                 koan::ones({3, 1}, {.dtype = DType::Float64})); },
                        [] { (void)koan::scatter(koan::ones({3, 2}), 1, koan::zeros({3, 2}, {.dtype = DType::Int64}), koan::ones({3, 1})); },
                        [] { (void)koan::scatter(koan::ones({3, 2}), 1, koan::zeros({3, 1}), koan::ones({3, 1})); }}});

KOAN_OP_ROW({.op = "scatter_add", .family = "index",
             .fn = [](const Inputs& x) { return koan::scatter_add(x[0], I(x[3]), x[1], x[2]); },
             .errors = {[] { (void)koan::scatter_add(koan::ones({3, 2}), 0, koan::full({1, 2}, -1, {.dtype = DType::Int64}), koan::ones({1, 2})); },
                        [] { (void)koan::scatter_add(koan::ones({3, 2}), 0, koan::zeros({2}, {.dtype = DType::Int64}), koan::ones({2})); }}});

KOAN_OP_ROW({.op = "index_add", .family = "index",
             .fn = [](const Inputs& x) { return koan::index_add(x[0], I(x[3]), x[1], x[2], 2.0); },
             .errors = {[] { (void)koan::index_add(koan::ones({3, 2}), 0, idx({0, 3}), koan::ones({2, 2})); },
                        [] { (void)koan::index_add(koan::ones({3, 2}), 0, idx({0, 1}), koan::ones({3, 2})); },
                        [] { (void)koan::index_add(koan::ones({3, 2}), 0, idx({0}), koan::ones({1, 2}, {.dtype = DType::Float64})); }}});

KOAN_OP_ROW({.op = "masked_fill", .family = "index",
             .fn = [](const Inputs& x) { return koan::masked_fill(x[0], x[1], -1.5); },
             .errors = {[] { (void)koan::masked_fill(koan::ones({3, 2}), koan::ones({3, 2}), 0.0); },
                        [] { (void)koan::masked_fill(koan::ones({3, 2}), koan::ones({4, 2}, {.dtype = DType::Bool}), 0.0); },
                        [] { (void)koan::masked_fill(koan::ones({2}), koan::ones({3, 2}, {.dtype = DType::Bool}), 0.0); }}});

KOAN_OP_ROW({.op = "masked_select", .family = "index",
             .fn = [](const Inputs& x) { return koan::masked_select(x[0], x[1]); },
             .errors = {[] { (void)koan::masked_select(koan::ones({3, 2}), koan::ones({3, 2})); },
                        [] { (void)koan::masked_select(koan::ones({3, 2}), koan::ones({4, 2}, {.dtype = DType::Bool})); }}});

KOAN_OP_ROW({.op = "index", .family = "index",
             .fn = [](const Inputs& x) { return koan::index(x[0], rest(x, 1)); },
             .errors = {[] { (void)koan::index(koan::ones({4, 2}), {idx({0, -5})}); },
                        [] { (void)koan::index(koan::ones({4, 2}), {idx({0}), idx({2})}); },
                        [] { (void)koan::index(koan::ones({4, 2}), {idx({0}), idx({0}), idx({0})}); },
                        [] { (void)koan::index(koan::ones({4, 2}), {f({0})}); },
                        [] { (void)koan::index(koan::ones({4, 2}), {idx({0, 1}), idx({0, 1, 0})}); },
                        [] { (void)koan::index(koan::ones({4, 2}), {koan::ones({3}, {.dtype = DType::Bool})}); },
                        [] { (void)koan::index(koan::ones({4, 2}), {}); }}});

KOAN_OP_ROW({.op = "index_put", .family = "index",
             .fn = [](const Inputs& x) { return koan::index_put(x[0], rest(x, 3), x[1], I(x[2]) != 0); },
             .errors = {[] { (void)koan::index_put(koan::ones({4, 2}), {idx({4})}, koan::ones({2})); },
                        [] { (void)koan::index_put(koan::ones({4, 2}), {idx({1})}, koan::ones({3})); },
                        [] { (void)koan::index_put(koan::ones({4, 2}), {idx({1})}, koan::ones({2}, {.dtype = DType::Float64})); },
                        [] { (void)koan::index_put(koan::ones({4, 2}), {f({1})}, koan::ones({2})); },
                        [] {
                          Tensor x = koan::ones({4, 2});
                          (void)koan::index_put_(x, {idx({0, 9})}, koan::ones({2}));
                        }}});

KOAN_OP_ROW({.op = "sort", .family = "index",
             .fn = [](const Inputs& x) { return koan::sort(x[0], I(x[1]), I(x[2]) != 0).first; },
             .errors = {[] { (void)koan::sort(koan::ones({3, 2}), 2); }, [] { (void)koan::sort(koan::Tensor()); }}});

KOAN_OP_ROW({.op = "argsort", .family = "index",
             .fn = [](const Inputs& x) { return koan::argsort(x[0], I(x[1]), I(x[2]) != 0); },
             .differentiable = false,
             .errors = {[] { (void)koan::argsort(koan::ones({3, 2}), -3); }}});

KOAN_OP_ROW({.op = "topk", .family = "index",
             .fn = [](const Inputs& x) { return koan::topk(x[0], I(x[1]), I(x[2]), I(x[3]) != 0).first; },
             .errors = {[] { (void)koan::topk(koan::ones({3, 2}), 3, 1); }, [] { (void)koan::topk(koan::ones({3, 2}), -1); },
                        [] { (void)koan::topk(koan::ones({3, 2}), 1, 2); }}});

KOAN_OP_ROW({.op = "one_hot", .family = "index",
             .fn = [](const Inputs& x) { return koan::one_hot(x[0], I(x[1])); },
             .differentiable = false,
             .errors = {[] { (void)koan::one_hot(idx({0, 3}), 3); }, [] { (void)koan::one_hot(idx({0, -1}), 3); },
                        [] { (void)koan::one_hot(f({0, 1}), 3); }, [] { (void)koan::one_hot(idx({0}), -2); }}});

// ---- beyond the table: error types and messages, in-place semantics, determinism, stability

TEST(Index, OutOfRangeNamesOpValueAndSize) {
  try {
    (void)koan::index_select(koan::ones({3, 2}), 0, idx({0, 5}));
    FAIL() << "no throw";
  } catch (const koan::IndexError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("index_select"), std::string::npos) << m;
    EXPECT_NE(m.find("5"), std::string::npos) << m;
    EXPECT_NE(m.find("size 3"), std::string::npos) << m;
  }
  EXPECT_THROW((void)koan::gather(koan::ones({2, 2}), 0, koan::full({1, 2}, 2, {.dtype = DType::Int64})), koan::IndexError);
  EXPECT_THROW((void)koan::scatter_add(koan::ones({2, 2}), 1, koan::full({2, 1}, -1, {.dtype = DType::Int64}),
                                       koan::ones({2, 1})), koan::IndexError);
  EXPECT_THROW((void)koan::index(koan::ones({2, 3}), {idx({0}), idx({3})}), koan::IndexError);
  EXPECT_THROW((void)koan::index(koan::ones({2, 3}), {idx({-3})}), koan::IndexError);
  EXPECT_THROW((void)koan::gather(koan::ones({2, 2}), 0, koan::zeros({1, 2}, {.dtype = DType::Int32})), koan::DTypeError);
}

TEST(Index, IndexPutInPlaceNoGrad) {
  Tensor x = koan::zeros({4, 3});
  uint64_t v0 = x.version();
  koan::index_put_(x, {idx({1, 1, -1})}, koan::tensor({1.f, 2.f, 3.f}), /*accumulate=*/true);
  EXPECT_GT(x.version(), v0);
  EXPECT_TRUE(close(x, koan::tensor({{0.f, 0.f, 0.f}, {2.f, 4.f, 6.f}, {0.f, 0.f, 0.f}, {1.f, 2.f, 3.f}})));
  // Bool mask assignment on a non-contiguous view writes through to the base.
  Tensor base = koan::zeros({3, 4});
  Tensor view = base.transpose(0, 1);  // (4, 3)
  koan::index_put_(view, {koan::tensor({true, false, false, true})}, koan::tensor({5.f, 6.f, 7.f}));
  EXPECT_TRUE(close(base, koan::tensor({{5.f, 0.f, 0.f, 5.f}, {6.f, 0.f, 0.f, 6.f}, {7.f, 0.f, 0.f, 7.f}})));
  // values aliasing self: x[[0, 1]] = x[[1, 0]] swaps rows.
  Tensor y = koan::tensor({{1.f, 2.f}, {3.f, 4.f}});
  koan::index_put_(y, {idx({0, 1})}, y.select(0, 1).unsqueeze(0).expand({2, 2}));
  EXPECT_TRUE(close(y, koan::tensor({{3.f, 4.f}, {3.f, 4.f}})));
  // Rows long enough to take the split (strided_loop) path.
  Tensor big = koan::zeros({3, 40000});
  koan::index_put_(big, {idx({2, 0, 2})}, koan::arange(40000).to(DType::Float32), true);
  EXPECT_TRUE(close(koan::sum(big, {1}), koan::tensor({799980000.f, 0.f, 1599960000.f}), 1e-6, 0));
  // A failing index leaves x untouched.
  Tensor z = koan::zeros({2});
  EXPECT_THROW(koan::index_put_(z, {idx({0, 2})}, koan::ones({2})), koan::IndexError);
  EXPECT_TRUE(close(z, koan::zeros({2})));
}

TEST(Index, IndexPutInPlaceAutograd) {
  Tensor leaf = koan::randn({4, 2}).requires_grad_();
  EXPECT_THROW(koan::index_put_(leaf, {idx({0})}, koan::ones({2})), koan::AutogradError);
  Tensor v = koan::tensor({10.f, 20.f}).requires_grad_();
  Tensor y = koan::mul(leaf, 2.0);
  koan::index_put_(y, {idx({1, 3})}, v);
  Tensor w = koan::arange(8).to(DType::Float32).reshape({4, 2});
  auto g = autograd::grad({koan::sum(koan::mul(y, w))}, {leaf, v});
  EXPECT_TRUE(close(g[0], koan::tensor({{0.f, 2.f}, {0.f, 0.f}, {8.f, 10.f}, {0.f, 0.f}})));
  EXPECT_TRUE(close(g[1], koan::tensor({2.f + 6.f, 3.f + 7.f})));
}

TEST(Index, ScatterAddIsDeterministicAndExact) {
  // Many collisions, big enough to run on several threads: must equal a serial sum in order.
  const int64_t rows = 64, cols = 4096, slots = 7;
  Tensor index = koan::randint(0, slots, {rows, cols});
  Tensor src = koan::randn({rows, cols});
  Tensor out = koan::scatter_add(koan::zeros({rows, slots}), 1, index, src);
  auto iv = index.to_vector<int64_t>();
  auto sv = src.to_vector<float>();
  std::vector<float> ref(rows * slots, 0.f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) ref[r * slots + iv[r * cols + c]] += sv[r * cols + c];
  EXPECT_TRUE(close(out, koan::from_vector(ref, Shape{rows, slots}), 0, 0));
  Tensor again = koan::scatter_add(koan::zeros({rows, slots}), 1, index, src);
  EXPECT_TRUE(close(again, out, 0, 0));
}

TEST(Index, LargeStridedIndexSelectAndGather) {
  Tensor x = koan::randn({300, 200}).transpose(0, 1);  // (200, 300), non-contiguous
  Tensor i = koan::randint(0, 300, {1000}).slice(0, 0, 1000, 2);  // strided 1-D index
  Tensor y = koan::index_select(x, 1, i);
  Tensor xc = x.contiguous();
  auto xv = xc.to_vector<float>();
  auto iv = i.to_vector<int64_t>();
  std::vector<float> ref;
  for (int64_t r = 0; r < 200; ++r)
    for (int64_t k : iv) ref.push_back(xv[r * 300 + k]);
  EXPECT_TRUE(close(y, koan::from_vector(ref, Shape{200, 500}), 0, 0));
  Tensor gi = koan::randint(0, 200, {400, 300}).transpose(0, 1).slice(1, 0, 400, 2);  // (300, 200)
  Tensor g = koan::gather(x.transpose(0, 1), 1, gi);
  auto giv = gi.to_vector<int64_t>();
  std::vector<float> ref2;
  for (int64_t r = 0; r < 300; ++r)
    for (int64_t c = 0; c < 200; ++c) ref2.push_back(xv[giv[r * 200 + c] * 300 + r]);
  EXPECT_TRUE(close(g, koan::from_vector(ref2, Shape{300, 200}), 0, 0));
}

TEST(Index, SecondOrderThroughIndexSelect) {
  Tensor x = koan::tensor({1.0, 2.0, 3.0}, {.dtype = DType::Float64}).requires_grad_();
  Tensor i = idx({0, 2, 2});
  Tensor loss = koan::sum(koan::square(koan::index_select(x, 0, i)));
  auto g = autograd::grad({loss}, {x}, {}, true, true);  // 2 * count * x
  EXPECT_TRUE(close(g[0], koan::tensor({2.0, 0.0, 12.0}, {.dtype = DType::Float64})));
  auto gg = autograd::grad({koan::sum(g[0])}, {x});
  EXPECT_TRUE(close(gg[0], koan::tensor({2.0, 0.0, 4.0}, {.dtype = DType::Float64})));
}

TEST(Sort, StableWithTiesAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = koan::tensor({1.f, 0.f, 1.f, 0.f, nan, 1.f});
  auto [v, i] = koan::sort(x);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 0, 2, 5, 4}));
  auto [vd, id] = koan::sort(x, 0, true);
  EXPECT_EQ(id.to_vector<int64_t>(), (std::vector<int64_t>{4, 0, 2, 5, 1, 3}));
  EXPECT_EQ(koan::argsort(koan::tensor({3, 1, 2})).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0}));
  auto [tv, ti] = koan::topk(koan::tensor({5.f, 1.f, 5.f, 3.f}), 3);
  EXPECT_EQ(ti.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 3}));
  auto [sv, si] = koan::sort(koan::tensor({2.f}).reshape(Shape{}));
  EXPECT_EQ(sv.dim(), 0);
  EXPECT_EQ(si.item<int64_t>(), 0);
}

TEST(OneHot, Values) {
  Tensor y = koan::one_hot(idx({2, 0}), -1);
  EXPECT_EQ(y.dtype(), DType::Int64);
  EXPECT_EQ(y.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 0, 0}));
}

}  // namespace
}  // namespace koan::testing
