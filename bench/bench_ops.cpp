// Micro-benchmarks of the core (make bench): elementwise, reductions, matmul at typical layer
// shapes, and the per-op overhead with and without graph recording.  No assertions: timings
// belong here, never in tests.  The koan-vs-libtorch comparison suite is separate ([perf]).
#include <benchmark/benchmark.h>

#include "koan/koan.h"

using namespace koan;

static void BM_Add(benchmark::State& st) {
  Tensor a = randn({st.range(0)}), b = randn({st.range(0)});
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b));
  st.SetItemsProcessed(st.iterations() * st.range(0));
  st.SetBytesProcessed(st.iterations() * st.range(0) * 12);
}
BENCHMARK(BM_Add)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 20);

static void BM_AddBroadcast(benchmark::State& st) {
  Tensor a = randn({st.range(0), 256}), b = randn({256});
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b));
  st.SetItemsProcessed(st.iterations() * st.range(0) * 256);
}
BENCHMARK(BM_AddBroadcast)->Arg(64)->Arg(1024);

static void BM_Exp(benchmark::State& st) {
  Tensor a = randn({st.range(0)});
  for (auto _ : st) benchmark::DoNotOptimize(exp(a));
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_Exp)->Arg(1 << 16)->Arg(1 << 20);

static void BM_Relu(benchmark::State& st) {
  Tensor a = randn({st.range(0)});
  for (auto _ : st) benchmark::DoNotOptimize(relu(a));
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_Relu)->Arg(1 << 16)->Arg(1 << 20);

static void BM_SumAll(benchmark::State& st) {
  Tensor a = randn({st.range(0)});
  for (auto _ : st) benchmark::DoNotOptimize(sum(a));
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_SumAll)->Arg(1 << 16)->Arg(1 << 20);

static void BM_SumRows(benchmark::State& st) {  // bias gradient: sum over the batch
  Tensor a = randn({st.range(0), 512});
  for (auto _ : st) benchmark::DoNotOptimize(sum(a, {0}));
  st.SetItemsProcessed(st.iterations() * st.range(0) * 512);
}
BENCHMARK(BM_SumRows)->Arg(64)->Arg(1024);

static void BM_SumLastDim(benchmark::State& st) {
  Tensor a = randn({st.range(0), 512});
  for (auto _ : st) benchmark::DoNotOptimize(sum(a, {1}));
  st.SetItemsProcessed(st.iterations() * st.range(0) * 512);
}
BENCHMARK(BM_SumLastDim)->Arg(64)->Arg(1024);

static void BM_MatmulSquare(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor a = randn({n, n}), b = randn({n, n});
  for (auto _ : st) benchmark::DoNotOptimize(matmul(a, b));
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * st.iterations(), benchmark::Counter::kIsRate,
                                              benchmark::Counter::kIs1000);
}
BENCHMARK(BM_MatmulSquare)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);

// Layer shapes of the seed models: MLP 784-256 at batch 64/256, CNN dense 1600-128.
static void BM_MatmulLayer(benchmark::State& st) {
  int64_t m = st.range(0), k = st.range(1), n = st.range(2);
  Tensor a = randn({m, k}), w = randn({n, k});
  for (auto _ : st) benchmark::DoNotOptimize(linear(a, w));
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k * st.iterations(), benchmark::Counter::kIsRate,
                                              benchmark::Counter::kIs1000);
}
BENCHMARK(BM_MatmulLayer)->Args({64, 784, 256})->Args({256, 784, 256})->Args({64, 1600, 128})->Args({256, 256, 128});

static void BM_OpOverheadNoGraph(benchmark::State& st) {
  Tensor a = ones({1}), b = ones({1});
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b));
}
BENCHMARK(BM_OpOverheadNoGraph);

static void BM_OpOverheadWithGraph(benchmark::State& st) {
  Tensor a = ones({1}).requires_grad_(), b = ones({1});
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b));
}
BENCHMARK(BM_OpOverheadWithGraph);

static void BM_LinearStep(benchmark::State& st) {  // Linear(16,16) forward + backward + SGD step
  Tensor w = randn({16, 16}).requires_grad_(), b = zeros({16}).requires_grad_();
  Tensor x = randn({8, 16});
  for (auto _ : st) {
    Tensor loss = sum(linear(x, w, b));
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    loss.backward();
    NoGradGuard g;
    sub_(w, mul(w.grad(), 0.01));
    sub_(b, mul(b.grad(), 0.01));
  }
}
BENCHMARK(BM_LinearStep);


static void BM_Dropout(benchmark::State& st) {  // training-mode dropout, p = 0.2 (no graph)
  Tensor a = randn({st.range(0)});
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(dropout(a, 0.2));
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_Dropout)->Arg(1 << 16)->Arg(1 << 20);

BENCHMARK_MAIN();
