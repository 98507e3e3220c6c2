// The koan side of the comparison suite: every workload of workloads.h, written the way a koan
// user would write it.  torch_compare.cpp is the same program against libtorch, line for line;
// keep the two in step.  Run by bench_compare (one process per thread count), or by hand:
//   koan_compare --threads 2 --only mlp,gemm --quick
#include <chrono>
#include <cstdio>
#include <string>

#include "harness.h"
#include "workloads.h"
#include "koan/koan.h"
#include "koan/nn/embedding.h"
#include "koan/nn/rnn.h"

using namespace koan;
using compare::keep;
using compare::per_second;
using compare::report;
using compare::seconds_per_call;

namespace {

struct Data {
  Tensor x, y;  // float32 (N, 1, 28, 28) in [0, 1], int64 (N)
};

// The IDX bytes (read by the harness, as for libtorch) as koan tensors; `limit` rows at most.
Data load(const std::string& dir, bool train, int64_t limit = -1) {
  std::string prefix = dir + (train ? "/train" : "/t10k");
  compare::IdxBytes images = compare::read_idx_u8(prefix + "-images-idx3-ubyte.gz", limit);
  compare::IdxBytes labels = compare::read_idx_u8(prefix + "-labels-idx1-ubyte.gz", limit);
  int64_t n = images.dims[0];
  Data d{empty({n, 1, 28, 28}), empty({n}, {.dtype = DType::Int64})};
  float* x = d.x.data_ptr<float>();
  for (size_t i = 0; i < images.bytes.size(); ++i) x[i] = static_cast<float>(images.bytes[i]) / 255.0f;
  int64_t* y = d.y.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) y[i] = labels.bytes[static_cast<size_t>(i)];
  return d;
}

// Batch i of size b, cycling through the data in order: the same rows for both frameworks.
Tensor batch(const Tensor& t, int64_t i, int64_t b) {
  int64_t per_epoch = t.size(0) / b;
  return narrow(t, 0, (i % per_epoch) * b, b);
}

template <class M, class... Args>
std::shared_ptr<nn::Module> make(Args&&... args) {
  return std::make_shared<M>(std::forward<Args>(args)...);
}

std::shared_ptr<nn::Sequential> mlp() {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      make<nn::Flatten>(), make<nn::Linear>(nn::LinearOptions{.in = 784, .out = 256}), make<nn::ReLU>(),
      make<nn::Linear>(nn::LinearOptions{.in = 256, .out = 128}), make<nn::ReLU>(),
      make<nn::Linear>(nn::LinearOptions{.in = 128, .out = 10})});
}

// The convolutions carry their ReLU (Keras' Conv2D(activation="relu")), as configs/ does: koan
// then applies it inside the convolution's kernel.
std::shared_ptr<nn::Sequential> cnn() {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      make<nn::Conv2d>(nn::Conv2dOptions{.in = 1, .out = 32, .kernel = 3, .activation = "relu"}),
      make<nn::MaxPool2d>(2),
      make<nn::Conv2d>(nn::Conv2dOptions{.in = 32, .out = 64, .kernel = 3, .activation = "relu"}),
      make<nn::MaxPool2d>(2), make<nn::Flatten>(),
      make<nn::Linear>(nn::LinearOptions{.in = 1600, .out = 128}), make<nn::ReLU>(),
      make<nn::Linear>(nn::LinearOptions{.in = 128, .out = 10})});
}

// Training and inference samples/s of one classifier at one batch size.
void classifier(const compare::WorkerArgs& args, const Data& d, const std::string& name,
                std::shared_ptr<nn::Sequential> (*build)(), bool adam, int64_t b) {
  manual_seed(0);
  auto net = build();
  std::unique_ptr<optim::Optimizer> opt;
  if (adam)
    opt = std::make_unique<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = 1e-3});
  else
    opt = std::make_unique<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
  std::string suffix = ".b" + std::to_string(b);

  compare::progress(name + ".train" + suffix);
  net->train();
  int64_t i = 0;
  auto train = seconds_per_call(args.plan, [&] {
    Tensor xb = batch(d.x, i, b), yb = batch(d.y, i, b);
    ++i;
    opt->zero_grad();
    Tensor loss = cross_entropy((*net)(xb), yb);
    loss.backward();
    opt->step();
  });
  report(name + ".train" + suffix, per_second(train, static_cast<double>(b)));

  compare::progress(name + ".infer" + suffix);
  net->eval();
  NoGradGuard no_grad;
  auto infer = seconds_per_call(args.plan, [&] {
    Tensor out = (*net)(batch(d.x, i++, b));
    keep(out);
  });
  report(name + ".infer" + suffix, per_second(infer, static_cast<double>(b)));
}

void lstm_lm(const compare::WorkerArgs& args) {
  constexpr int64_t vocab = 100, batch_size = 32, seq = 64;
  compare::progress("lstm.train");
  manual_seed(0);
  auto emb = std::make_shared<nn::Embedding>(nn::EmbeddingOptions{.num_embeddings = vocab, .embedding_dim = 64});
  auto lstm = std::make_shared<nn::LSTM>(nn::LSTMOptions{.input_size = 64, .hidden_size = 256, .batch_first = true});
  auto head = std::make_shared<nn::Linear>(nn::LinearOptions{.in = 256, .out = vocab});
  std::vector<Tensor> params;
  for (auto* m : {static_cast<nn::Module*>(emb.get()), static_cast<nn::Module*>(lstm.get()),
                  static_cast<nn::Module*>(head.get())})
    for (Tensor& p : m->parameters()) params.push_back(p);
  optim::Adam opt(params, {.lr = 1e-3});
  // Random tokens: throughput does not depend on the text.  Inputs and next-token targets.
  Tensor tokens = randint(0, vocab, {batch_size, seq + 1});
  Tensor x = narrow(tokens, 1, 0, seq).contiguous(), y = narrow(tokens, 1, 1, seq).contiguous().reshape({-1});
  auto t = seconds_per_call(args.plan, [&] {
    opt.zero_grad();
    auto [out, state] = lstm->forward(emb->forward(x), nn::LSTMState{});
    Tensor logits = head->forward(out).reshape({-1, vocab});
    Tensor loss = cross_entropy(logits, y);
    loss.backward();
    opt.step();
  });
  report("lstm.train", per_second(t, static_cast<double>(batch_size * seq)));
}

void gemm(const compare::WorkerArgs& args) {
  NoGradGuard no_grad;
  for (int64_t n : {256, 512, 1024, 2048}) {
    std::string key = "gemm.sq" + std::to_string(n);
    compare::progress(key);
    Tensor a = randn({n, n}), b = randn({n, n});
    auto t = seconds_per_call(args.plan, [&] { keep(matmul(a, b)); });
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
    Tensor x = randn({s.m, s.k}), w = randn({s.n, s.k});
    auto t = seconds_per_call(args.plan, [&] { keep(linear(x, w)); });
    report(s.key, per_second(t, compare::find_workload(s.key)->flops / 1e9));
  }
}

void overhead(const compare::WorkerArgs& args) {
  constexpr int kOps = 1000;  // per timed call, so the timing loop's own cost vanishes
  compare::progress("op.add");
  {
    NoGradGuard no_grad;
    Tensor a = ones({1}), b = ones({1});
    auto t = seconds_per_call(args.plan, [&] {
      for (int i = 0; i < kOps; ++i) keep(add(a, b));
    });
    report("op.add.nograd", compare::scaled(t, 1e6 / kOps));
  }
  {
    Tensor a = ones({1}).requires_grad_(), b = ones({1});
    auto t = seconds_per_call(args.plan, [&] {
      for (int i = 0; i < kOps; ++i) keep(add(a, b));
    });
    report("op.add.graph", compare::scaled(t, 1e6 / kOps));
  }
  compare::progress("op.linear_step");
  manual_seed(0);
  auto lin = std::make_shared<nn::Linear>(nn::LinearOptions{.in = 16, .out = 16});
  optim::SGD opt(lin->parameters(), {.lr = 0.01});
  Tensor x = randn({8, 16});
  auto t = seconds_per_call(args.plan, [&] {
    opt.zero_grad();
    Tensor loss = sum(lin->forward(x));
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
  manual_seed(0);
  auto net = cnn();
  optim::Adam opt(net->parameters(), {.lr = 1e-3});
  int64_t b = 64, warm = 20, steps = kMemorySteps - warm;
  long faults = 0;
  for (int64_t i = 0; i < warm + steps; ++i) {
    if (i == warm) faults = compare::page_faults();
    opt.zero_grad();
    Tensor loss = cross_entropy((*net)(batch(d.x, i, b)), batch(d.y, i, b));
    loss.backward();
    opt.step();
  }
  double per_step = static_cast<double>(compare::page_faults() - faults) / static_cast<double>(steps);
  report("mem.cnn.peak", compare::single(compare::peak_rss_mb()));
  report("mem.cnn.train", compare::single(compare::peak_rss_mb() - loaded));
  report("mem.cnn.faults", compare::single(per_step));
}

// The seed CNN's real job: 5 shuffled epochs at batch 64 with the demo's recipe (Adam, one-cycle
// schedule with max_lr 3e-3 stepped after every batch, configs/fashion_mnist_cnn.json), then
// the test accuracy.
void epochs(const Data& train, const Data& test) {
  compare::progress("epochs.cnn (5 epochs, minutes)");
  manual_seed(0);
  auto net = cnn();
  optim::Adam opt(net->parameters(), {.lr = 1e-3});
  Generator gen(0);
  int64_t n = train.x.size(0), b = 64;
  optim::OneCycleLR sched(opt, {.max_lr = {3e-3}, .epochs = 5, .steps_per_epoch = (n + b - 1) / b});
  auto t0 = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < 5; ++epoch) {
    net->train();
    Tensor order = randperm(n, &gen);
    for (int64_t s = 0; s < n; s += b) {
      Tensor idx = narrow(order, 0, s, std::min(b, n - s));
      opt.zero_grad();
      Tensor loss = cross_entropy((*net)(index_select(train.x, 0, idx)), index_select(train.y, 0, idx));
      loss.backward();
      opt.step();
      sched.step();
    }
    compare::progress("  epoch " + std::to_string(epoch + 1) + " done");
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  net->eval();
  NoGradGuard no_grad;
  int64_t correct = 0, m = test.x.size(0);
  for (int64_t s = 0; s < m; s += 1000) {
    int64_t len = std::min<int64_t>(1000, m - s);
    Tensor pred = argmax((*net)(narrow(test.x, 0, s, len)), 1);
    correct += sum(eq(pred, narrow(test.y, 0, s, len)).to(DType::Int64)).item<int64_t>();
  }
  report("epochs.cnn.time", compare::single(seconds));
  report("epochs.cnn.acc", compare::single(100.0 * static_cast<double>(correct) / static_cast<double>(m)));
}

}  // namespace

int main(int argc, char** argv) {
  compare::WorkerArgs args = compare::parse_worker_args(argc, argv, "koan_compare");
  set_num_threads(args.threads);
  compare::info("framework", "koan");
  compare::info("threads", std::to_string(get_num_threads()));
  try {
    Data train;
    if (args.wants("mlp") || args.wants("cnn") || args.wants("epochs"))
      train = load(args.data, true);
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
    std::fprintf(stderr, "koan_compare: %s\n", e.what());
    return 1;
  }
  return 0;
}
