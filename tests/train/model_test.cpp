// Model::fit / evaluate / predict and the callbacks, on small generated problems.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "koan/autograd/grad_mode.h"
#include "koan/nn/activation.h"
#include "koan/nn/container.h"
#include "koan/nn/linear.h"
#include "koan/optim/adam.h"
#include "koan/optim/sgd.h"
#include "koan/train/checkpoint.h"
#include "koan/train/model.h"
#include "support/testing.h"

namespace koan {
namespace {

// Three Gaussian blobs in 2-D: a net that learns nothing stays near 33% accuracy.
std::pair<Tensor, Tensor> blobs(int64_t n, uint64_t seed) {
  Generator g(seed);
  Tensor y = randint(0, 3, {n}, DType::Int64, &g);
  Tensor centers = tensor({{2.f, 0.f}, {-1.f, 1.7f}, {-1.f, -1.7f}});
  Tensor x = add(index_select(centers, 0, y), mul(randn({n, 2}, {}, &g), 0.6));
  return {x, y};
}

std::shared_ptr<nn::Sequential> small_net(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(nn::LinearOptions{.in = 2, .out = 16}), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(nn::LinearOptions{.in = 16, .out = 3})});
}

train::Model compiled(std::shared_ptr<nn::Module> net, double lr = 1e-2) {
  train::Model m(net);
  m.compile({.optimizer = std::make_shared<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = lr}),
             .loss = "sparse_categorical_crossentropy",
             .metrics = {"accuracy"}});
  return m;
}

TEST(Model, FitLearnsAndReportsKerasStyle) {
  auto [x, y] = blobs(600, 1);
  auto [xt, yt] = blobs(300, 2);
  train::Model m = compiled(small_net(3));
  std::ostringstream out;
  auto h = m.fit(x, y, {.epochs = 8, .batch_size = 32, .validation_split = 0.2, .verbose = 2, .out = &out});
  EXPECT_EQ(h.epochs(), 8u);
  EXPECT_LT(h["loss"].back(), h["loss"].front());
  EXPECT_TRUE(h.has("val_accuracy"));
  auto scores = m.evaluate(xt, yt);
  EXPECT_GT(scores.at("accuracy"), 0.9) << "a working model separates the blobs";
  std::string text = out.str();
  EXPECT_NE(text.find("Epoch 8/8"), std::string::npos) << text;
  EXPECT_NE(text.find("val_accuracy"), std::string::npos) << text;
  Tensor p = m.predict(xt, 64);
  EXPECT_EQ(p.shape(), (Shape{300, 3}));
  EXPECT_FALSE(p.requires_grad());
}

TEST(Model, BinaryAccuracyThresholdsLogitsAtZero) {
  // binary_crossentropy takes logits: a logit of 0.3 is probability 0.57, a positive prediction.
  auto net = std::make_shared<nn::Linear>(nn::LinearOptions{.in = 1, .out = 1});
  {
    NoGradGuard g;
    net->weight.fill_(1.0);
    net->bias.zero_();
  }
  train::Model m(net);
  m.compile({.optimizer = std::make_shared<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0.1}),
             .loss = "binary_crossentropy",
             .metrics = {"accuracy", "binary_accuracy"}});
  Tensor x = tensor({0.3f, -0.3f, 2.f, -2.f}).unsqueeze(1);
  Tensor y = tensor({1.f, 0.f, 1.f, 0.f});
  auto scores = m.evaluate(x, y);
  EXPECT_DOUBLE_EQ(scores.at("accuracy"), 1.0);
  EXPECT_DOUBLE_EQ(scores.at("binary_accuracy"), 1.0);
}

TEST(Model, ErrorsNameTheProblem) {
  auto net = small_net(1);
  train::Model m(net);
  EXPECT_THROW(m.fit(ones({4, 2}), zeros({4}, {.dtype = DType::Int64})), ValueError);  // not compiled
  EXPECT_THROW(m.compile({.optimizer = std::make_shared<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0.1}),
                          .loss = "hinge"}),
               ValueError);
  train::Model ok = compiled(net);
  EXPECT_THROW(ok.fit(ones({4, 2}), zeros({5}, {.dtype = DType::Int64})), ShapeError);
  EXPECT_THROW(ok.fit(ones({4, 2}), zeros({4}, {.dtype = DType::Int64}), {.validation_split = 1.5}), ValueError);
}

TEST(Callbacks, EarlyStoppingStopsAndRestoresBestWeights) {
  auto [x, y] = blobs(200, 4);
  auto net = small_net(5);
  train::Model m = compiled(net, 0.5);  // a large lr makes val_loss bounce
  auto es = std::make_shared<train::EarlyStopping>(
      train::EarlyStoppingOptions{.monitor = "loss", .min_delta = 10.0, .patience = 1, .restore_best_weights = true});
  nn::StateDict at_best;
  auto snap = std::make_shared<train::LambdaCallback>();
  snap->epoch_end = [&](train::Model& mm, int epoch, train::Logs&) {
    if (epoch == 0)
      for (auto& [k, v] : mm.net().state_dict()) at_best[k] = v.clone();
  };
  auto h = m.fit(x, y, {.epochs = 20, .callbacks = {snap, es}, .verbose = 0});
  // min_delta 10 means no later epoch counts as an improvement: stop after 1 + patience + 1 epochs.
  EXPECT_EQ(h.epochs(), 3u);
  EXPECT_EQ(es->best_epoch(), 0);
  for (auto& [k, v] : net->state_dict()) EXPECT_TRUE(equal(v, at_best.at(k))) << k;
}

TEST(Callbacks, CheckpointCsvLoggerAndLrSchedule) {
  auto dir = koan::testing::temp_path("koan_cb_test");
  std::filesystem::create_directories(dir);
  auto [x, y] = blobs(128, 6);
  auto net = small_net(7);
  train::Model m = compiled(net);
  auto ckpt = std::make_shared<train::ModelCheckpoint>(
      train::ModelCheckpointOptions{.path = (dir / "w-{epoch}.safetensors").string(), .monitor = "loss"});
  auto csv = std::make_shared<train::CSVLogger>((dir / "log.csv").string());
  auto sched = std::make_shared<train::LearningRateScheduler>([](int epoch, double) { return 0.01 * std::pow(0.5, epoch); });
  m.fit(x, y, {.epochs = 3, .callbacks = {ckpt, csv, sched}, .verbose = 0});
  EXPECT_TRUE(std::filesystem::exists(dir / "w-3.safetensors"));
  auto file = io::load_safetensors((dir / "w-3.safetensors").string());
  EXPECT_TRUE(equal(file.tensors.at("0.weight"), net->state_dict().at("0.weight")));
  EXPECT_NEAR(m.optimizer().lr(0), 0.0025, 1e-15);
  std::ifstream f(dir / "log.csv");
  std::string header, line;
  std::getline(f, header);
  EXPECT_EQ(header.rfind("epoch,", 0), 0u) << header;
  int rows = 0;
  while (std::getline(f, line)) ++rows;
  EXPECT_EQ(rows, 3);
  std::filesystem::remove_all(dir);
}

TEST(Callbacks, LRSchedulerCallbackStepsOneCycleEveryBatch) {
  auto [x, y] = blobs(64, 10);  // 4 batches of 16 per epoch
  auto net = small_net(11);
  train::Model m = compiled(net);
  auto cycle = std::make_shared<optim::OneCycleLR>(
      m.optimizer(), optim::OneCycleLROptions{.max_lr = {0.05}, .epochs = 3, .steps_per_epoch = 4,
                                              .cycle_momentum = false});
  std::vector<double> seen;  // the lr each batch trained with
  struct Spy : train::Callback {
    std::vector<double>* seen;
    void on_batch_end(train::Model& m, int64_t, train::Logs&) override { seen->push_back(m.optimizer().lr(0)); }
  };
  auto spy = std::make_shared<Spy>();
  spy->seen = &seen;
  auto h = m.fit(x, y, {.epochs = 3, .batch_size = 16, .callbacks = {spy, std::make_shared<train::LRSchedulerCallback>(cycle)},
                        .verbose = 0});
  ASSERT_EQ(seen.size(), 12u);
  // A twin schedule on its own optimizer gives the lr of every step.
  auto twin_net = small_net(11);
  optim::SGD twin_opt(twin_net->parameters(), {.lr = 0.1});
  optim::OneCycleLR twin(twin_opt, {.max_lr = {0.05}, .epochs = 3, .steps_per_epoch = 4, .cycle_momentum = false});
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_DOUBLE_EQ(seen[i], twin_opt.lr(0)) << "batch " << i;
    twin.step();
  }
  EXPECT_NEAR(seen.back(), 0.05 / 25 / 1e4, 1e-15);  // the last batch trains at min_lr
  EXPECT_DOUBLE_EQ(h["lr"][2], seen.back());          // each epoch logs its last batch's lr
  EXPECT_DOUBLE_EQ(h["lr"][0], seen[3]);
  // Stepping past the schedule's length is an error, not a silent wrap.
  EXPECT_THROW(m.fit(x, y, {.epochs = 1, .batch_size = 16, .callbacks = {std::make_shared<train::LRSchedulerCallback>(cycle)},
                            .verbose = 0}),
               ValueError);
}

TEST(Callbacks, TerminateOnNaNStopsAtOnce) {
  auto [x, y] = blobs(64, 8);
  train::Model m(small_net(9));
  auto net = m.net_ptr();
  m.compile({.optimizer = std::make_shared<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0.1}),
             .loss_fn = [](const Tensor& out, const Tensor&) { return div(sum(out), 0.0); }});
  auto t = std::make_shared<train::TerminateOnNaN>();
  auto h = m.fit(x, y, {.epochs = 5, .batch_size = 8, .callbacks = {t}, .verbose = 0});
  EXPECT_TRUE(t->terminated());
  EXPECT_EQ(h.epochs(), 1u);
}

TEST(Callbacks, ReduceLROnPlateauCutsTheRate) {
  auto [x, y] = blobs(64, 10);
  auto net = small_net(11);
  train::Model m = compiled(net, 0.1);
  // min_delta huge: never improves after the first epoch, so lr drops every `patience` epochs.
  auto r = std::make_shared<train::ReduceLROnPlateau>(
      train::ReduceLROnPlateauOptions{.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 100});
  auto h = m.fit(x, y, {.epochs = 4, .callbacks = {r}, .verbose = 0});
  EXPECT_NEAR(m.optimizer().lr(0), 0.1 * 0.5 * 0.5 * 0.5, 1e-12);
  EXPECT_TRUE(h.has("lr"));
}

TEST(Model, ResumingFromStateIsExact) {
  auto [x, y] = blobs(96, 12);
  auto run = [&](int first, int second, bool resume) {
    auto net = small_net(13);
    auto opt = std::make_shared<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = 1e-2});
    train::Model m(net);
    m.compile({.optimizer = opt, .loss = "sparse_categorical_crossentropy"});
    m.fit(x, y, {.epochs = first, .batch_size = 16, .verbose = 0, .seed = 3});
    if (!resume) return net->state_dict();
    // Save, rebuild everything from scratch, load, continue.
    auto model_state = net->state_dict();
    for (auto& [k, v] : model_state) v = v.clone();
    auto opt_state = opt->state_dict();
    auto net2 = small_net(99);
    net2->load_state_dict(model_state);
    auto opt2 = std::make_shared<optim::Adam>(net2->parameters(), optim::AdamOptions{.lr = 1e-2});
    opt2->load_state_dict(opt_state);
    train::Model m2(net2);
    m2.compile({.optimizer = opt2, .loss = "sparse_categorical_crossentropy"});
    m2.fit(x, y, {.epochs = second, .batch_size = 16, .verbose = 0, .seed = 3, .initial_epoch = first});
    return net2->state_dict();
  };
  auto straight = run(4, 0, false);
  auto resumed = run(2, 2, true);
  for (auto& [k, v] : straight) EXPECT_TRUE(equal(v, resumed.at(k))) << k;
}

TEST(Model, ResumingFromACheckpointFileIsExact) {
  auto [x, y] = blobs(96, 14);
  auto make = [&](uint64_t init_seed) {
    auto net = small_net(init_seed);
    train::Model m(net);
    m.compile({.optimizer = std::make_shared<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = 1e-2}),
               .loss = "sparse_categorical_crossentropy"});
    return m;
  };
  train::Model straight = make(15);
  straight.fit(x, y, {.epochs = 4, .batch_size = 16, .verbose = 0, .seed = 5});
  auto path = (koan::testing::temp_path("koan_resume.safetensors")).string();
  {
    train::Model first = make(15);
    first.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 5});
    train::save_checkpoint(path, first, 2);
  }
  train::Model second = make(77);  // different initial weights: the checkpoint must overwrite them
  int done = train::load_checkpoint(path, second);
  EXPECT_EQ(done, 2);
  second.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 5, .initial_epoch = done});
  auto a = straight.net().state_dict(), b = second.net().state_dict();
  for (auto& [k, v] : a) EXPECT_TRUE(equal(v, b.at(k))) << k;
  std::filesystem::remove(path);
}

TEST(History, CsvRoundTripAndSvgCurves) {
  train::History h;
  h.append({{"loss", 1.0}, {"accuracy", 0.5}, {"val_loss", 1.2}});
  h.append({{"loss", 0.5}, {"accuracy", 0.8}, {"val_loss", 0.9}});
  auto path = (koan::testing::temp_path("koan_hist.csv")).string();
  h.save_csv(path);
  auto back = train::History::load_csv(path);
  EXPECT_EQ(back.epochs(), 2u);
  EXPECT_EQ(back["val_loss"][1], 0.9);
  std::string svg = h.to_svg("test");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find(">loss<"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy<"), std::string::npos);
  EXPECT_NE(svg.find("validation"), std::string::npos);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace koan
