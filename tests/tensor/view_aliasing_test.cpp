// Views share storage and its version counter; copies happen only when a layout cannot express
// the result (docs/notes/views-and-versions.md).
#include "support/testing.h"

namespace koan {
namespace {

Tensor iota(const Shape& s) { return arange(static_cast<double>(numel(s))).reshape(s); }  // float32

bool shares(const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); }

TEST(ViewAliasing, ViewsShareStorageAndSeeWritesBothWays) {
  Tensor x = iota({3, 4});
  std::vector<Tensor> views = {x.view({4, 3}), x.transpose(0, 1), x.slice(1, 1, 4, 2), x.select(0, 2),
                               x.narrow(0, 1, 2), x.unsqueeze(0), x.flatten(), x.permute({1, 0}),
                               x.select(1, 0).unsqueeze(1).expand({3, 5}), squeeze(x.unsqueeze(1))};
  for (auto& v : views) EXPECT_TRUE(shares(v, x));

  // base -> view
  x.at<float>({2, 3}) = 100.f;
  EXPECT_EQ(views[0].at<float>({3, 2}), 100.f);   // element 11
  EXPECT_EQ(views[1].at<float>({3, 2}), 100.f);
  EXPECT_EQ(views[2].at<float>({2, 1}), 100.f);   // column 3 is slice index 1
  EXPECT_EQ(views[3].at<float>({3}), 100.f);
  EXPECT_EQ(views[4].at<float>({1, 3}), 100.f);
  EXPECT_EQ(views[6].at<float>({11}), 100.f);

  // view -> base
  Tensor t = views[1];
  t.at<float>({0, 1}) = -5.f;
  EXPECT_EQ(x.at<float>({1, 0}), -5.f);
  Tensor s = views[2];
  s.fill_(7.0);  // columns 1 and 3
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(x.at<float>({i, 1}), 7.f);
    EXPECT_EQ(x.at<float>({i, 3}), 7.f);
    EXPECT_NE(x.at<float>({i, 2}), 7.f);
  }
  // A view of a view writes through to the base.
  Tensor vv = x.transpose(0, 1).select(0, 2).narrow(0, 1, 2);
  vv.zero_();
  EXPECT_EQ(x.at<float>({1, 2}), 0.f);
  EXPECT_EQ(x.at<float>({2, 2}), 0.f);
  EXPECT_EQ(x.at<float>({0, 2}), 2.f);
  // The broadcast view sees the base's column 0.
  x.at<float>({1, 0}) = 42.f;
  for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(views[8].at<float>({1, j}), 42.f);
}

TEST(ViewAliasing, VersionCounterIsSharedByViews) {
  Tensor x = iota({2, 3});
  Tensor v = x.transpose(0, 1);
  Tensor w = x.select(0, 1);
  EXPECT_EQ(x.version(), v.version());
  uint64_t before = x.version();
  // In-place on a view bumps the base's version (and every other view's).
  koan::add_(w, Scalar(1.0));
  EXPECT_GT(x.version(), before);
  EXPECT_EQ(x.version(), v.version());
  EXPECT_EQ(x.version(), w.version());
  uint64_t mid = x.version();
  koan::mul_(x, Scalar(2.0));
  EXPECT_GT(w.version(), mid);
  EXPECT_EQ(v.version(), w.version());
  // A copy has its own counter.
  Tensor c = x.clone();
  uint64_t cv = c.version(), xv = x.version();
  c.zero_();
  EXPECT_GT(c.version(), cv);
  EXPECT_EQ(x.version(), xv);
}

TEST(ViewAliasing, InPlaceOnViewIsSeenByAutogradThroughTheBase) {
  // A tensor saved for backward, then modified through a view: backward must refuse.
  Tensor a = randn({2, 3}).requires_grad_();
  Tensor y = koan::mul(a, Scalar(1.0));  // non-leaf, so an in-place write is allowed
  Tensor z = exp(y);             // saves its output z
  Tensor zv = z.detach().select(0, 0);
  zv.fill_(0.0);                 // same storage as z, bumps its version
  EXPECT_THROW(z.sum().backward(), Error);
}

TEST(ViewAliasing, ContiguousCopiesOnlyWhenNeeded) {
  Tensor x = iota({3, 4});
  Tensor c = x.contiguous();
  EXPECT_TRUE(c.is_same(x));
  // size-1 dims with odd strides are still contiguous
  Tensor u = x.select(0, 1).unsqueeze(0);
  EXPECT_TRUE(u.is_contiguous());
  EXPECT_TRUE(shares(u.contiguous(), x));

  Tensor t = x.transpose(0, 1);
  EXPECT_FALSE(t.is_contiguous());
  Tensor tc = t.contiguous();
  EXPECT_FALSE(shares(tc, x));
  EXPECT_TRUE(tc.is_contiguous());
  EXPECT_TRUE(testing::close(tc, t));
  Tensor s = x.slice(1, 0, 4, 2);
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_FALSE(shares(s.contiguous(), x));
  EXPECT_TRUE(testing::close(s.contiguous(), s));
  // A contiguous block in the middle of the storage (offset != 0) needs no copy.
  Tensor rows = x.narrow(0, 1, 2);
  EXPECT_TRUE(rows.is_contiguous());
  EXPECT_TRUE(rows.contiguous().is_same(rows));
}

TEST(ViewAliasing, ReshapeCopiesOnlyWhenItMust) {
  Tensor x = iota({4, 6});
  EXPECT_TRUE(shares(x.reshape({2, 12}), x));
  EXPECT_TRUE(shares(x.reshape({-1}), x));
  // Splitting a dim of a transposed tensor is expressible with strides.
  Tensor t = x.transpose(0, 1);  // (6, 4), strides (1, 6)
  Tensor r1 = t.reshape({2, 3, 4});
  EXPECT_TRUE(shares(r1, x));
  EXPECT_EQ(r1.strides(), (Strides{3, 1, 6}));
  EXPECT_TRUE(testing::close(r1, t.contiguous().reshape({2, 3, 4})));
  // Merging dims of a transposed tensor is not.
  Tensor r2 = t.reshape({24});
  EXPECT_FALSE(shares(r2, x));
  EXPECT_TRUE(testing::close(r2, t.contiguous().view({24})));
  EXPECT_THROW(t.view({24}), ShapeError);
  // Strided rows: merging the (contiguous) inner dims is fine, merging across the gap is not.
  Tensor y = iota({4, 2, 3}).slice(0, 0, 4, 2);  // (2, 2, 3) with row stride 12
  Tensor r3 = y.reshape({2, 6});
  EXPECT_TRUE(shares(r3, y));
  EXPECT_EQ(r3.strides(), (Strides{12, 1}));
  Tensor r4 = y.reshape({12});
  EXPECT_FALSE(shares(r4, y));
  EXPECT_TRUE(testing::close(r4, y.contiguous().view({12})));
  // Size-1 dims can be added or dropped anywhere without a copy.
  Tensor z = x.slice(1, 0, 6, 3);  // (4, 2), strides (6, 3)
  Tensor r5 = z.reshape({4, 1, 2, 1});
  EXPECT_TRUE(shares(r5, x));
  EXPECT_TRUE(testing::close(r5.reshape({4, 2}), z));
  // An expanded tensor keeps its zero strides where it can.
  Tensor e = iota({3, 1}).expand({3, 4});
  Tensor r6 = e.reshape({3, 2, 2});
  EXPECT_TRUE(shares(r6, e));
  EXPECT_EQ(r6.strides(), (Strides{1, 0, 0}));
  EXPECT_FALSE(shares(e.reshape({12}), e));
  // Empty tensors reshape freely.
  Tensor em = zeros({0, 3});
  EXPECT_EQ(em.reshape({3, 0, 5}).shape(), (Shape{3, 0, 5}));
}

TEST(ViewAliasing, ViewsOfViewsKeepTheBase) {
  Tensor x = zeros({2, 3});  // not itself a view (iota's result is a view of arange)
  Tensor v = x.transpose(0, 1).select(0, 1);
  ASSERT_TRUE(v.impl()->view_base != nullptr);
  EXPECT_EQ(v.impl()->view_base.get(), x.impl());
}

}  // namespace
}  // namespace koan
