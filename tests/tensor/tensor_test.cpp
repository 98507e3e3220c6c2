#include <cmath>

#include "support/testing.h"

namespace koan {
namespace {

TEST(Allocator, ReusesFreedBlocksAndReportsStats) {
  release_cached_memory();
  auto before = allocator_stats();
  void* p = nullptr;
  {
    Tensor a = empty({1000});
    p = a.raw_data();
    EXPECT_GE(allocator_stats().in_use, before.in_use + 4000);
  }
  auto mid = allocator_stats();
  EXPECT_GE(mid.cached, 4000u);
  Tensor b = empty({1000});
  EXPECT_EQ(b.raw_data(), p) << "same size class should reuse the cached block";
  EXPECT_EQ(allocator_stats().os_allocs, mid.os_allocs);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.raw_data()) % 64, 0u);
  EXPECT_GE(allocator_stats().peak, allocator_stats().in_use);
  release_cached_memory();
  EXPECT_EQ(allocator_stats().cached, 0u);
}

TEST(Allocator, SizeClassesBoundSlack) {
  for (size_t n : {1ul, 64ul, 100ul, 1000ul, 4097ul, 1000000ul, 123456789ul}) {
    size_t c = size_class(n);
    EXPECT_GE(c, n);
    EXPECT_LE(c, std::max<size_t>(64, n + n / 4 + 64)) << n;
  }
}

TEST(Views, ShareStorageAndSeeWrites) {
  Tensor x = arange(6).to(DType::Float32);
  Tensor v = x.view({2, 3});
  Tensor t = v.transpose(0, 1);
  EXPECT_EQ(t.storage(), x.storage());
  EXPECT_FALSE(t.is_contiguous());
  t.at<float>({2, 1}) = 100.f;  // element (1, 2) of v = x[5]
  EXPECT_EQ(x.at<float>({5}), 100.f);
  Tensor s = x.slice(0, 1, 6, 2);  // 1, 3, 5
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 3, 100}));
  Tensor e = tensor({1.f, 2.f}).unsqueeze(0).expand({3, 2});
  EXPECT_EQ(e.strides(), (Strides{0, 1}));
  EXPECT_EQ(sum(e).item<float>(), 9.f);
}

TEST(Views, ReshapeCopiesOnlyWhenItMust) {
  Tensor x = zeros({4, 6});
  EXPECT_EQ(x.reshape({2, 12}).storage(), x.storage());
  Tensor tt = x.t();
  EXPECT_THROW(tt.view({24}), ShapeError);
  EXPECT_NE(tt.reshape({24}).storage(), x.storage());
  EXPECT_THROW(x.view({5, 5}), ShapeError);
  EXPECT_EQ(x.view({-1, 3}).shape(), (Shape{8, 3}));
}

TEST(Views, VersionCounterIsSharedWithViews) {
  Tensor x = zeros({4});
  Tensor v = x.slice(0, 0, 2);
  uint64_t v0 = x.version();
  add_(v, 1.0);
  EXPECT_GT(x.version(), v0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 1, 0, 0}));
}

TEST(Creation, Basics) {
  EXPECT_EQ(arange(5).dtype(), DType::Int64);
  EXPECT_EQ(arange(0.0, 1.0, 0.25).to_vector<float>(), (std::vector<float>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(linspace(0, 1, 5).to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(eye(2, 3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(full({2}, 7, {.dtype = DType::Int32}).to_vector<int32_t>(), (std::vector<int32_t>{7, 7}));
  float buf[4] = {1, 2, 3, 4};
  Tensor b = from_blob(buf, {2, 2}, DType::Float32);
  buf[3] = 9;
  EXPECT_EQ(b.at<float>({1, 1}), 9.f);  // borrowed
  Tensor c = copy_from(buf, {4}, DType::Float32);
  buf[0] = -1;
  EXPECT_EQ(c.at<float>({0}), 1.f);  // copied
  EXPECT_THROW(arange(0, 5, 0), ValueError);
  EXPECT_THROW(zeros({2, -1}), ShapeError);
}

TEST(Random, SameSeedSameNumbersAtAnyThreadCount) {
  set_num_threads(1);
  Generator g1(42);
  Tensor a = randn({100000}, {}, &g1);
  set_num_threads(2);
  Generator g2(42);
  Tensor b = randn({100000}, {}, &g2);
  EXPECT_TRUE(equal(a, b));
  double m = mean(a).item<double>(), s = std::sqrt(mean(square(a)).item<double>() - m * m);
  EXPECT_NEAR(m, 0, 0.02);
  EXPECT_NEAR(s, 1, 0.02);
  Generator g3(7);
  Tensor u = rand({100000}, {}, &g3);
  EXPECT_GE(min(u).item<float>(), 0.f);
  EXPECT_LT(max(u).item<float>(), 1.f);
  Tensor r = randint(3, 7, {1000}, DType::Int64, &g3);
  EXPECT_EQ(min(r).item<int64_t>(), 3);
  EXPECT_EQ(max(r).item<int64_t>(), 6);
  Tensor bern = bernoulli({10000}, 0.3, {}, &g3);
  EXPECT_NEAR(mean(bern).item<double>(), 0.3, 0.02);
}

TEST(Printing, MatchesPyTorchFormat) {
  EXPECT_EQ(to_string(tensor({{1.f, -2.5f}, {3.f, 4.f}})),
            "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])");
  EXPECT_EQ(to_string(tensor({1.f, 2.f})), "tensor([1., 2.])");
  EXPECT_EQ(to_string(arange(3)), "tensor([0, 1, 2])");
  EXPECT_EQ(to_string(tensor({1.5}, {.dtype = DType::Float64})), "tensor([1.5000], dtype=koan.float64)");
  EXPECT_EQ(to_string(arange(2000)).find("..."), 30u - 4u + 0u) << to_string(arange(2000));
  Tensor x = ones({1}).requires_grad_();
  EXPECT_EQ(to_string(x), "tensor([1.], requires_grad=True)");
  EXPECT_NE(to_string(mul(x, 2.0)).find("grad_fn=<MulBackward>"), std::string::npos);
}

TEST(Access, ItemAndTypedAccessorsCheckTheirArguments) {
  Tensor x = tensor({1.f, 2.f});
  EXPECT_THROW(x.item<float>(), ValueError);
  EXPECT_THROW(x.data_ptr<double>(), DTypeError);
  EXPECT_THROW(x.at<float>({2}), IndexError);
  EXPECT_EQ(x.at<float>({-1}), 2.f);
  EXPECT_EQ(sum(x).item<int64_t>(), 3);
}

}  // namespace
}  // namespace koan
