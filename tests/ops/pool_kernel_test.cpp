// max_pool2d's kernel paths: the branchless 2x2 stride-2 one and the generic loop, each against a
// naive reference of the documented rule (NaN wins, the last NaN when several; the first index
// on ties; padding never wins), on odd sizes, ties, NaN and -inf.
#include <cmath>
#include <limits>

#include "koan/kernels/pool.h"
#include "support/testing.h"

namespace koan {
namespace {
using kernels::PoolGeom;

// The rule, tap by tap in row-major window order.
template <class T>
void reference(const std::vector<T>& x, const PoolGeom& g, std::vector<T>& out, std::vector<int64_t>& idx) {
  out.assign(g.planes * g.oh * g.ow, T(0));
  idx.assign(out.size(), -1);
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t r = 0; r < g.oh; ++r)
      for (int64_t q = 0; q < g.ow; ++q) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t arg = -1;
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t h = r * g.sh - g.ph + i * g.dh, w = q * g.sw - g.pw + j * g.dw;
            if (h < 0 || h >= g.h || w < 0 || w >= g.w) continue;
            const T v = x[p * g.h * g.w + h * g.w + w];
            if (arg < 0) arg = h * g.w + w;  // an all -inf window points at its first tap
            if (v > best || std::isnan(v)) {
              best = v;
              arg = h * g.w + w;
            }
          }
        out[(p * g.oh + r) * g.ow + q] = best;
        idx[(p * g.oh + r) * g.ow + q] = arg;
      }
}

template <class T>
void check(PoolGeom g, uint64_t seed) {
  Generator gen(seed);
  const DType dt = dtype_v<T>;
  // Small integers make ties common; sprinkle NaN and -inf.
  Tensor xt = randint(0, 4, {g.planes, g.h, g.w}, {}, &gen).to(dt);
  Tensor u = rand({g.planes, g.h, g.w}, {.dtype = DType::Float64}, &gen);
  std::vector<T> x(xt.numel());
  const T* xp = xt.data_ptr<T>();
  const double* up = u.data_ptr<double>();
  for (int64_t i = 0; i < xt.numel(); ++i)
    x[i] = up[i] < 0.05 ? std::numeric_limits<T>::quiet_NaN()
           : up[i] < 0.1 ? -std::numeric_limits<T>::infinity()
                         : xp[i];
  Tensor in = empty({g.planes, g.h, g.w}, {.dtype = dt});
  std::copy(x.begin(), x.end(), in.data_ptr<T>());
  Tensor out = empty({g.planes, g.oh, g.ow}, {.dtype = dt});
  Tensor idx = empty({g.planes, g.oh, g.ow}, {.dtype = DType::Int64});
  kernels::max_pool2d(in, g, out, idx);
  std::vector<T> want;
  std::vector<int64_t> want_idx;
  reference(x, g, want, want_idx);
  for (size_t i = 0; i < want.size(); ++i) {
    const T got = out.data_ptr<T>()[i];
    ASSERT_TRUE((std::isnan(got) && std::isnan(want[i])) || got == want[i])
        << "value " << i << ": got " << got << ", want " << want[i] << " (" << g.h << "x" << g.w << ")";
    ASSERT_EQ(idx.data_ptr<int64_t>()[i], want_idx[i]) << "index " << i << " (" << g.h << "x" << g.w << ")";
  }
}

PoolGeom geom(int64_t planes, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  auto out = [&](int64_t in) {
    int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
    int64_t o = num / s + 1;
    if (ceil && (o - 1) * s >= in + p) --o;
    return o;
  };
  return {.planes = planes, .h = h, .w = w, .oh = out(h), .ow = out(w), .kh = k, .kw = k, .sh = s, .sw = s,
          .ph = p, .pw = p, .dh = d, .dw = d};
}

TEST(MaxPoolKernel, TwoByTwoFastPathFollowsTheRule) {
  uint64_t seed = 1;
  for (auto [h, w] : {std::pair<int64_t, int64_t>{2, 2}, {5, 7}, {26, 26}, {11, 11}, {28, 33}, {3, 40}, {5, 70}})
    for (int64_t planes : {1, 3, 37}) {  // 37 planes of 26x26 split across threads
      check<float>(geom(planes, h, w, 2, 2, 0, 1, false), seed++);
      check<double>(geom(planes, h, w, 2, 2, 0, 1, false), seed++);
    }
}

TEST(MaxPoolKernel, GenericPathFollowsTheRule) {
  uint64_t seed = 100;
  for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {11, 11}, {9, 4}}) {
    check<float>(geom(3, h, w, 2, 2, 0, 1, true), seed++);   // ceil mode: a last window hangs over
    check<float>(geom(3, h, w, 2, 2, 1, 1, false), seed++);  // padding
    check<float>(geom(3, h, w, 3, 2, 1, 1, false), seed++);
    check<double>(geom(3, h, w, 2, 1, 0, 2, false), seed++);  // dilation
    check<double>(geom(2, h, w, 3, 3, 0, 1, true), seed++);
  }
}

// The backward scatters each window's gradient to its argmax and zeros the rest.  gx starts as
// garbage, so an element the kernel forgot to write fails.
TEST(MaxPoolKernel, BackwardWritesTheGradientAtTheArgmaxAndZerosElsewhere) {
  Generator gen(7);
  for (PoolGeom g : {geom(3, 26, 26, 2, 2, 0, 1, false), geom(5, 11, 11, 2, 2, 0, 1, false),
                     geom(2, 5, 7, 2, 2, 0, 1, false), geom(2, 5, 7, 3, 2, 1, 1, false),
                     geom(2, 7, 9, 2, 2, 0, 1, true)}) {
    SCOPED_TRACE(str(g.h, "x", g.w, " k", g.kh, " p", g.ph));
    for (DType dt : {DType::Float32, DType::Float64}) {
      Tensor x = randint(0, 3, {g.planes, g.h, g.w}, {}, &gen).to(dt);  // ties
      Tensor out = empty({g.planes, g.oh, g.ow}, {.dtype = dt}), idx = empty({g.planes, g.oh, g.ow}, {.dtype = DType::Int64});
      kernels::max_pool2d(x, g, out, idx);
      Tensor gy = randn({g.planes, g.oh, g.ow}, {.dtype = dt}, &gen);
      Tensor gx = full({g.planes, g.h, g.w}, 123.0, {.dtype = dt});
      kernels::max_pool2d_backward(gy, idx, g, gx);
      Tensor want = zeros({g.planes, g.h, g.w}, {.dtype = DType::Float64});
      Tensor gy64 = gy.to(DType::Float64);
      for (int64_t p = 0; p < g.planes; ++p)
        for (int64_t k = 0; k < g.oh * g.ow; ++k) {
          const int64_t at = idx.data_ptr<int64_t>()[p * g.oh * g.ow + k];
          want.data_ptr<double>()[p * g.h * g.w + at] += gy64.data_ptr<double>()[p * g.oh * g.ow + k];
        }
      EXPECT_TRUE(testing::close(gx.to(DType::Float64), want, 1e-6, 1e-6));
    }
  }
}

// The uint8 taps nn::MaxPool2d keeps for 2x2 windows: the same maxima, each tap naming the
// int64 path's argmax within its window, and a backward equal to the int64 one bit for bit
// (every element written, gx starting as garbage), on ties, NaN, odd sizes and both dtypes.
template <class T>
void check_taps(PoolGeom g, uint64_t seed) {
  Generator gen(seed);
  const DType dt = dtype_v<T>;
  Tensor x = randint(0, 3, {g.planes, g.h, g.w}, {}, &gen).to(dt);
  Tensor u = rand({g.planes, g.h, g.w}, {.dtype = DType::Float64}, &gen);
  for (int64_t i = 0; i < x.numel(); ++i)
    if (u.data_ptr<double>()[i] < 0.05) x.data_ptr<T>()[i] = std::numeric_limits<T>::quiet_NaN();
  Tensor out = empty({g.planes, g.oh, g.ow}, {.dtype = dt}), idx = empty({g.planes, g.oh, g.ow}, {.dtype = DType::Int64});
  Tensor out8 = empty({g.planes, g.oh, g.ow}, {.dtype = dt}), taps = empty({g.planes, g.oh, g.ow}, {.dtype = DType::UInt8});
  kernels::max_pool2d(x, g, out, idx);
  kernels::max_pool2d(x, g, out8, taps);
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t r = 0; r < g.oh; ++r)
      for (int64_t q = 0; q < g.ow; ++q) {
        const int64_t k = (p * g.oh + r) * g.ow + q;
        const T a = out.data_ptr<T>()[k], b = out8.data_ptr<T>()[k];
        ASSERT_TRUE((std::isnan(a) && std::isnan(b)) || a == b) << "value " << k;
        const int tap = taps.data_ptr<uint8_t>()[k];
        ASSERT_EQ(idx.data_ptr<int64_t>()[k], (2 * r + tap / 2) * g.w + 2 * q + tap % 2) << "tap " << k;
      }
  Tensor gy = randn({g.planes, g.oh, g.ow}, {.dtype = dt}, &gen);
  Tensor gx = full({g.planes, g.h, g.w}, 123.0, {.dtype = dt}), gx8 = full({g.planes, g.h, g.w}, -7.0, {.dtype = dt});
  kernels::max_pool2d_backward(gy, idx, g, gx);
  kernels::max_pool2d_backward(gy, taps, g, gx8);
  EXPECT_TRUE(testing::close(gx, gx8, 0, 0));
}

TEST(MaxPoolKernel, TwoByTwoTapsMatchThePositions) {
  uint64_t seed = 300;
  for (auto [h, w] : {std::pair<int64_t, int64_t>{2, 2}, {5, 7}, {26, 26}, {13, 13}, {11, 11}, {28, 33}, {5, 70}})
    for (int64_t planes : {1, 37}) {
      SCOPED_TRACE(str(h, "x", w, " planes ", planes));
      check_taps<float>(geom(planes, h, w, 2, 2, 0, 1, false), seed++);
      check_taps<double>(geom(planes, h, w, 2, 2, 0, 1, false), seed++);
    }
  EXPECT_TRUE(kernels::max_pool2d_has_taps(geom(1, 5, 7, 2, 2, 0, 1, false)));
  EXPECT_FALSE(kernels::max_pool2d_has_taps(geom(1, 5, 7, 2, 2, 1, 1, false)));  // padding
  EXPECT_FALSE(kernels::max_pool2d_has_taps(geom(1, 5, 7, 3, 2, 0, 1, false)));  // 3x3
}

TEST(MaxPoolKernel, AllNegativeInfinityPicksTheFirstTap) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = full({1, 4, 4}, -inf);
  for (PoolGeom g : {geom(1, 4, 4, 2, 2, 0, 1, false), geom(1, 4, 4, 2, 2, 1, 1, false)}) {
    Tensor out = empty({1, g.oh, g.ow}), idx = empty({1, g.oh, g.ow}, {.dtype = DType::Int64});
    kernels::max_pool2d(x, g, out, idx);
    EXPECT_EQ(out.data_ptr<float>()[0], -inf);
    EXPECT_EQ(idx.data_ptr<int64_t>()[0], 0);
    EXPECT_EQ(idx.data_ptr<int64_t>()[1], g.ph ? 1 : 2);
  }
}

}  // namespace
}  // namespace koan
