// The comparison suite's char-LSTM language model (embedding 64, LSTM 256, sequence 64, batch 32,
// linear head over 100 symbols, Adam) one phase at a time (make bench): where a training step's
// time goes, at 1 and 2 threads.  Each benchmark reports wall time and the process's CPU time
// (both threads), so a split that only burns the second core shows up.  No assertions: timings
// belong here, never in tests.
//
//   build/bench/bench_lstm_lm --benchmark_filter=Step --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include "koan/koan.h"
#include "koan/nn/embedding.h"
#include "koan/nn/rnn.h"

using namespace koan;

namespace {

constexpr int64_t kVocab = 100, kBatch = 32, kSeq = 64, kEmb = 64, kHidden = 256;

struct Model {
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> head;
  std::vector<Tensor> params;
  Tensor x, y;
  Model() {
    manual_seed(0);
    emb = std::make_shared<nn::Embedding>(nn::EmbeddingOptions{.num_embeddings = kVocab, .embedding_dim = kEmb});
    lstm = std::make_shared<nn::LSTM>(nn::LSTMOptions{.input_size = kEmb, .hidden_size = kHidden, .batch_first = true});
    head = std::make_shared<nn::Linear>(nn::LinearOptions{.in = kHidden, .out = kVocab});
    for (nn::Module* m : {static_cast<nn::Module*>(emb.get()), static_cast<nn::Module*>(lstm.get()),
                          static_cast<nn::Module*>(head.get())})
      for (Tensor& p : m->parameters()) params.push_back(p);
    Tensor tokens = randint(0, kVocab, {kBatch, kSeq + 1});
    x = narrow(tokens, 1, 0, kSeq).contiguous();
    y = narrow(tokens, 1, 1, kSeq).contiguous().reshape({-1});
  }
  Tensor loss() {
    auto [out, state] = lstm->forward(emb->forward(x), nn::LSTMState{});
    return cross_entropy(head->forward(out).reshape({-1, kVocab}), y);
  }
};

// The whole training step, as koan_compare times it.
void BM_Step(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m;
  optim::Adam opt(m.params, {.lr = 1e-3});
  for (auto _ : st) {
    opt.zero_grad();
    m.loss().backward();
    opt.step();
  }
  st.SetItemsProcessed(st.iterations() * kBatch * kSeq);  // tokens
}
BENCHMARK(BM_Step)->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);
// The same, with the calling thread's CPU time only: at 2 threads, how much of the step the
// worker took off it (on a loaded machine the caller runs the chunks a descheduled worker has
// not started, so this is a lower bound on what a quiet machine's second core would take).
BENCHMARK(BM_Step)->Name("BM_StepCallerCpu")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The LSTM layer's forward alone, recording the graph as in training (its backward is timed next).
void BM_LstmForward(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m;
  Tensor xe = m.emb->forward(m.x).detach();
  for (auto _ : st) {
    auto [out, state] = m.lstm->forward(xe, nn::LSTMState{});
    benchmark::DoNotOptimize(out.data_ptr<float>());
  }
}
BENCHMARK(BM_LstmForward)->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

// The LSTM layer's forward and backward to its weights, from a fixed output gradient.
void BM_LstmForwardBackward(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m;
  Tensor xe = m.emb->forward(m.x).detach();
  Tensor gy = randn({kBatch, kSeq, kHidden});
  for (auto _ : st) {
    auto [out, state] = m.lstm->forward(xe, nn::LSTMState{});
    autograd::backward({out}, {gy});
  }
}
BENCHMARK(BM_LstmForwardBackward)->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

// The head and the loss, forward and backward, on a fixed LSTM output.
void BM_HeadAndLoss(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m;
  Tensor h = randn({kBatch, kSeq, kHidden}).requires_grad_();
  for (auto _ : st) cross_entropy(m.head->forward(h).reshape({-1, kVocab}), m.y).backward();
}
BENCHMARK(BM_HeadAndLoss)->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

// The Adam step over all the model's parameters (their gradients set once).
void BM_Adam(benchmark::State& st) {
  NumThreadsGuard threads(static_cast<int>(st.range(0)));
  Model m;
  optim::Adam opt(m.params, {.lr = 1e-3});
  m.loss().backward();
  for (auto _ : st) opt.step();
}
BENCHMARK(BM_Adam)->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
