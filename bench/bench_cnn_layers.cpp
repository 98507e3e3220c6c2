// The seed CNN's layers one kernel at a time (make bench): where a training step's time goes.
// Batch 64, Fashion-MNIST shapes: conv 1->32 3x3 (28 -> 26), pool 2x2 (-> 13), conv 32->64 3x3
// (-> 11), pool 2x2 (-> 5).  Each benchmark is one kernel on buffers allocated once, so the
// figures are the kernels' own cost.  No assertions: timings belong here, never in tests.
#include <benchmark/benchmark.h>

#include "koan/kernels/conv.h"
#include "koan/kernels/elementwise.h"
#include "koan/kernels/pool.h"
#include "koan/koan.h"

using namespace koan;

namespace {

struct Layer {
  int64_t c, hw, o;
};
// The seed CNN's two layers, then two more for the plain convolution's algorithm threshold: three
// input channels at 28 x 28 (an RGB-like first layer) and seven at 13 x 13.
constexpr Layer kLayers[] = {{1, 28, 32}, {32, 13, 64}, {3, 28, 32}, {7, 13, 64}};
constexpr int64_t kBatch = 64;

kernels::ConvGeom geom(const Layer& l) {
  return {.n = kBatch, .c = l.c, .h = l.hw, .w = l.hw, .o = l.o, .kh = 3, .kw = 3, .oh = l.hw - 2, .ow = l.hw - 2};
}

// The plain convolution (algo 0: im2col, 1: automatic: Winograd from 8 input channels, direct
// tiles below).  Flops counted as im2col does them, so the tiles' figures are effective rates.
void BM_ConvForward(benchmark::State& st) {
  const Layer& l = kLayers[st.range(0)];
  const auto algo = st.range(1) ? kernels::ConvAlgo::automatic : kernels::ConvAlgo::im2col;
  auto g = geom(l);
  Tensor x = randn({g.n, g.c, g.h, g.w}), w = randn({g.o, g.c, 3, 3}), b = randn({g.o});
  Tensor y = empty({g.n, g.o, g.oh, g.ow});
  for (auto _ : st) kernels::conv2d_forward(x, w, b, g, y, false, algo);
  st.SetItemsProcessed(st.iterations() * 2 * g.n * g.o * g.c * 9 * g.oh * g.ow);  // flops
}
BENCHMARK(BM_ConvForward)->ArgsProduct({{0, 1, 2, 3}, {0, 1}});

// The plain convolution's one-pass first-order backward (input, weight and bias gradients).
void BM_ConvBackward(benchmark::State& st) {
  const Layer& l = kLayers[st.range(0)];
  const auto algo = st.range(1) ? kernels::ConvAlgo::automatic : kernels::ConvAlgo::im2col;
  auto g = geom(l);
  Tensor x = randn({g.n, g.c, g.h, g.w}), w = randn({g.o, g.c, 3, 3}), gy = randn({g.n, g.o, g.oh, g.ow});
  Tensor gx = empty_like(x), gw = empty_like(w), gb = empty({g.o});
  for (auto _ : st) kernels::conv2d_backward(gy, Tensor(), x, w, g, gx, gw, gb, algo);
  st.SetItemsProcessed(st.iterations() * 4 * g.n * g.o * g.c * 9 * g.oh * g.ow);
}
BENCHMARK(BM_ConvBackward)->ArgsProduct({{0, 1, 2, 3}, {0, 1}});

void BM_ConvInputGrad(benchmark::State& st) {
  const Layer& l = kLayers[st.range(0)];
  auto g = geom(l);
  Tensor gy = randn({g.n, g.o, g.oh, g.ow}), w = randn({g.o, g.c, 3, 3});
  Tensor gx = empty({g.n, g.c, g.h, g.w});
  for (auto _ : st) kernels::conv2d_input_grad(gy, w, Tensor(), g, gx);
  st.SetItemsProcessed(st.iterations() * 2 * g.n * g.o * g.c * 9 * g.oh * g.ow);
}
BENCHMARK(BM_ConvInputGrad)->Arg(1);  // the first layer's input needs no gradient

void BM_ConvWeightGrad(benchmark::State& st) {
  const Layer& l = kLayers[st.range(0)];
  auto g = geom(l);
  Tensor x = randn({g.n, g.c, g.h, g.w}), gy = randn({g.n, g.o, g.oh, g.ow});
  Tensor gw = empty({g.o, g.c, 3, 3});
  for (auto _ : st) kernels::conv2d_weight_grad(x, gy, g, gw);
  st.SetItemsProcessed(st.iterations() * 2 * g.n * g.o * g.c * 9 * g.oh * g.ow);
}
BENCHMARK(BM_ConvWeightGrad)->Arg(0)->Arg(1);

// The fused convolution + ReLU + 2x2 max pool (what the seed CNN runs), forward and backward,
// per layer and algorithm: im2col (0), Winograd F(2x2, 3x3) (1), direct 2x2 tiles (2).  The
// first layer's backward computes no input gradient, as in training.  bwd 2: the backward from
// the forward's reserve (Winograd keeps its transformed input; what training runs).
constexpr kernels::ConvAlgo kAlgos[] = {kernels::ConvAlgo::im2col, kernels::ConvAlgo::winograd, kernels::ConvAlgo::direct};

void BM_ConvReluPool(benchmark::State& st) {
  const Layer& l = kLayers[st.range(0)];
  const auto algo = kAlgos[st.range(1)];
  const bool backward = st.range(2);
  auto g = geom(l);
  Tensor x = randn({g.n, g.c, g.h, g.w}), w = mul(randn({g.o, g.c, 3, 3}), 0.2), b = randn({g.o});
  Tensor out = empty({g.n, g.o, g.oh / 2, g.ow / 2}), taps = empty(out.shape(), {.dtype = DType::UInt8});
  const int64_t rn = st.range(2) == 2 ? kernels::conv2d_relu_pool2x2_reserve(g, algo) : 0;
  Tensor reserve = rn ? empty({rn}) : Tensor();
  kernels::conv2d_relu_pool2x2_forward(x, w, b, g, out, taps, algo, reserve);
  Tensor gout = randn(out.shape()), gx = st.range(0) ? empty_like(x) : Tensor(), gw = empty_like(w), gb = empty_like(b);
  for (auto _ : st) {
    if (backward)
      kernels::conv2d_relu_pool2x2_backward(gout, out, taps, x, w, g, gx, gw, gb, algo, reserve);
    else
      kernels::conv2d_relu_pool2x2_forward(x, w, b, g, out, taps, algo);
  }
  st.SetItemsProcessed(st.iterations() * g.n);  // samples
}
BENCHMARK(BM_ConvReluPool)->ArgNames({"layer", "algo", "bwd"})->ArgsProduct({{0}, {0, 2}, {0, 1}})->ArgsProduct({{1}, {0, 1, 2}, {0, 1}})->Args({1, 1, 2});

void BM_Relu(benchmark::State& st) {
  auto g = geom(kLayers[st.range(0)]);
  Tensor x = randn({g.n, g.o, g.oh, g.ow}), y = empty_like(x);
  for (auto _ : st) kernels::unary(kernels::UnaryOp::Relu, x, y);
  st.SetItemsProcessed(st.iterations() * x.numel());
}
BENCHMARK(BM_Relu)->Arg(0)->Arg(1);

void BM_ReluBackward(benchmark::State& st) {
  auto g = geom(kLayers[st.range(0)]);
  Tensor x = randn({g.n, g.o, g.oh, g.ow}), gy = randn({g.n, g.o, g.oh, g.ow}), gx = empty_like(x);
  for (auto _ : st) kernels::relu_backward(gy, x, gx);
  st.SetItemsProcessed(st.iterations() * x.numel());
}
BENCHMARK(BM_ReluBackward)->Arg(0)->Arg(1);

kernels::PoolGeom pool_geom(int64_t layer) {
  auto c = geom(kLayers[layer]);
  return {.planes = c.n * c.o, .h = c.oh, .w = c.ow, .oh = c.oh / 2, .ow = c.ow / 2, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
}

// Args: layer, and where the argmax goes: 0 int64 positions (max_pool2d_with_indices), 1 uint8
// taps (what nn::MaxPool2d runs: one byte per output for the backward).
Tensor argmax_buffer(const kernels::PoolGeom& g, bool taps) {
  return empty({g.planes, g.oh, g.ow}, {.dtype = taps ? DType::UInt8 : DType::Int64});
}

void BM_MaxPool(benchmark::State& st) {
  auto g = pool_geom(st.range(0));
  Tensor x = randn({g.planes, g.h, g.w}), out = empty({g.planes, g.oh, g.ow}), idx = argmax_buffer(g, st.range(1));
  for (auto _ : st) kernels::max_pool2d(x, g, out, idx);
  st.SetItemsProcessed(st.iterations() * x.numel());
}
BENCHMARK(BM_MaxPool)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1});

void BM_MaxPoolBackward(benchmark::State& st) {
  auto g = pool_geom(st.range(0));
  Tensor x = randn({g.planes, g.h, g.w}), out = empty({g.planes, g.oh, g.ow}), idx = argmax_buffer(g, st.range(1));
  kernels::max_pool2d(x, g, out, idx);
  Tensor gy = randn({g.planes, g.oh, g.ow}), gx = empty_like(x);
  for (auto _ : st) kernels::max_pool2d_backward(gy, idx, g, gx);
  st.SetItemsProcessed(st.iterations() * x.numel());
}
BENCHMARK(BM_MaxPoolBackward)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1});

// A whole training step of the seed CNN (Adam, batch 64) on random data: with the ReLUs as
// modules of their own (0); carried by the convolutions, each pooling a step of its own (1);
// or with convolution, ReLU and pooling as one kernel (2: what nn::Sequential runs for the
// configs/ model and the demo).  An empty forward hook on the pools keeps 1 from fusing.
void BM_CnnTrainStep(benchmark::State& st) {
  const int mode = static_cast<int>(st.range(0));
  manual_seed(0);
  auto conv = [&](int64_t in, int64_t out) {
    return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in = in, .out = out, .kernel = 3, .activation = mode ? "relu" : ""});
  };
  auto pool = [&] {
    auto p = std::make_shared<nn::MaxPool2d>(2);
    if (mode == 1) p->register_forward_hook([](nn::Module&, const Tensor&, const Tensor&) {});
    return p;
  };
  std::vector<std::shared_ptr<nn::Module>> layers{conv(1, 32)};
  if (!mode) layers.push_back(std::make_shared<nn::ReLU>());
  layers.push_back(pool());
  layers.push_back(conv(32, 64));
  if (!mode) layers.push_back(std::make_shared<nn::ReLU>());
  layers.push_back(pool());
  layers.push_back(std::make_shared<nn::Flatten>());
  layers.push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = 1600, .out = 128}));
  layers.push_back(std::make_shared<nn::ReLU>());
  layers.push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = 128, .out = 10}));
  nn::Sequential net;
  for (auto& l : layers) net.push_back(l);
  optim::Adam opt(net.parameters(), optim::AdamOptions{.lr = 1e-3});
  Tensor x = randn({kBatch, 1, 28, 28}), y = randint(0, 10, {kBatch});
  for (auto _ : st) {
    opt.zero_grad();
    Tensor loss = cross_entropy(net.forward(x), y);
    loss.backward();
    opt.step();
  }
  st.SetItemsProcessed(st.iterations() * kBatch);
}
BENCHMARK(BM_CnnTrainStep)->Arg(0)->Arg(1)->Arg(2);


// The GEMM shapes of layer 2's forward: one sample (N = 121) or nine side by side (N = 1089).
void BM_Matmul(benchmark::State& st) {
  Tensor a = randn({st.range(0), st.range(2)}), b = randn({st.range(2), st.range(1)});
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(matmul(a, b));
  st.SetItemsProcessed(st.iterations() * 2 * st.range(0) * st.range(1) * st.range(2));
}
BENCHMARK(BM_Matmul)->Args({64, 121, 288})->Args({64, 1089, 288})->Args({64, 4096, 288})->Args({288, 121, 64})->Args({288, 1089, 64});
}  // namespace

BENCHMARK_MAIN();
