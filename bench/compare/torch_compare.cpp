// The libtorch side of the comparison suite: koan_compare.cpp's workloads, line for line, in
// libtorch's C++ API (Debian's libtorch-dev).  Only this file and its target link libtorch.
// Run by bench_compare once per libtorch configuration, or by hand:
//   OPENBLAS_NUM_THREADS=1 torch_compare --threads 2 --only cnn --quick
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "harness.h"
#include "workloads.h"

using compare::keep;
using compare::per_second;
using compare::report;
using compare::seconds_per_call;
namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

struct Data {
  torch::Tensor x, y;  // float32 (N, 1, 28, 28) in [0, 1], int64 (N)
};

// The IDX bytes (read by the harness, as for koan) as torch tensors; `limit` rows at most.
Data load(const std::string& dir, bool train, int64_t limit = -1) {
  std::string prefix = dir + (train ? "/train" : "/t10k");
  compare::IdxBytes images = compare::read_idx_u8(prefix + "-images-idx3-ubyte.gz", limit);
  compare::IdxBytes labels = compare::read_idx_u8(prefix + "-labels-idx1-ubyte.gz", limit);
  int64_t n = images.dims[0];
  Data d{torch::empty({n, 1, 28, 28}), torch::empty({n}, torch::kInt64)};
  float* x = d.x.data_ptr<float>();
  for (size_t i = 0; i < images.bytes.size(); ++i) x[i] = static_cast<float>(images.bytes[i]) / 255.0f;
  int64_t* y = d.y.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) y[i] = labels.bytes[static_cast<size_t>(i)];
  return d;
}

// Batch i of size b, cycling through the data in order: the same rows for both frameworks.
torch::Tensor batch(const torch::Tensor& t, int64_t i, int64_t b) {
  int64_t per_epoch = t.size(0) / b;
  return t.narrow(0, (i % per_epoch) * b, b);
}

nn::Sequential mlp() {
  return nn::Sequential(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

nn::Sequential cnn() {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Conv2d(nn::Conv2dOptions(32, 64, 3)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Flatten(), nn::Linear(1600, 128), nn::ReLU(), nn::Linear(128, 10));
}

// Training and inference samples/s of one classifier at one batch size.
void classifier(const compare::WorkerArgs& args, const Data& d, const std::string& name, nn::Sequential (*build)(),
                bool adam, int64_t b) {
  torch::manual_seed(0);
  nn::Sequential net = build();
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (adam)
    opt = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-3));
  else
    opt = std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  std::string suffix = ".b" + std::to_string(b);

  compare::progress(name + ".train" + suffix);
  net->train();
  int64_t i = 0;
  auto train = seconds_per_call(args.plan, [&] {
    torch::Tensor xb = batch(d.x, i, b), yb = batch(d.y, i, b);
    ++i;
    opt->zero_grad();
    torch::Tensor loss = F::cross_entropy(net->forward(xb), yb);
    loss.backward();
    opt->step();
  });
  report(name + ".train" + suffix, per_second(train, static_cast<double>(b)));

  compare::progress(name + ".infer" + suffix);
  net->eval();
  torch::NoGradGuard no_grad;
  auto infer = seconds_per_call(args.plan, [&] {
    torch::Tensor out = net->forward(batch(d.x, i++, b));
    keep(out);
  });
  report(name + ".infer" + suffix, per_second(infer, static_cast<double>(b)));
}

void lstm_lm(const compare::WorkerArgs& args) {
  constexpr int64_t vocab = 100, batch_size = 32, seq = 64;
  compare::progress("lstm.train");
  torch::manual_seed(0);
  nn::Embedding emb(vocab, 64);
  nn::LSTM lstm(nn::LSTMOptions(64, 256).batch_first(true));
  nn::Linear head(256, vocab);
  std::vector<torch::Tensor> params;
  for (const auto& p : emb->parameters()) params.push_back(p);
  for (const auto& p : lstm->parameters()) params.push_back(p);
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
  // Random tokens: throughput does not depend on the text.  Inputs and next-token targets.
  torch::Tensor tokens = torch::randint(0, vocab, {batch_size, seq + 1});
  torch::Tensor x = tokens.narrow(1, 0, seq).contiguous(), y = tokens.narrow(1, 1, seq).contiguous().reshape({-1});
  auto t = seconds_per_call(args.plan, [&] {
    opt.zero_grad();
    auto out = std::get<0>(lstm->forward(emb->forward(x)));
    torch::Tensor logits = head->forward(out).reshape({-1, vocab});
    torch::Tensor loss = F::cross_entropy(logits, y);
    loss.backward();
    opt.step();
  });
  report("lstm.train", per_second(t, static_cast<double>(batch_size * seq)));
}

void gemm(const compare::WorkerArgs& args) {
  torch::NoGradGuard no_grad;
  for (int64_t n : {256, 512, 1024, 2048}) {
    std::string key = "gemm.sq" + std::to_string(n);
    compare::progress(key);
    torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
    auto t = seconds_per_call(args.plan, [&] { keep(torch::matmul(a, b)); });
    report(key, per_second(t, compare::find_workload(key)->flops / 1e9));
  }
  // Layer shapes: y = x w^T, as Linear computes it.
  struct Shape3 {
    const char* key;
    int64_t m, k, n;
  };
  for (Shape3 s : {Shape3{"gemm.mlp1.b64", 64, 784, 256}, Shape3{"gemm.mlp1.b256", 256, 784, 256},
                   Shape3{"gemm.mlp2.b256", 256, 256, 128}, Shape3{"gemm.cnnfc.b64", 64, 1600, 128},
                   Shape3{"gemm.cnnfc.b256", 256, 1600, 128}, Shape3{"gemm.lstm.hh", 32, 256, 1024},
                   Shape3{"gemm.lstm.ih", 2048, 64, 1024}}) {
    compare::progress(s.key);
    torch::Tensor x = torch::randn({s.m, s.k}), w = torch::randn({s.n, s.k});
    auto t = seconds_per_call(args.plan, [&] { keep(torch::linear(x, w)); });
    report(s.key, per_second(t, compare::find_workload(s.key)->flops / 1e9));
  }
}

void overhead(const compare::WorkerArgs& args) {
  constexpr int kOps = 1000;  // per timed call, so the timing loop's own cost vanishes
  compare::progress("op.add");
  {
    torch::NoGradGuard no_grad;
    torch::Tensor a = torch::ones({1}), b = torch::ones({1});
    auto t = seconds_per_call(args.plan, [&] {
      for (int i = 0; i < kOps; ++i) keep(torch::add(a, b));
    });
    report("op.add.nograd", compare::scaled(t, 1e6 / kOps));
  }
  {
    torch::Tensor a = torch::ones({1}).requires_grad_(), b = torch::ones({1});
    auto t = seconds_per_call(args.plan, [&] {
      for (int i = 0; i < kOps; ++i) keep(torch::add(a, b));
    });
    report("op.add.graph", compare::scaled(t, 1e6 / kOps));
  }
  compare::progress("op.linear_step");
  torch::manual_seed(0);
  nn::Linear lin(16, 16);
  torch::optim::SGD opt(lin->parameters(), torch::optim::SGDOptions(0.01));
  torch::Tensor x = torch::randn({8, 16});
  auto t = seconds_per_call(args.plan, [&] {
    opt.zero_grad();
    torch::Tensor loss = lin->forward(x).sum();
    loss.backward();
    opt.step();
  });
  report("op.linear_step", compare::scaled(t, 1e6));
}

constexpr int64_t kMemorySteps = 120;

// Peak memory and page faults of CNN training at batch 64, in a process that does nothing else.
void memory(const Data& d) {
  compare::progress("mem.cnn");
  double loaded = compare::current_rss_mb();
  torch::manual_seed(0);
  nn::Sequential net = cnn();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  int64_t b = 64, warm = 20, steps = kMemorySteps - warm;
  long faults = 0;
  for (int64_t i = 0; i < warm + steps; ++i) {
    if (i == warm) faults = compare::page_faults();
    opt.zero_grad();
    torch::Tensor loss = F::cross_entropy(net->forward(batch(d.x, i, b)), batch(d.y, i, b));
    loss.backward();
    opt.step();
  }
  double per_step = static_cast<double>(compare::page_faults() - faults) / static_cast<double>(steps);
  report("mem.cnn.peak", compare::single(compare::peak_rss_mb()));
  report("mem.cnn.train", compare::single(compare::peak_rss_mb() - loaded));
  report("mem.cnn.faults", compare::single(per_step));
}

// torch.optim.lr_scheduler.OneCycleLR's defaults (pct_start 0.3, cosine, div_factor 25,
// final_div_factor 1e4, beta1 from 0.95 to 0.85 and back) at step t of `total`, which libtorch's
// C++ API lacks: {lr, beta1}.
std::pair<double, double> one_cycle(int64_t t, int64_t total, double max_lr) {
  const double warm_end = 0.3 * static_cast<double>(total) - 1, last = static_cast<double>(total - 1);
  const double initial = max_lr / 25, min_lr = initial / 1e4, x = static_cast<double>(t);
  auto anneal = [](double from, double to, double pct) { return to + (from - to) / 2 * (std::cos(M_PI * pct) + 1); };
  if (x <= warm_end) {
    const double pct = x / warm_end;
    return {anneal(initial, max_lr, pct), anneal(0.95, 0.85, pct)};
  }
  const double pct = (x - warm_end) / (last - warm_end);
  return {anneal(max_lr, min_lr, pct), anneal(0.85, 0.95, pct)};
}

// The seed CNN's real job: 5 shuffled epochs at batch 64 with the demo's recipe (Adam, one-cycle
// with max_lr 3e-3 after every batch), then the test accuracy.
void epochs(const Data& train, const Data& test) {
  compare::progress("epochs.cnn (5 epochs, minutes)");
  torch::manual_seed(0);
  nn::Sequential net = cnn();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  int64_t n = train.x.size(0), b = 64, step = 0;
  const int64_t total = 5 * ((n + b - 1) / b);
  auto schedule = [&] {
    auto [lr, beta1] = one_cycle(step, total, 3e-3);
    auto& o = static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options());
    o.lr(lr);
    o.betas({beta1, std::get<1>(o.betas())});
  };
  schedule();
  auto t0 = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < 5; ++epoch) {
    net->train();
    torch::Tensor order = torch::randperm(n);
    for (int64_t s = 0; s < n; s += b) {
      torch::Tensor idx = order.narrow(0, s, std::min(b, n - s));
      opt.zero_grad();
      torch::Tensor loss =
          F::cross_entropy(net->forward(train.x.index_select(0, idx)), train.y.index_select(0, idx));
      loss.backward();
      opt.step();
      ++step;
      schedule();
    }
    compare::progress("  epoch " + std::to_string(epoch + 1) + " done");
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  net->eval();
  torch::NoGradGuard no_grad;
  int64_t correct = 0, m = test.x.size(0);
  for (int64_t s = 0; s < m; s += 1000) {
    int64_t len = std::min<int64_t>(1000, m - s);
    torch::Tensor pred = net->forward(test.x.narrow(0, s, len)).argmax(1);
    correct += pred.eq(test.y.narrow(0, s, len)).sum().item<int64_t>();
  }
  report("epochs.cnn.time", compare::single(seconds));
  report("epochs.cnn.acc", compare::single(100.0 * static_cast<double>(correct) / static_cast<double>(m)));
}

}  // namespace

int main(int argc, char** argv) {
  compare::WorkerArgs args = compare::parse_worker_args(argc, argv, "torch_compare");
  torch::set_num_threads(args.threads);
  compare::info("framework", "libtorch " + std::to_string(TORCH_VERSION_MAJOR) + "." +
                                 std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH));
  compare::info("threads", std::to_string(torch::get_num_threads()));
  try {
    Data train;
    if (args.wants("mlp") || args.wants("cnn") || args.wants("epochs")) train = load(args.data, true);
    if (args.wants("mlp"))
      for (int64_t b : {64, 256}) classifier(args, train, "mlp", mlp, false, b);
    if (args.wants("cnn"))
      for (int64_t b : {64, 256}) classifier(args, train, "cnn", cnn, true, b);
    if (args.wants("lstm")) lstm_lm(args);
    if (args.wants("gemm")) gemm(args);
    if (args.wants("op")) overhead(args);
    // A slice just big enough for its steps: the peak then belongs to training, not to loading.
    if (args.wants("mem")) memory(load(args.data, true, kMemorySteps * 64));
    if (args.wants("epochs")) epochs(train, load(args.data, false));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torch_compare: %s\n", e.what());
    return 1;
  }
  return 0;
}
