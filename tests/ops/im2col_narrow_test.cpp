// The AVX-512 im2col / col2im for narrow float32 images (kernels/cpu/im2col_narrow.h) against
// naive loops of the definition: im2col moves values, so it must match exactly; col2im must add
// each input element's contributions in the generic loop's order (kernel row, kernel column),
// so it must match exactly too.  Geometries cross the 16-lane boundary, pad, stride, dilate.
#include <vector>

#include "koan/kernels/cpu/im2col_narrow.h"
#include "support/testing.h"

namespace koan {
namespace {
using kernels::ConvGeom;

ConvGeom geom(int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t ph, int64_t pw, int64_t dh,
              int64_t dw) {
  ConvGeom g{.n = 1, .c = c, .h = h, .w = w, .o = 1, .kh = kh, .kw = kw};
  g.sh = sh;
  g.sw = 1;
  g.ph = ph;
  g.pw = pw;
  g.dh = dh;
  g.dw = dw;
  g.oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  g.ow = (w + 2 * pw - dw * (kw - 1) - 1) + 1;
  return g;
}

float at(const std::vector<float>& x, const ConvGeom& g, int64_t c, int64_t ih, int64_t iw) {
  if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return 0.f;
  return x[(c * g.h + ih) * g.w + iw];
}

#if defined(__AVX512F__)
std::vector<kernels::narrow::Shift> shifts(const ConvGeom& g, bool inverse) {
  std::vector<kernels::narrow::Shift> s;
  for (int64_t j = 0; j < g.kw; ++j) {
    const int64_t off = j * g.dw - g.pw;
    int64_t lo = off >= 0 ? 0 : -off, hi = std::min(g.ow, g.w - off);  // unit column stride
    lo = std::min(lo, g.ow);
    hi = std::max(hi, lo);
    s.push_back(inverse ? kernels::narrow::make_unshift(off, lo, hi) : kernels::narrow::make_shift(off, lo, hi));
  }
  return s;
}

const ConvGeom kGeoms[] = {
    geom(2, 13, 13, 3, 3, 1, 0, 0, 1, 1),  // the seed CNN's second layer
    geom(1, 28, 28, 3, 3, 1, 0, 0, 1, 1),  // its first: rows cross 16 lanes
    geom(3, 32, 32, 5, 5, 1, 2, 2, 1, 1),  // "same" 5x5 on 32 wide (CIFAR)
    geom(2, 9, 16, 3, 2, 2, 1, 1, 1, 2),   // stride in rows, dilation in columns, even kernel
    geom(1, 7, 17, 2, 4, 1, 0, 3, 2, 1),   // padding wider than the kernel's reach on one side
    geom(2, 5, 1, 3, 1, 1, 1, 0, 1, 1),    // one column
};

TEST(Im2colNarrow, MatchesTheDefinition) {
  Generator gen(5);
  for (const ConvGeom& g : kGeoms) {
    ASSERT_TRUE(kernels::narrow::applies(g));
    SCOPED_TRACE(str(g.h, "x", g.w, " k", g.kh, "x", g.kw, " p", g.ph, ",", g.pw));
    Tensor xt = randn({g.c * g.h * g.w}, {}, &gen);
    std::vector<float> x(xt.data_ptr<float>(), xt.data_ptr<float>() + xt.numel());
    const int64_t P = g.oh * g.ow, K = g.c * g.kh * g.kw;
    std::vector<float> col(K * P, 42.f);  // garbage: every element must be written
    auto s = shifts(g, false);
    kernels::narrow::im2col(x.data(), g, g.c, col.data(), s.data());
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j)
          for (int64_t r = 0; r < g.oh; ++r)
            for (int64_t q = 0; q < g.ow; ++q) {
              const float want = at(x, g, c, r * g.sh - g.ph + i * g.dh, q - g.pw + j * g.dw);
              ASSERT_EQ(col[((c * g.kh + i) * g.kw + j) * P + r * g.ow + q], want)
                  << "c" << c << " i" << i << " j" << j << " r" << r << " q" << q;
            }
  }
}

TEST(Im2colNarrow, Col2imAddsInTheGenericOrder) {
  Generator gen(6);
  for (const ConvGeom& g : kGeoms) {
    SCOPED_TRACE(str(g.h, "x", g.w, " k", g.kh, "x", g.kw, " p", g.ph, ",", g.pw));
    const int64_t P = g.oh * g.ow, K = g.c * g.kh * g.kw;
    Tensor colt = randn({K * P}, {}, &gen), xt = randn({g.c * g.h * g.w}, {}, &gen);
    std::vector<float> col(colt.data_ptr<float>(), colt.data_ptr<float>() + colt.numel());
    std::vector<float> want(xt.data_ptr<float>(), xt.data_ptr<float>() + xt.numel()), got = want;
    for (int64_t c = 0; c < g.c; ++c)  // conv.cpp's loop order: c, i, j, r, q
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j)
          for (int64_t r = 0; r < g.oh; ++r)
            for (int64_t q = 0; q < g.ow; ++q) {
              const int64_t ih = r * g.sh - g.ph + i * g.dh, iw = q - g.pw + j * g.dw;
              if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
              want[(c * g.h + ih) * g.w + iw] += col[((c * g.kh + i) * g.kw + j) * P + r * g.ow + q];
            }
    auto s = shifts(g, true);
    kernels::narrow::col2im(col.data(), g, g.c, got.data(), s.data());
    for (size_t k = 0; k < want.size(); ++k) ASSERT_EQ(got[k], want[k]) << "element " << k;
  }
}
#endif

#if defined(__AVX512F__)
TEST(Im2colNarrow, WideOrStridedImagesTakeTheGenericPath) {
  EXPECT_FALSE(kernels::narrow::applies(geom(1, 8, 33, 3, 3, 1, 0, 0, 1, 1)));  // 33 wide
  ConvGeom strided = geom(1, 8, 8, 3, 3, 1, 0, 0, 1, 1);
  strided.sw = 2;
  EXPECT_FALSE(kernels::narrow::applies(strided));
}
#endif

}  // namespace
}  // namespace koan
