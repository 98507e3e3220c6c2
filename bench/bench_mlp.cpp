// The comparison suite's MLP (784-256-128-10, ReLU, SGD with momentum 0.9) one phase at a time
// (make bench): where a training step's time goes at batch 64 and 256, at 1 and 2 threads.  Each
// benchmark reports wall time and the process's CPU time (both threads), so a split that only
// burns the second core shows up.  No assertions: timings belong here, never in tests.
//
//   build/bench/bench_mlp --benchmark_filter=Step --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include "koan/koan.h"

using namespace koan;

namespace {

struct Model {
  nn::Sequential net;
  Tensor x, y;
  explicit Model(int64_t batch) {
    manual_seed(0);
    net.push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = 784, .out = 256}));
    net.push_back(std::make_shared<nn::ReLU>());
    net.push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = 256, .out = 128}));
    net.push_back(std::make_shared<nn::ReLU>());
    net.push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = 128, .out = 10}));
    x = rand({batch, 784});
    y = randint(0, 10, {batch});
  }
  Tensor loss() { return cross_entropy(net.forward(x), y); }
};

optim::SGD sgd(Model& m) { return optim::SGD(m.net.parameters(), {.lr = 0.01, .momentum = 0.9}); }

// Args: threads, batch.
void BM_Step(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m(st.range(1));
  auto opt = sgd(m);
  for (auto _ : st) {
    opt.zero_grad();
    m.loss().backward();
    opt.step();
  }
  st.SetItemsProcessed(st.iterations() * st.range(1));
}

// The forward pass with graph recording, no backward.
void BM_Forward(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m(st.range(1));
  for (auto _ : st) benchmark::DoNotOptimize(m.loss());
  st.SetItemsProcessed(st.iterations() * st.range(1));
}

// Forward and backward, no optimizer step (the gradients accumulate; the cost is the same).
void BM_ForwardBackward(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m(st.range(1));
  for (auto _ : st) m.loss().backward();
  st.SetItemsProcessed(st.iterations() * st.range(1));
}

// zero_grad and the SGD step alone, on gradients from one backward.
void BM_Sgd(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m(st.range(1));
  auto opt = sgd(m);
  m.loss().backward();
  for (auto _ : st) opt.step();
  st.SetItemsProcessed(st.iterations() * st.range(1));
}

#define KOAN_MLP_BENCH(fn)                                                                          \
  BENCHMARK(fn)->ArgNames({"threads", "batch"})->ArgsProduct({{1, 2}, {64, 256}})->MeasureProcessCPUTime() \
      ->UseRealTime()->Unit(benchmark::kMicrosecond)
KOAN_MLP_BENCH(BM_Step);
KOAN_MLP_BENCH(BM_Forward);
KOAN_MLP_BENCH(BM_ForwardBackward);
KOAN_MLP_BENCH(BM_Sgd);
}  // namespace

BENCHMARK_MAIN();
