// Image transforms: flip mirrors exactly, crop keeps shape and cuts a window, normalize
// standardises per channel, noise is seeded.
#include <gtest/gtest.h>

#include <cmath>

#include "data/data_test_util.h"
#include "koan/koan.h"

using namespace koan;
using namespace koan::data;
namespace T = koan::data::transforms;

namespace {
// x[..., w] reversed along W, by explicit indexing (independent of koan::flip).
bool is_mirror(const Tensor& a, const Tensor& b) {
  Tensor ac = a.contiguous(), bc = b.contiguous();
  int64_t w = a.size(-1), rows = a.numel() / w;
  const float* pa = ac.data_ptr<float>();
  const float* pb = bc.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < w; ++j)
      if (pa[r * w + j] != pb[r * w + w - 1 - j]) return false;
  return true;
}
}  // namespace

TEST(Transforms, FlipIsAnExactMirror) {
  Generator g(1);
  Tensor img = rand({3, 5, 7}, {}, &g);
  Tensor always = T::random_horizontal_flip(img, g, 1.0);
  EXPECT_EQ(always.shape(), img.shape());
  EXPECT_TRUE(is_mirror(always, img));
  EXPECT_TRUE(equal(T::random_horizontal_flip(img, g, 0.0), img));

  Tensor batch = rand({64, 2, 4, 6}, {}, &g);
  Tensor out = T::random_horizontal_flip(batch, g);
  int flipped = 0;
  for (int64_t n = 0; n < 64; ++n) {
    bool same = equal(out.select(0, n), batch.select(0, n));
    bool mirrored = is_mirror(out.select(0, n), batch.select(0, n));
    EXPECT_TRUE(same != mirrored) << "image " << n << " is neither unchanged nor mirrored";
    flipped += mirrored;
  }
  EXPECT_GT(flipped, 16);  // p = 0.5 over 64 images
  EXPECT_LT(flipped, 48);
}

TEST(Transforms, RandomCropKeepsShapeAndCutsAWindowOfThePaddedImage) {
  Generator g(2);
  Tensor batch = add(rand({16, 1, 8, 8}, {}, &g), 1.0);  // > 0 everywhere, so padding shows as 0
  Tensor out = T::random_crop(batch, 8, 8, 2, g);
  EXPECT_EQ(out.shape(), batch.shape());
  Tensor padded = pad(batch, {2, 2, 2, 2});
  int shifted = 0;
  for (int64_t n = 0; n < 16; ++n) {
    bool found = false;
    for (int64_t top = 0; top <= 4 && !found; ++top)
      for (int64_t left = 0; left <= 4 && !found; ++left)
        if (equal(out.select(0, n), padded.select(0, n).narrow(1, top, 8).narrow(2, left, 8))) {
          found = true;
          shifted += (top != 2 || left != 2);
        }
    EXPECT_TRUE(found) << "crop " << n << " is not a window of the padded image";
  }
  EXPECT_GT(shifted, 8);  // 24 of 25 offsets move the image
  EXPECT_TRUE(equal(T::random_crop(batch.select(0, 3), 8, 8, 0, g), batch.select(0, 3)));
  EXPECT_EQ(T::random_crop(batch, 5, 6, 0, g).shape(), Shape({16, 1, 5, 6}));
  EXPECT_THROW(T::random_crop(batch, 13, 8, 2, g), ValueError);
}

TEST(Transforms, NormalizeStandardisesEachChannel) {
  Generator g(3);
  // Channel c ~ N(mu[c], sd[c]^2).
  std::vector<double> mu{0.5, -2.0, 10.0}, sd{0.1, 3.0, 0.5};
  Tensor x = randn({200, 3, 4, 4}, {.dtype = DType::Float64}, &g);
  Tensor scaled = add(mul(x, from_vector(sd, Shape{3, 1, 1})), from_vector(mu, Shape{3, 1, 1}));
  Tensor y = T::normalize(scaled, mu, sd);
  EXPECT_TRUE(allclose(y, x, 1e-9, 1e-9));  // exactly undoes the scaling
  for (int64_t c = 0; c < 3; ++c) {
    Tensor ch = y.select(1, c);
    EXPECT_NEAR(ch.mean().item<double>(), 0.0, 0.05);
    EXPECT_NEAR(std::sqrt(mul(ch, ch).mean().item<double>()), 1.0, 0.05);
  }
  Tensor img = full({2, 2, 2}, 3.0);
  EXPECT_TRUE(allclose(T::normalize(img, {1.0}, {2.0}), full({2, 2, 2}, 1.0)));
  EXPECT_THROW(T::normalize(img, {0, 0, 0}, {1, 1, 1}), ShapeError);
  EXPECT_THROW(T::normalize(img, {0}, {0}), ValueError);
  EXPECT_THROW(T::normalize(ones({2, 2}), {0}, {1}), ShapeError);
  EXPECT_THROW(T::normalize(ones({1, 2, 2}, {.dtype = DType::UInt8}), {0}, {1}), DTypeError);
}

TEST(Transforms, GaussianNoiseIsSeeded) {
  Tensor x = zeros({10000});
  Generator g1(4), g2(4), g3(5);
  Tensor a = T::gaussian_noise(x, 0.3, g1);
  EXPECT_TRUE(equal(a, T::gaussian_noise(x, 0.3, g2)));
  EXPECT_FALSE(equal(a, T::gaussian_noise(x, 0.3, g3)));
  EXPECT_NEAR(a.mean().item<float>(), 0.f, 0.01f);
  EXPECT_NEAR(std::sqrt(mul(a, a).mean().item<float>()), 0.3f, 0.01f);
  EXPECT_TRUE(equal(T::gaussian_noise(x, 0.0, g1), x));
}

TEST(Transforms, ComposeAppliesInOrder) {
  Generator g(6), h(6);
  Tensor img = rand({1, 4, 4}, {}, &g);
  auto t = T::compose({T::normalizer({0.5}, {0.25}), T::flip(1.0)});
  Tensor got = t(img, h);
  EXPECT_TRUE(is_mirror(got, T::normalize(img, {0.5}, {0.25})));
}
