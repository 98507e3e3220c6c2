// The Winograd F(2x2, 3x3) and direct 2x2-tile paths of the fused convolution + ReLU + 2x2 max
// pooling (kernels/cpu/winograd.h, conv3x3_direct.h) against its im2col path, which equals the
// unfused ops bit for bit: forward values and taps, and the backward's three gradients, in float32
// and float64.  Each algorithm runs on every geometry, whichever one automatic would pick.
// Geometries cover padding (none, "same", wider than the kernel's reach, one side only), odd
// sizes whose last row or column the pooling leaves out, several chunks of samples with a short
// last one, and planes of more tiles than a chunk holds.  The op-level parity with PyTorch and the
// float64 gradcheck run through this path too (conv_rows.cpp, 8 input channels).  Last, the plain
// convolution through Winograd and direct tiles covering every output.
#include "koan/kernels/conv.h"
#include "support/testing.h"

namespace koan {
namespace {
using kernels::ConvAlgo;
using kernels::ConvGeom;

ConvGeom geom(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t ph, int64_t pw) {
  ConvGeom g{.n = n, .c = c, .h = h, .w = w, .o = o, .kh = 3, .kw = 3};
  g.ph = ph;
  g.pw = pw;
  g.oh = h + 2 * ph - 2;
  g.ow = w + 2 * pw - 2;
  return g;
}

const ConvGeom kGeoms[] = {
    geom(9, 8, 13, 13, 6, 0, 0),   // the seed CNN's second layer, narrower; 2 chunks, the last of 1 sample
    geom(2, 8, 8, 10, 5, 1, 1),    // "same": 8x10 -> 4x5
    geom(3, 9, 7, 9, 4, 0, 0),     // 5x7 -> 2x3: the last row and column left out
    geom(2, 8, 6, 5, 3, 2, 2),     // padding wider than the kernel's reach
    geom(2, 8, 9, 8, 4, 0, 1),     // padding on the columns only
    geom(3, 10, 30, 30, 4, 1, 1),  // 225 tiles a plane: more than a chunk
    geom(2, 8, 9, 40, 3, 1, 1),    // rows wider than the AVX-512 path's 32 columns
    geom(9, 1, 28, 28, 5, 0, 0),   // the seed CNN's first layer, fewer channels: 169 tiles, 11 vectors
    geom(2, 3, 9, 10, 4, 1, 1),    // RGB-like, "same"
    geom(10, 8, 30, 30, 2, 1, 1),  // 10 chunks of 1 sample in 8 blocks: blocks of 2 chunks
    geom(1, 8, 4, 4, 3, 0, 0),     // one tile, one sample
    geom(2, 9, 5, 6, 2, 0, 0),     // 3x4 -> one tile row: the odd row left out
};

struct Fused {
  Tensor out, taps;
};

Fused forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g, ConvAlgo algo) {
  Fused f{empty({g.n, g.o, g.oh / 2, g.ow / 2}, {.dtype = x.dtype()}),
          empty({g.n, g.o, g.oh / 2, g.ow / 2}, {.dtype = DType::UInt8})};
  kernels::conv2d_relu_pool2x2_forward(x, w, b, g, f.out, f.taps, algo);
  return f;
}

struct Grads {
  Tensor gx, gw, gb;
};

Grads backward(const Tensor& gout, const Fused& f, const Tensor& x, const Tensor& w, const ConvGeom& g,
               ConvAlgo algo, bool want_x = true, bool want_b = true) {
  Grads r{want_x ? full_like(x, 7.0) : Tensor(), full_like(w, 7.0), want_b ? empty({g.o}, {.dtype = x.dtype()}) : Tensor()};
  kernels::conv2d_relu_pool2x2_backward(gout, f.out, f.taps, x, w, g, r.gx, r.gw, r.gb, algo);
  return r;
}

TEST(Conv3x3Pool, WinogradAndDirectMatchIm2col) {
  Generator gen(11);
  for (ConvAlgo algo : {ConvAlgo::winograd, ConvAlgo::direct})
  for (DType dt : {DType::Float32, DType::Float64}) {
    const double rtol = dt == DType::Float32 ? 2e-5 : 1e-12, atol = dt == DType::Float32 ? 2e-5 : 1e-12;
    for (const ConvGeom& g : kGeoms) {
      SCOPED_TRACE(str(algo == ConvAlgo::winograd ? "winograd " : "direct ", name(dt), " n", g.n, " c", g.c, " ", g.h, "x", g.w, " o", g.o, " p", g.ph, ",", g.pw));
      ASSERT_TRUE(kernels::conv2d_winograd_supports(g));
      Tensor x = randn({g.n, g.c, g.h, g.w}, {.dtype = dt}, &gen);
      Tensor w = mul(randn({g.o, g.c, 3, 3}, {.dtype = dt}, &gen), 0.3);
      Tensor b = mul(randn({g.o}, {.dtype = dt}, &gen), 0.5);
      const Fused ref = forward(x, w, b, g, ConvAlgo::im2col);
      const Fused win = forward(x, w, b, g, algo);
      EXPECT_TRUE(testing::close(win.out, ref.out, rtol, atol));
      EXPECT_TRUE(equal(win.taps, ref.taps));
      // Some windows all negative (pooled 0: no gradient), most not; tiny outputs may have none.
      const double zeros = sum(eq(ref.out, 0.0)).item<double>() / double(ref.out.numel());
      if (ref.out.numel() >= 100) {
        EXPECT_GT(zeros, 0.02);
      }
      EXPECT_LT(zeros, 0.6);

      Tensor gout = randn(ref.out.shape(), {.dtype = dt}, &gen);
      const Grads gr = backward(gout, ref, x, w, g, ConvAlgo::im2col);
      const Grads gw = backward(gout, ref, x, w, g, algo);
      EXPECT_TRUE(testing::close(gw.gx, gr.gx, rtol, atol)) << "input gradient";
      EXPECT_TRUE(testing::close(gw.gw, gr.gw, rtol, atol)) << "weight gradient";
      EXPECT_TRUE(testing::close(gw.gb, gr.gb, rtol, atol)) << "bias gradient";
      // The weight gradient alone (conv after the input layer), and no bias.
      const Grads only_w = backward(gout, ref, x, w, g, algo, false, false);
      EXPECT_TRUE(equal(only_w.gw, gw.gw));
      // No bias in the forward.
      EXPECT_TRUE(testing::close(forward(x, w, Tensor(), g, algo).out,
                                 forward(x, w, Tensor(), g, ConvAlgo::im2col).out, rtol, atol));
    }
  }
}

TEST(Conv3x3Pool, SameResultAtAnyThreadCount) {
  Generator gen(12);
  for (ConvAlgo algo : {ConvAlgo::winograd, ConvAlgo::direct}) {
    const ConvGeom g = geom(21, algo == ConvAlgo::winograd ? 16 : 2, 13, 13, 8, 0, 0);  // 3 chunks; 8 blocks of 2-3 samples
    Tensor x = randn({g.n, g.c, g.h, g.w}, {}, &gen), w = mul(randn({g.o, g.c, 3, 3}, {}, &gen), 0.2);
    Tensor b = randn({g.o}, {}, &gen);
    auto run = [&](int threads) {
      set_num_threads(threads);
      Fused f = forward(x, w, b, g, algo);
      Grads r = backward(ones_like(f.out), f, x, w, g, algo);
      return std::vector<Tensor>{f.out, f.taps, r.gx, r.gw, r.gb};
    };
    auto one = run(1), two = run(2);
    set_num_threads(2);
    for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(equal(one[i], two[i])) << i;
  }
}

// Winograd's forward can keep its transformed input for the backward (the reserve): the
// gradients are then the same bit for bit, and the reserve is left as it was, so a second
// backward (retain_graph) reads it again.
TEST(Conv3x3Pool, WinogradBackwardFromTheReserveEqualsRecomputing) {
  Generator gen(13);
  for (const ConvGeom& g : {geom(21, 16, 13, 13, 8, 0, 0), geom(3, 10, 30, 30, 4, 1, 1), geom(2, 8, 9, 40, 3, 1, 1)}) {
    SCOPED_TRACE(str("n", g.n, " c", g.c, " ", g.h, "x", g.w));
    Tensor x = randn({g.n, g.c, g.h, g.w}, {}, &gen), w = mul(randn({g.o, g.c, 3, 3}, {}, &gen), 0.2);
    Tensor b = randn({g.o}, {}, &gen);
    const int64_t rn = kernels::conv2d_relu_pool2x2_reserve(g, ConvAlgo::winograd);
    ASSERT_EQ(rn, 16 * g.c * g.n * (g.oh / 2) * (g.ow / 2));
    EXPECT_EQ(kernels::conv2d_relu_pool2x2_reserve(g, ConvAlgo::im2col), 0);
    EXPECT_EQ(kernels::conv2d_relu_pool2x2_reserve(g, ConvAlgo::direct), 0);
    Tensor reserve = empty({rn});
    Fused f{empty({g.n, g.o, g.oh / 2, g.ow / 2}), empty({g.n, g.o, g.oh / 2, g.ow / 2}, {.dtype = DType::UInt8})};
    kernels::conv2d_relu_pool2x2_forward(x, w, b, g, f.out, f.taps, ConvAlgo::winograd, reserve);
    EXPECT_TRUE(equal(f.out, forward(x, w, b, g, ConvAlgo::winograd).out));
    Tensor kept = reserve.clone(), gout = randn(f.out.shape(), {}, &gen);
    const Grads plain = backward(gout, f, x, w, g, ConvAlgo::winograd);
    Grads from{full_like(x, 7.0), full_like(w, 7.0), empty({g.o})};
    kernels::conv2d_relu_pool2x2_backward(gout, f.out, f.taps, x, w, g, from.gx, from.gw, from.gb, ConvAlgo::winograd,
                                          reserve);
    EXPECT_TRUE(equal(from.gx, plain.gx));
    EXPECT_TRUE(equal(from.gw, plain.gw));
    EXPECT_TRUE(equal(from.gb, plain.gb));
    EXPECT_TRUE(equal(reserve, kept));
  }
  // Through the op: the seed CNN's second layer records a reserve; two backward passes agree.
  Tensor x = randn({5, 32, 13, 13}, {}, &gen).requires_grad_(), w = mul(randn({64, 32, 3, 3}, {}, &gen), 0.1);
  w.requires_grad_();
  Tensor y = conv2d_relu_max_pool2d(x, w);
  Tensor loss = sum(mul(y, y));
  auto g1 = autograd::grad({loss}, {x, w}, {}, true);
  auto g2 = autograd::grad({loss}, {x, w});
  EXPECT_TRUE(equal(g1[0], g2[0]));
  EXPECT_TRUE(equal(g1[1], g2[1]));
  // Frozen weights: no reserve, and the input's gradient through the ops' path.
  Tensor wf = w.detach();
  Tensor xg = autograd::grad({sum(mul(conv2d_relu_max_pool2d(x, wf), conv2d_relu_max_pool2d(x, wf)))}, {x})[0];
  Tensor xp = autograd::grad({sum(mul(max_pool2d(conv2d_relu(x, wf), 2), max_pool2d(conv2d_relu(x, wf), 2)))}, {x})[0];
  EXPECT_TRUE(testing::close(xg, xp, 1e-4, 1e-4));
}

TEST(Conv3x3Pool, EmptyBatchZeroesTheGradients) {
  for (ConvAlgo algo : {ConvAlgo::winograd, ConvAlgo::direct}) {
    const ConvGeom g = geom(0, 8, 6, 6, 3, 0, 0);
    Tensor x = empty({0, 8, 6, 6}), w = randn({3, 8, 3, 3});
    Fused f{empty({0, 3, 2, 2}), empty({0, 3, 2, 2}, {.dtype = DType::UInt8})};
    Grads r = backward(empty({0, 3, 2, 2}), f, x, w, g, algo);
    EXPECT_TRUE(equal(r.gw, zeros_like(w)));
    EXPECT_TRUE(equal(r.gb, zeros({3})));
  }
}

TEST(Conv3x3Pool, SupportsThreeByThreeKernelsWithUnitStride) {
  ConvGeom seed = geom(64, 32, 13, 13, 64, 0, 0);
  EXPECT_TRUE(kernels::conv2d_winograd_supports(seed));
  ConvGeom first = geom(64, 1, 28, 28, 32, 0, 0);  // direct, not Winograd, with 1 channel
  EXPECT_TRUE(kernels::conv2d_winograd_supports(first));
  ConvGeom strided = seed;
  strided.sh = 2;
  strided.oh = 6;
  EXPECT_FALSE(kernels::conv2d_winograd_supports(strided));
  ConvGeom grouped = seed;
  grouped.groups = 2;
  EXPECT_FALSE(kernels::conv2d_winograd_supports(grouped));
  ConvGeom five = seed;
  five.kh = five.kw = 5;
  EXPECT_FALSE(kernels::conv2d_winograd_supports(five));
}


// The plain convolution (no pooling) through Winograd with tiles covering every output, against
// im2col: odd sizes (a half-used last tile row and column), padding, bias or none, ReLU or none.
// The plain convolution's tiles (Winograd and direct, both on every geometry, though automatic
// picks one by channel count) against im2col: forward with and without bias, and every gradient,
// float32 and float64, bias and ReLU on and off.  The geometries cover odd sizes (a half-used
// last tile row or column), padding, a single tile, rows wider than the AVX-512 paths (40), one
// and three input channels (the direct path's home) and 16.
TEST(Conv3x3, TilesMatchIm2colForThePlainConvolution) {
  Generator gen(14);
  const ConvGeom geoms[] = {geom(3, 8, 13, 13, 6, 0, 0), geom(2, 9, 8, 10, 5, 1, 1),  geom(2, 8, 7, 9, 4, 1, 0),
                            geom(1, 8, 5, 5, 3, 2, 2),   geom(9, 16, 13, 13, 8, 0, 0), geom(2, 8, 9, 40, 3, 1, 1),
                            geom(3, 1, 28, 28, 5, 0, 0), geom(2, 3, 9, 11, 4, 1, 1),  geom(2, 2, 5, 40, 3, 1, 0),
                            geom(1, 1, 4, 4, 2, 0, 0)};
  for (ConvAlgo algo : {ConvAlgo::winograd, ConvAlgo::direct})
    for (DType dt : {DType::Float32, DType::Float64})
      for (const ConvGeom& g : geoms)
        for (bool relu : {false, true}) {
          SCOPED_TRACE(str(algo == ConvAlgo::direct ? "direct " : "winograd ", name(dt), " n", g.n, " c", g.c, " ", g.h,
                           "x", g.w, " p", g.ph, ",", g.pw, relu ? " relu" : ""));
          const double tol = dt == DType::Float32 ? 1e-4 : 1e-11;
          Tensor x = randn({g.n, g.c, g.h, g.w}, {.dtype = dt}, &gen);
          Tensor w = mul(randn({g.o, g.c, 3, 3}, {.dtype = dt}, &gen), 0.3), b = randn({g.o}, {.dtype = dt}, &gen);
          auto fwd = [&](const Tensor& bias, ConvAlgo a) {
            Tensor y = empty({g.n, g.o, g.oh, g.ow}, {.dtype = dt});
            kernels::conv2d_forward(x, w, bias, g, y, relu, a);
            return y;
          };
          const Tensor yr = fwd(b, ConvAlgo::im2col), yt = fwd(b, algo);
          EXPECT_TRUE(testing::close(yt, yr, tol, tol));
          EXPECT_TRUE(testing::close(fwd(Tensor(), algo), fwd(Tensor(), ConvAlgo::im2col), tol, tol));
          Tensor gy = randn(yr.shape(), {.dtype = dt}, &gen);
          auto bwd = [&](ConvAlgo a, bool want_x) {
            Grads r{want_x ? full_like(x, 7.0) : Tensor(), full_like(w, 7.0), empty({g.o}, {.dtype = dt})};
            kernels::conv2d_backward(gy, relu ? yr : Tensor(), x, w, g, r.gx, r.gw, r.gb, a);
            return r;
          };
          const Grads gr = bwd(ConvAlgo::im2col, true), gt = bwd(algo, true);
          EXPECT_TRUE(testing::close(gt.gx, gr.gx, tol, tol)) << "input gradient";
          EXPECT_TRUE(testing::close(gt.gw, gr.gw, tol, tol)) << "weight gradient";
          EXPECT_TRUE(testing::close(gt.gb, gr.gb, tol, tol)) << "bias gradient";
          EXPECT_TRUE(equal(bwd(algo, false).gw, gt.gw));
        }
}

TEST(Conv3x3, PlainConvolutionTilesAreThreadCountIndependent) {
  Generator gen(15);
  for (ConvAlgo algo : {ConvAlgo::winograd, ConvAlgo::direct}) {
    const ConvGeom g = geom(21, algo == ConvAlgo::direct ? 3 : 16, 13, 13, 8, 1, 1);
    Tensor x = randn({g.n, g.c, g.h, g.w}, {}, &gen), w = mul(randn({g.o, g.c, 3, 3}, {}, &gen), 0.2);
    auto run = [&](int threads) {
      NumThreadsGuard t(threads);
      Tensor y = empty({g.n, g.o, g.oh, g.ow});
      kernels::conv2d_forward(x, w, Tensor(), g, y, true, algo);
      Grads r{empty_like(x), empty_like(w), empty({g.o})};
      kernels::conv2d_backward(ones_like(y), y, x, w, g, r.gx, r.gw, r.gb, algo);
      return std::vector<Tensor>{y, r.gx, r.gw, r.gb};
    };
    auto one = run(1), two = run(2);
    for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(equal(one[i], two[i])) << i;
  }
}

TEST(Conv3x3, AutomaticPicksTheAlgorithmByChannelCount) {
  // The plain convolution: direct tiles up to 2 input channels, im2col from 3 to 7, Winograd from
  // 8; the fused one: direct tiles below 8.  Other kernels, strides or groups: im2col.  And
  // automatic's result is the named algorithm's, bit for bit.
  Generator gen(16);
  for (int64_t c : {1, 2, 3, 7, 8, 16}) {
    SCOPED_TRACE(str(c, " channels"));
    const ConvGeom g = geom(2, c, 10, 10, 4, 1, 1);
    const ConvAlgo plain = c <= 2 ? ConvAlgo::direct : c < 8 ? ConvAlgo::im2col : ConvAlgo::winograd;
    EXPECT_EQ(kernels::conv2d_algorithm(g), plain);
    EXPECT_EQ(kernels::conv2d_algorithm(g, true), c < 8 ? ConvAlgo::direct : ConvAlgo::winograd);
    Tensor x = randn({g.n, g.c, g.h, g.w}, {}, &gen), w = randn({g.o, g.c, 3, 3}, {}, &gen);
    auto fwd = [&](ConvAlgo a) {
      Tensor y = empty({g.n, g.o, g.oh, g.ow});
      kernels::conv2d_forward(x, w, Tensor(), g, y, false, a);
      return y;
    };
    EXPECT_TRUE(equal(fwd(ConvAlgo::automatic), fwd(plain)));
  }
  ConvGeom strided = geom(2, 1, 10, 10, 4, 1, 1);
  strided.sh = strided.sw = 2;
  strided.oh = strided.ow = 5;
  EXPECT_EQ(kernels::conv2d_algorithm(strided), ConvAlgo::im2col);
  EXPECT_EQ(kernels::conv2d_algorithm(strided, true), ConvAlgo::im2col);
}

}  // namespace
}  // namespace koan
