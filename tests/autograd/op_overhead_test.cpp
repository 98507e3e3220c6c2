// The small-op path (issue 5 [perf]): how many heap allocations one tiny op makes, with and
// without graph recording, and that the shortcuts behind those counts (same-shape binary ops
// without broadcast views, the flat elementwise loop) give the same results as the general paths.  Counts only: a time never goes in a test (bench_overhead).
#include <cstdlib>
#include <new>

#include "support/testing.h"

namespace {
// Heap allocations made by this thread; operator new below is this test binary's own.
thread_local uint64_t t_news = 0;
}  // namespace

void* operator new(size_t n) {
  ++t_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, std::align_val_t a) {
  ++t_news;
  size_t al = static_cast<size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace koan {
namespace {

// Heap allocations (operator new) and caching-allocator buffers per call of fn, after a warm-up
// call (free lists, lazily created state).
template <class F>
std::pair<uint64_t, uint64_t> allocations(F&& fn) {
  fn();
  uint64_t news = t_news, bufs = allocator_stats().allocs;
  fn();
  return {t_news - news, allocator_stats().allocs - bufs};
}

TEST(OpOverhead, OneElementAddWithoutGraphAllocatesOnlyItsResult) {
  NoGradGuard no_grad;
  Tensor a = ones({1}), b = ones({1});
  auto [news, bufs] = allocations([&] { Tensor c = add(a, b); });
  // The result's TensorImpl, StorageImpl, shape and strides vectors; was 15 before the
  // same-shape path and the flat loop (2026-11-27).
  EXPECT_LE(news, 4u);
  EXPECT_EQ(bufs, 1u);  // its 4-byte buffer, from the caching allocator's free list
}

TEST(OpOverhead, OneElementAddWithGraphAllocatesTheNodeOnce) {
  Tensor a = ones({1}).requires_grad_(), b = ones({1});
  auto [news, bufs] = allocations([&] { Tensor c = add(a, b); });
  // The result (4), the node with its closure and its output's shape (2: its edges and output
  // records live inside it), and the leaf's AccumulateGrad with its output's shape (2: it dies
  // with the graph every call, as in PyTorch).  Was 33, then 11 with the lists on the heap.
  EXPECT_LE(news, 8u);
  EXPECT_EQ(bufs, 1u);
}

TEST(OpOverhead, SmallForwardAndBackwardAllocationCountHoldsItsGround) {
  Tensor w = ones({4}).requires_grad_(), x = ones({4});
  auto step = [&] {
    Tensor loss = sum(mul(add(w, x), x));
    loss.backward();
  };
  auto [news, bufs] = allocations(step);
  // Measured 2026-11-27: 100 for the forward's 3 ops with their nodes and the backward through
  // them; 83 once the engine kept one state map and nodes their edges and outputs inline (see
  // PERFORMANCE.md).
  EXPECT_LE(news, 83u);
  EXPECT_LE(bufs, 6u);  // tensor buffers from the caching allocator, measured the same day
  EXPECT_TRUE(testing::close(w.grad(), mul(ones({4}), 2.0)));
}

// The same-shape path of binary ops against values computed here, for every layout the general
// path handles: contiguous, transposed (same shape, strided), broadcast, mixed dtypes.
TEST(OpOverhead, SameShapeBinaryPathMatchesTheGeneralPath) {
  Generator g(7);
  Tensor a = randn({3, 4}, {}, &g), b = randn({3, 4}, {}, &g);
  auto av = a.to_vector<float>(), bv = b.to_vector<float>();
  auto check = [&](const Tensor& out, auto f) {
    auto ov = out.to_vector<float>();
    ASSERT_EQ(ov.size(), av.size());
    for (size_t i = 0; i < ov.size(); ++i) EXPECT_EQ(ov[i], f(av[i], bv[i])) << i;
  };
  check(add(a, b), [](float x, float y) { return x + y; });
  EXPECT_TRUE(testing::close(add(a, b, 2.5), add(a, mul(b, 2.5))));  // may be fused (FMA)
  check(sub(a, b), [](float x, float y) { return x - y; });
  check(mul(a, b), [](float x, float y) { return x * y; });
  check(div(a, b), [](float x, float y) { return x / y; });
  // Same shape but not contiguous: the kernel's strided loop, not the flat one.
  Tensor at = a.t().contiguous().t(), bt = b.t().contiguous().t();
  ASSERT_FALSE(at.is_contiguous());
  check(add(at, bt), [](float x, float y) { return x + y; });
  check(mul(at, b), [](float x, float y) { return x * y; });
  // Broadcast: b's first row against every row of a.
  Tensor row = b.narrow(0, 0, 1).contiguous();
  auto out = add(a, row).to_vector<float>();
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], av[i] + bv[i % 4]) << i;
  // Mixed dtypes promote (float32 + float64 -> float64), same shape or not.
  Tensor a64 = a.to(DType::Float64);
  Tensor mixed = add(a64, b);
  EXPECT_EQ(mixed.dtype(), DType::Float64);
  EXPECT_TRUE(testing::close(mixed, add(a64, b.to(DType::Float64)), 1e-15, 0));
  // Integer division goes to float on either path.
  Tensor i1 = arange(1, 7), i2 = full({6}, 4, {.dtype = DType::Int64});
  EXPECT_TRUE(testing::close(div(i1, i2), div(i1.to(kDefaultFloat), 4.0)));
  // Comparisons give bool on the same-shape path too.
  EXPECT_EQ(lt(a, b).dtype(), DType::Bool);
}

// Gradients through the same-shape path, including inputs of another shape (sum_to) and a
// broadcast input next to a same-shape one, and a double backward.
TEST(OpOverhead, SameShapeBinaryPathGradients) {
  auto f64 = [](Shape s, uint64_t seed) {
    Generator g(seed);
    return randn(s, {.dtype = DType::Float64}, &g);
  };
  EXPECT_TRUE(testing::gradcheck([](const std::vector<Tensor>& v) { return mul(v[0], v[1]); },
                                 {f64({2, 3}, 1), f64({2, 3}, 2)}));
  EXPECT_TRUE(testing::gradcheck([](const std::vector<Tensor>& v) { return div(add(v[0], v[1], 0.5), v[1]); },
                                 {f64({2, 3}, 3), f64({3}, 4)}));
  Tensor x = f64({3}, 5).requires_grad_();
  Tensor gx = autograd::grad({sum(mul(mul(x, x), x))}, {x}, {}, true, true)[0];  // 3x^2
  Tensor ggx = autograd::grad({sum(gx)}, {x})[0];                               // 6x
  EXPECT_TRUE(testing::close(ggx, mul(x.detach(), 6.0), 1e-12, 1e-12));
}

}  // namespace
}  // namespace koan
