// Op table rows for convolution and pooling (fixtures: tests/fixtures/conv.safetensors, made by
// gen_conv.py).  The per-case arguments arrive as the last input (int64); a bias, when present,
// is the input before it.  See gen_conv.py for the layouts.  Below the rows: second-order
// gradients, which the table driver does not check.
#include "koan/kernels/conv.h"
#include "koan/kernels/elementwise.h"
#include "koan/ops/conv.h"
#include "koan/ops/pool.h"
#include "koan/ops/unary.h"
#include "ops/op_table.h"

namespace koan::testing {
namespace {

std::vector<int64_t> args(const Inputs& x) { return x.back().to_vector<int64_t>(); }
Tensor bias_of(const Inputs& x) { return x.size() == 4 ? x[2] : Tensor(); }
Tensor f32(const Shape& s) { return randn(s); }

Padding2 pad2(int64_t h, int64_t w) {
  if (h == -1) return "same";
  if (h == -2) return "valid";
  return {h, w};
}
Padding1 pad1(int64_t p) {
  if (p == -1) return "same";
  if (p == -2) return "valid";
  return p;
}
std::optional<Int2> stride2(int64_t h, int64_t w) {
  if (h == 0) return std::nullopt;
  return Int2(h, w);
}

Tensor call_conv1d(const Inputs& x) {
  auto p = args(x);
  return conv1d(x[0], x[1], bias_of(x), p[0], pad1(p[1]), p[2], p[3]);
}
Tensor call_conv2d(const Inputs& x) {
  auto p = args(x);
  return conv2d(x[0], x[1], bias_of(x), {p[0], p[1]}, pad2(p[2], p[3]), {p[4], p[5]}, p[6]);
}
Tensor call_conv2d_relu(const Inputs& x) {
  auto p = args(x);
  return conv2d_relu(x[0], x[1], bias_of(x), {p[0], p[1]}, pad2(p[2], p[3]), {p[4], p[5]}, p[6]);
}
Tensor call_conv2d_relu_max_pool2d(const Inputs& x) {
  auto p = args(x);
  return conv2d_relu_max_pool2d(x[0], x[1], bias_of(x), {p[0], p[1]}, pad2(p[2], p[3]), {p[4], p[5]}, p[6]);
}
Tensor call_conv_transpose2d(const Inputs& x) {
  auto p = args(x);
  return conv_transpose2d(x[0], x[1], bias_of(x), {p[0], p[1]}, {p[2], p[3]}, {p[4], p[5]}, p[6], {p[7], p[8]});
}
Tensor call_max_pool1d(const Inputs& x) {
  auto p = args(x);
  return max_pool1d(x[0], p[0], p[1] ? std::optional<int64_t>(p[1]) : std::nullopt, p[2], p[3], p[4] != 0);
}
Tensor call_max_pool2d(const Inputs& x) {
  auto p = args(x);
  return max_pool2d(x[0], {p[0], p[1]}, stride2(p[2], p[3]), {p[4], p[5]}, {p[6], p[7]}, p[8] != 0);
}
Tensor call_avg_pool2d(const Inputs& x) {
  auto p = args(x);
  return avg_pool2d(x[0], {p[0], p[1]}, stride2(p[2], p[3]), {p[4], p[5]}, p[6] != 0, p[7] != 0);
}
Tensor call_adaptive_avg_pool2d(const Inputs& x) {
  auto p = args(x);
  return adaptive_avg_pool2d(x[0], {p[0], p[1]});
}

// GEMM sums in another order than PyTorch's direct convolution.
constexpr double kConvRtol32 = 1e-4, kConvAtol32 = 1e-5;

KOAN_OP_ROW({.op = "conv1d", .family = "conv", .fn = call_conv1d,
             .errors = {[] { (void)conv1d(f32({2, 3, 4, 5}), f32({2, 3, 3})); },        // input rank
                        [] { (void)conv1d(f32({2, 3, 8}), f32({2, 4, 3})); },           // channels
                        [] { (void)conv1d(f32({2, 3, 8}), f32({2, 1, 3}), {}, 1, 0, 1, 2); },  // groups ∤ C
                        [] { (void)conv1d(f32({2, 3, 4}), f32({2, 3, 6})); },           // kernel > input
                        [] { (void)conv1d(f32({2, 3, 8}), f32({2, 3, 3}), {}, 2, "same"); },
                        [] { (void)conv1d(f32({2, 3, 8}), f32({2, 3, 3}), f32({3})); },  // bias size
                        [] { (void)conv1d(f32({2, 3, 8}), f32({2, 3, 3}), {}, 1, "full"); }},
             .rtol32 = kConvRtol32, .atol32 = kConvAtol32});

KOAN_OP_ROW({.op = "conv2d", .family = "conv", .fn = call_conv2d,
             .errors = {[] { (void)conv2d(f32({3, 8, 8}).flatten(), f32({2, 3, 3, 3})); },  // input rank
                        [] { (void)conv2d(f32({1, 2, 3, 8, 8}), f32({2, 3, 3, 3})); },
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({2, 3, 3})); },             // weight rank
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({2, 2, 3, 3})); },          // channel mismatch
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({4, 1, 3, 3}), {}, 1, 0, 1, 2); },  // groups ∤ C
                        [] { (void)conv2d(f32({2, 4, 8, 8}), f32({3, 2, 3, 3}), {}, 1, 0, 1, 2); },  // groups ∤ O
                        [] { (void)conv2d(f32({2, 3, 4, 4}), f32({2, 3, 5, 3})); },          // kernel > input
                        [] { (void)conv2d(f32({2, 3, 4, 4}), f32({2, 3, 3, 3}), {}, 1, 1, 3); },  // dilated kernel > padded
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({2, 3, 3, 3}), {}, 2, "same"); },
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({2, 3, 3, 3}), {}, 0); },    // stride 0
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({2, 3, 3, 3}), {}, 1, -1); },
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({2, 3, 3, 3}), {}, 1, 0, 1, 0); },  // groups 0
                        [] { (void)conv2d(f32({2, 3, 8, 8}), f32({2, 3, 3, 3}), f32({2, 1})); },   // bias rank
                        [] { (void)conv2d(f32({2, 3, 8, 8}), randn({2, 3, 3, 3}, {.dtype = DType::Float64})); },
                        [] { (void)conv2d(randint(0, 3, {2, 3, 8, 8}), randint(0, 3, {2, 3, 3, 3})); }},
             .rtol32 = kConvRtol32, .atol32 = kConvAtol32});

KOAN_OP_ROW({.op = "conv2d_relu", .family = "conv", .fn = call_conv2d_relu,
             .errors = {[] { (void)conv2d_relu(f32({3, 8, 8}).flatten(), f32({2, 3, 3, 3})); },  // input rank
                        [] { (void)conv2d_relu(f32({2, 3, 8, 8}), f32({2, 2, 3, 3})); },          // channel mismatch
                        [] { (void)conv2d_relu(f32({2, 3, 8, 8}), f32({2, 3, 3, 3}), f32({3})); },  // bias size
                        [] { (void)conv2d_relu(randint(0, 3, {2, 3, 8, 8}), randint(0, 3, {2, 3, 3, 3})); }},
             .rtol32 = kConvRtol32, .atol32 = kConvAtol32});

KOAN_OP_ROW({.op = "conv2d_relu_max_pool2d", .family = "conv", .fn = call_conv2d_relu_max_pool2d,
             .errors = {[] { (void)conv2d_relu_max_pool2d(f32({2, 3, 8, 8}), f32({2, 2, 3, 3})); },  // channel mismatch
                        [] { (void)conv2d_relu_max_pool2d(f32({2, 3, 8, 8}), f32({2, 3, 3, 3}), f32({3})); },  // bias size
                        [] { (void)conv2d_relu_max_pool2d(f32({2, 3, 3, 8}), f32({2, 3, 3, 3})); },  // 1 row: nothing to pool
                        [] { (void)conv2d_relu_max_pool2d(randint(0, 3, {2, 3, 8, 8}), randint(0, 3, {2, 3, 3, 3})); }},
             .rtol32 = kConvRtol32, .atol32 = kConvAtol32});

KOAN_OP_ROW({.op = "conv_transpose2d", .family = "conv", .fn = call_conv_transpose2d,
             .errors = {[] { (void)conv_transpose2d(f32({4, 5}), f32({4, 3, 3, 3})); },       // input rank
                        [] { (void)conv_transpose2d(f32({2, 3, 5, 5}), f32({4, 3, 3, 3})); }, // channels
                        [] { (void)conv_transpose2d(f32({2, 3, 5, 5}), f32({3, 2, 3, 3}), {}, 1, 0, 0, 2); },
                        [] { (void)conv_transpose2d(f32({2, 4, 5, 5}), f32({4, 3, 3, 3}), {}, 2, 0, 2); },  // output_padding
                        [] { (void)conv_transpose2d(f32({2, 4, 1, 1}), f32({4, 3, 1, 1}), {}, 1, 1); },     // empty output
                        [] { (void)conv_transpose2d(f32({2, 4, 5, 5}), f32({4, 3, 3, 3}), f32({4})); }},  // bias size
             .rtol32 = kConvRtol32, .atol32 = kConvAtol32});

KOAN_OP_ROW({.op = "max_pool1d", .family = "conv", .fn = call_max_pool1d,
             .no_gradcheck_inputs = {1},
             .errors = {[] { (void)max_pool1d(f32({2, 3, 4, 5}), 2); },
                        [] { (void)max_pool1d(f32({2, 3, 4}), 5); },
                        [] { (void)max_pool1d(f32({2, 3, 8}), 2, 0); },
                        [] { (void)max_pool1d(f32({2, 3, 8}), 2, 2, 2); }}});  // padding > kernel / 2

KOAN_OP_ROW({.op = "max_pool2d", .family = "conv", .fn = call_max_pool2d,
             .no_gradcheck_inputs = {1},
             .errors = {[] { (void)max_pool2d(f32({8, 8}), 2); },                   // input rank
                        [] { (void)max_pool2d(f32({1, 2, 3, 8, 8}), 2); },
                        [] { (void)max_pool2d(f32({2, 3, 2, 8}), 3); },             // kernel > input
                        [] { (void)max_pool2d(f32({2, 3, 8, 8}), 3, 1, 2); },       // padding > kernel / 2
                        [] { (void)max_pool2d(f32({2, 3, 8, 8}), 0); },
                        [] { (void)max_pool2d(f32({2, 3, 8, 8}), 2, 2, 0, 0); },    // dilation 0
                        [] { (void)max_pool2d(randint(0, 3, {2, 3, 8, 8}), 2); }}});

KOAN_OP_ROW({.op = "avg_pool2d", .family = "conv", .fn = call_avg_pool2d,
             .errors = {[] { (void)avg_pool2d(f32({8}), 2); },
                        [] { (void)avg_pool2d(f32({2, 3, 8, 1}), 2); },
                        [] { (void)avg_pool2d(f32({2, 3, 8, 8}), {3, 2}, 1, {2, 0}); },
                        [] { (void)avg_pool2d(f32({2, 3, 8, 8}), 2, Int2(0)); }}});

KOAN_OP_ROW({.op = "adaptive_avg_pool2d", .family = "conv", .fn = call_adaptive_avg_pool2d,
             .errors = {[] { (void)adaptive_avg_pool2d(f32({8, 8}), 2); },
                        [] { (void)adaptive_avg_pool2d(f32({2, 3, 8, 8}), {0, 2}); },
                        [] { (void)adaptive_avg_pool2d(f32({2, 3, 0, 8}), 2); }}});

// ---- second order: the gradient of each op is itself made of ops, so gradcheck it.

// fn(inputs) = d(sum(op(inputs) * v)) / d(inputs[0..n)), concatenated, with the graph kept.
Fn first_order(Fn op, size_t n_wrt) {
  return [op, n_wrt](const std::vector<Tensor>& in) {
    EnableGradGuard on;
    std::vector<Tensor> leaves;
    for (auto& t : in) leaves.push_back(t.requires_grad() ? t : t.detach().requires_grad_());
    Tensor y = op(leaves);
    Generator g(99);
    Tensor v = randn(y.shape(), {.dtype = y.dtype()}, &g);
    std::vector<Tensor> wrt(leaves.begin(), leaves.begin() + static_cast<std::ptrdiff_t>(n_wrt));
    auto grads = autograd::grad({sum(mul(y, v))}, wrt, {}, true, true, true);
    std::vector<Tensor> flat;
    for (auto& gi : grads) flat.push_back(gi.flatten());
    return cat(flat, 0);
  };
}

Tensor d64(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return randn(s, {.dtype = DType::Float64}, &g);
}

TEST(ConvSecondOrder, Conv2dGradientsDifferentiate) {
  Fn op = [](const std::vector<Tensor>& x) { return conv2d(x[0], x[1], x[2], {2, 1}, {1, 0}, {1, 2}, 2); };
  EXPECT_TRUE(gradcheck(first_order(op, 3), {d64({1, 4, 4, 5}, 1), d64({2, 2, 2, 3}, 2), d64({2}, 3)}));
}

TEST(ConvSecondOrder, Conv2dSameGradientsDifferentiate) {
  Fn op = [](const std::vector<Tensor>& x) { return conv2d(x[0], x[1], {}, 1, "same"); };
  EXPECT_TRUE(gradcheck(first_order(op, 2), {d64({1, 2, 4, 5}, 4), d64({3, 2, 2, 3}, 5)}));
}

TEST(ConvSecondOrder, Conv2dReluGradientsDifferentiate) {
  Fn op = [](const std::vector<Tensor>& x) { return conv2d_relu(x[0], x[1], x[2], 1, 1); };
  EXPECT_TRUE(gradcheck(first_order(op, 3), {d64({1, 2, 4, 5}, 21), d64({3, 2, 3, 3}, 22), d64({3}, 23)}));
}

// The fused epilogue must give what the two ops give, bit for bit, forward and backward, at the
// seed CNN's shapes (the path the demo takes) and with the 1x1 direct path.
TEST(ConvKernels, Conv2dReluEqualsReluOfConv2d) {
  for (auto [xs, ws] : {std::pair<Shape, Shape>{{8, 1, 28, 28}, {32, 1, 3, 3}},
                        std::pair<Shape, Shape>{{8, 32, 13, 13}, {64, 32, 3, 3}},
                        std::pair<Shape, Shape>{{3, 5, 4, 6}, {7, 5, 1, 1}}}) {
    Tensor x = d64(xs, 31).to(DType::Float32), w = d64(ws, 32).to(DType::Float32);
    Tensor b = d64({ws[0]}, 33).to(DType::Float32);
    auto run = [&](bool fused) {
      Tensor xr = x.detach().requires_grad_(), wr = w.detach().requires_grad_(), br = b.detach().requires_grad_();
      Tensor y = fused ? conv2d_relu(xr, wr, br) : relu(conv2d(xr, wr, br));
      auto g = autograd::grad({sum(mul(y, y))}, {xr, wr, br});
      return std::vector<Tensor>{y, g[0], g[1], g[2]};
    };
    auto fused = run(true), plain = run(false);
    for (size_t i = 0; i < fused.size(); ++i) EXPECT_TRUE(close(fused[i], plain[i], 0, 0)) << str(xs) << " output " << i;
  }
}

// The one-pass backward (kernels::conv2d_backward, what training runs) against the three
// separate kernels and relu_backward: gx and gw bit for bit, the bias gradient (summed in double
// in another order) to float rounding; at 1 and 2 threads, with groups, padding, the 1x1 direct
// path and the narrow-image im2col.
TEST(ConvKernels, OnePassBackwardEqualsTheSeparateKernels) {
  struct Case { Shape x, w; Int2 stride; Int2 pad; int64_t groups; };
  for (const Case& c : {Case{{9, 3, 13, 13}, {8, 3, 3, 3}, 1, 0, 1}, Case{{5, 4, 9, 40}, {6, 2, 3, 2}, {2, 1}, 1, 2},
                        Case{{4, 5, 6, 7}, {3, 5, 1, 1}, 1, 0, 1}}) {
    const int64_t n = c.x[0], ci = c.x[1], h = c.x[2], w = c.x[3];
    kernels::ConvGeom g{.n = n, .c = ci, .h = h, .w = w, .o = c.w[0], .kh = c.w[2], .kw = c.w[3]};
    g.sh = c.stride.h;
    g.sw = c.stride.w;
    g.ph = c.pad.h;
    g.pw = c.pad.w;
    g.groups = c.groups;
    g.oh = (h + 2 * g.ph - g.kh) / g.sh + 1;
    g.ow = (w + 2 * g.pw - g.kw) / g.sw + 1;
    Tensor x = d64(c.x, 41).to(DType::Float32), wt = d64(c.w, 42).to(DType::Float32);
    Tensor gy = d64({n, g.o, g.oh, g.ow}, 43).to(DType::Float32), y = d64({n, g.o, g.oh, g.ow}, 44).to(DType::Float32);
    for (int threads : {1, 2}) {
      NumThreadsGuard t(threads);
      for (bool relu : {false, true}) {
        SCOPED_TRACE(str(c.x, " relu ", relu, " threads ", threads));
        Tensor gym = empty_like(gy);
        if (relu) kernels::relu_backward(gy, y, gym);
        else gym = gy;
        Tensor gx0 = empty_like(x), gw0 = empty_like(wt);
        kernels::conv2d_input_grad(gym, wt, {}, g, gx0);
        kernels::conv2d_weight_grad(x, gym, g, gw0);
        Tensor gb0 = sum(gym.to(DType::Float64), {0, 2, 3});
        Tensor gx1 = empty_like(x), gw1 = empty_like(wt), gb1 = empty({g.o});
        // im2col, the path whose results are the separate kernels' bit for bit (the first case's
        // 3 channels would take direct tiles otherwise).
        const auto im2col = kernels::ConvAlgo::im2col;
        kernels::conv2d_backward(gy, relu ? y : Tensor(), x, wt, g, gx1, gw1, gb1, im2col);
        EXPECT_TRUE(close(gx0, gx1, 0, 0));
        EXPECT_TRUE(close(gw0, gw1, 0, 0));
        EXPECT_TRUE(close(gb0.to(DType::Float32), gb1, 1e-6, 1e-6));
        Tensor gw2 = empty_like(wt);  // no input gradient wanted (a first layer)
        kernels::conv2d_backward(gy, relu ? y : Tensor(), x, Tensor(), g, Tensor(), gw2, Tensor(), im2col);
        EXPECT_TRUE(close(gw0, gw2, 0, 0));
      }
    }
  }
}

TEST(ConvSecondOrder, ConvTranspose2dGradientsDifferentiate) {
  Fn op = [](const std::vector<Tensor>& x) { return conv_transpose2d(x[0], x[1], x[2], 2, 1, 1); };
  EXPECT_TRUE(gradcheck(first_order(op, 3), {d64({1, 2, 3, 3}, 6), d64({2, 3, 3, 3}, 7), d64({3}, 8)}));
}

TEST(ConvSecondOrder, PoolGradientsDifferentiate) {
  // Distinct, well-spaced values so the max never moves under gradcheck's perturbation.
  Tensor x = mul(add(randperm(2 * 36).to(DType::Float64), -36.0), 0.1).reshape({1, 2, 6, 6});
  Fn mp = [](const std::vector<Tensor>& in) { return mul(max_pool2d(in[0], 3, 2, 1), max_pool2d(in[0], 3, 2, 1)); };
  EXPECT_TRUE(gradcheck(first_order(mp, 1), {x}));
  Fn ap = [](const std::vector<Tensor>& in) {
    Tensor a = avg_pool2d(in[0], 3, 2, 1, true, false);
    return mul(a, adaptive_avg_pool2d(in[0], {a.size(2), a.size(3)}));
  };
  EXPECT_TRUE(gradcheck(first_order(ap, 1), {x}));
}

// max_pool2d keeps uint8 taps for 2x2 windows; max_pool2d_with_indices keeps positions.  Their
// gradients must agree, and under create_graph (where the taps path recomputes positions) too.
TEST(ConvSecondOrder, TwoByTwoPoolTapsGradients) {
  Tensor x = mul(add(randperm(2 * 3 * 7 * 6).to(DType::Float64), -100.0), 0.1).reshape({2, 3, 7, 6});
  Fn taps = [](const std::vector<Tensor>& in) { return mul(max_pool2d(in[0], 2), max_pool2d(in[0], 2)); };
  Fn pos = [](const std::vector<Tensor>& in) {
    Tensor y = max_pool2d_with_indices(in[0], 2).first;
    return mul(y, y);
  };
  EXPECT_TRUE(gradcheck(taps, {x}));
  EXPECT_TRUE(gradcheck(first_order(taps, 1), {x}));
  EXPECT_TRUE(close(first_order(taps, 1)({x}), first_order(pos, 1)({x}), 0, 0));
}

TEST(ConvSecondOrder, Conv2dReluMaxPoolGradientsDifferentiate) {
  // Under create_graph the fused op recomputes the activation and goes through scatter_add.
  Fn op = [](const std::vector<Tensor>& x) { return conv2d_relu_max_pool2d(x[0], x[1], x[2], 1, 1); };
  EXPECT_TRUE(gradcheck(first_order(op, 3), {d64({1, 2, 5, 4}, 24), d64({3, 2, 3, 3}, 25), d64({3}, 26)}));
}

// The fused convolution + ReLU + 2x2 max pool (what nn::Sequential runs for the seed CNN) must
// give what the three ops give: output, and the gradients of x, w and b.  On its im2col path bit
// for bit (the bias's gradient summed in double in the same order); where it takes Winograd
// F(2x2, 3x3) (3x3, 8 or more input channels: the seed CNN's second layer) or direct 2x2 tiles
// (3x3, fewer channels: its first layer) up to rounding.  At 1
// and 2 threads; the seed CNN's two layers (26x26 and the odd 11x11), a wide image (generic
// im2col), groups with padding, no bias, the 1x1 direct path, a first layer (x without grad) and
// float64.
TEST(ConvKernels, Conv2dReluMaxPoolEqualsTheThreeOps) {
  struct Case { Shape x, w; int64_t pad; int64_t groups; bool bias; bool x_grad; DType dt; double tol = 0; };
  for (const Case& c : {Case{{9, 1, 28, 28}, {32, 1, 3, 3}, 0, 1, true, false, DType::Float32, 1e-4},  // direct: sums of 1 521 terms per weight
                        Case{{10, 32, 13, 13}, {64, 32, 3, 3}, 0, 1, true, true, DType::Float32, 1e-4},  // Winograd: sums of 250 tiles
                        Case{{3, 2, 9, 41}, {4, 1, 3, 3}, 1, 2, false, true, DType::Float32},
                        Case{{4, 5, 6, 7}, {3, 5, 1, 1}, 0, 1, true, true, DType::Float32},
                        Case{{3, 2, 7, 8}, {3, 2, 3, 2}, 1, 1, true, true, DType::Float64}}) {
    Tensor x = d64(c.x, 51).to(c.dt), w = d64(c.w, 52).to(c.dt), b = c.bias ? d64({c.w[0]}, 53).to(c.dt) : Tensor();
    auto run = [&](bool fused) {
      Tensor xr = c.x_grad ? x.detach().requires_grad_() : x, wr = w.detach().requires_grad_();
      Tensor br = c.bias ? b.detach().requires_grad_() : Tensor();
      Tensor y = fused ? conv2d_relu_max_pool2d(xr, wr, br, 1, c.pad, 1, c.groups)
                       : max_pool2d(conv2d_relu(xr, wr, br, 1, c.pad, 1, c.groups), 2);
      Tensor v = d64(y.shape(), 54).to(c.dt);
      std::vector<Tensor> wrt{wr};
      if (c.x_grad) wrt.push_back(xr);
      if (c.bias) wrt.push_back(br);
      auto g = autograd::grad({sum(mul(y, v))}, wrt);
      g.insert(g.begin(), y);
      return g;
    };
    for (int threads : {1, 2}) {
      NumThreadsGuard t(threads);
      SCOPED_TRACE(str(c.x, " threads ", threads));
      auto fused = run(true), plain = run(false);
      ASSERT_EQ(fused.size(), plain.size());
      for (size_t i = 0; i < fused.size(); ++i) EXPECT_TRUE(close(fused[i], plain[i], c.tol, c.tol)) << "output " << i;
    }
  }
}

// Results must not depend on how many threads split the batch.
TEST(ConvKernels, SameResultAtAnyThreadCount) {
  Tensor x = d64({16, 8, 12, 12}, 11).to(DType::Float32), w = d64({16, 8, 3, 3}, 12).to(DType::Float32);
  auto run = [&] {
    Tensor xr = x.detach().requires_grad_(), wr = w.detach().requires_grad_();
    Tensor y = conv2d(xr, wr, {}, 1, 1);
    auto g = autograd::grad({sum(mul(y, y))}, {xr, wr});
    return std::vector<Tensor>{y, g[0], g[1]};
  };
  int before = get_num_threads();
  set_num_threads(1);
  auto one = run();
  set_num_threads(std::max(2, before));
  auto many = run();
  set_num_threads(before);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(close(one[i], many[i], 0, 0)) << "output " << i;
}

}  // namespace
}  // namespace koan::testing
