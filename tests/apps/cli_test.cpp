// End to end: the koan command line on a tiny config, and fit on a Fashion-MNIST slice.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "koan/data/datasets.h"
#include "koan/nn/activation.h"
#include "koan/nn/container.h"
#include "koan/nn/linear.h"
#include "koan/nn/pool.h"
#include "koan/optim/adam.h"
#include "koan/train/model.h"
#include "koan/train/model_file.h"
#include "support/testing.h"

#ifndef KOAN_CLI
#error "KOAN_CLI must name the koan executable"
#endif

namespace koan {
namespace {

namespace fs = std::filesystem;

int run(const std::string& cmd, std::string* out = nullptr) {
  std::string full = cmd + " > " + (koan::testing::temp_path("koan_cli_out.txt")).string() + " 2>&1";
  int rc = std::system(full.c_str());
  if (out) {
    std::ifstream f(koan::testing::temp_path("koan_cli_out.txt"));
    out->assign(std::istreambuf_iterator<char>(f), {});
  }
  return rc;
}

TEST(Cli, TrainEvaluateSummaryPlotOnATinyConfig) {
  fs::path dir = koan::testing::temp_path("koan_cli_e2e");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string cfg = (dir / "tiny.json").string();
  std::ofstream(cfg) << R"({"name": "tiny", "model": [{"type": "Flatten"}, {"type": "Linear", "in": 784, "out": 32},
    {"type": "ReLU"}, {"type": "Linear", "in": 32, "out": 10}],
    "data": {"dataset": "fashion-mnist", "root": ")" << testing::fashion_mnist_root() << R"(", "train_limit": 1000, "test_limit": 500},
    "optimizer": {"type": "adam", "lr": 0.003}, "schedule": {"type": "cosine"}, "epochs": 2, "batch_size": 50, "verbose": 2,
    "output": ")" << (dir / "run").string() << R"("})";
  std::string out;
  ASSERT_EQ(run(std::string(KOAN_CLI) + " train " + cfg, &out), 0) << out;
  EXPECT_NE(out.find("Epoch 2/2"), std::string::npos) << out;
  EXPECT_NE(out.find("test accuracy"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir / "run" / "model.koan"));
  EXPECT_TRUE(fs::exists(dir / "run" / "history.csv"));
  EXPECT_TRUE(fs::exists(dir / "run" / "curves.svg"));
  {
    std::ifstream h(dir / "run" / "history.csv");
    std::string header;
    std::getline(h, header);
    EXPECT_NE(header.find("lr"), std::string::npos) << "the schedule logs its lr: " << header;
  }

  ASSERT_EQ(run(std::string(KOAN_CLI) + " summary " + (dir / "run" / "model.koan").string(), &out), 0) << out;
  EXPECT_NE(out.find("Total params: 25450"), std::string::npos) << out;
  ASSERT_EQ(run(std::string(KOAN_CLI) + " evaluate " + (dir / "run" / "model.koan").string() + " --root " + testing::fashion_mnist_root(), &out), 0) << out;
  EXPECT_NE(out.find("on 10000 test images"), std::string::npos) << out;
  ASSERT_EQ(run(std::string(KOAN_CLI) + " predict " + (dir / "run" / "model.koan").string() + " " + testing::fashion_mnist_root() +
                    "/t10k-images-idx3-ubyte.gz --limit 3", &out), 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  ASSERT_EQ(run(std::string(KOAN_CLI) + " plot " + (dir / "run" / "history.csv").string() + " -o " + (dir / "c.svg").string(), &out), 0) << out;
  EXPECT_TRUE(fs::exists(dir / "c.svg"));

  // A bad config names the offending key.
  std::ofstream(dir / "bad.json") << R"({"model": [{"type": "Linear", "in": 4, "out": 2}], "data": {"dataset": "fashion-mnist"}, "epochz": 3})";
  EXPECT_NE(run(std::string(KOAN_CLI) + " train " + (dir / "bad.json").string(), &out), 0);
  EXPECT_NE(out.find("epochz"), std::string::npos) << out;
  std::ofstream(dir / "bad2.json") << R"({"model": [{"type": "Linear", "in": 4, "outt": 2}], "data": {"dataset": "fashion-mnist"}})";
  EXPECT_NE(run(std::string(KOAN_CLI) + " train " + (dir / "bad2.json").string(), &out), 0);
  EXPECT_NE(out.find("outt"), std::string::npos) << out;
  EXPECT_NE(run(std::string(KOAN_CLI) + " train --help", &out), 1);
  EXPECT_NE(out.find("config"), std::string::npos) << out;
  fs::remove_all(dir);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// `koan train --resume` after 1 epoch of 3 gives bitwise the model and history of 3 straight,
// learning-rate schedule included.
void resume_matches_straight(const std::string& tag, const std::string& optimizer_and_schedule) {
  fs::path dir = koan::testing::temp_path("koan_cli_resume_" + tag);
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto config = [&](const std::string& name) {
    std::string cfg = (dir / (name + ".json")).string();
    std::ofstream(cfg) << R"({"model": [{"type": "Flatten"}, {"type": "Linear", "in": 784, "out": 16},
      {"type": "ReLU"}, {"type": "Dropout", "p": 0.2}, {"type": "Linear", "in": 16, "out": 10}],
      "data": {"dataset": "fashion-mnist", "root": ")" << testing::fashion_mnist_root() << R"(", "train_limit": 600, "test_limit": 200},
      )" << optimizer_and_schedule << R"(, "epochs": 3, "batch_size": 50,
      "verbose": 0, "output": ")" << (dir / name).string() << R"("})";
    return cfg;
  };
  std::string straight = config("straight"), split = config("split"), out;
  ASSERT_EQ(run(std::string(KOAN_CLI) + " train " + straight, &out), 0) << out;
  EXPECT_NE(run(std::string(KOAN_CLI) + " train " + split + " --resume", &out), 0) << "nothing to resume yet";
  EXPECT_NE(out.find("checkpoint.safetensors"), std::string::npos) << out;
  ASSERT_EQ(run(std::string(KOAN_CLI) + " train " + split + " --epochs 1", &out), 0) << out;
  ASSERT_EQ(run(std::string(KOAN_CLI) + " train " + split + " --resume", &out), 0) << out;
  EXPECT_EQ(slurp(dir / "straight" / "model.koan"), slurp(dir / "split" / "model.koan"));
  EXPECT_EQ(slurp(dir / "straight" / "history.csv"), slurp(dir / "split" / "history.csv"));
  // Asking for fewer epochs than the checkpoint holds is refused with both numbers.
  EXPECT_NE(run(std::string(KOAN_CLI) + " train " + split + " --epochs 2 --resume", &out), 0);
  EXPECT_NE(out.find("3 epochs done"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(Cli, ResumeAfterAnInterruptionMatchesAnUninterruptedRun) {
  resume_matches_straight("cosine", R"("optimizer": {"type": "adam", "lr": 0.003}, "schedule": {"type": "cosine"})");
}

// A per-batch schedule resumes mid-cycle: the one-cycle's length is fixed by its own "epochs", so
// the run cut short by --epochs 1 follows the same lrs, and --resume steps it past the batches done.
TEST(Cli, ResumeMidOneCycleMatchesAnUninterruptedRun) {
  resume_matches_straight("one_cycle", R"("optimizer": {"type": "adamw", "lr": 0.003, "weight_decay": 0.05},
      "schedule": {"type": "one_cycle", "max_lr": 0.01, "epochs": 3, "pct_start": 0.25})");
}

TEST(Cli, ConfigErrorsNameTheScheduleAndOptimizerKeys) {
  fs::path dir = koan::testing::temp_path("koan_cli_sched_errors");
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto try_config = [&](const std::string& optimizer_and_schedule, std::string* out) {
    std::string cfg = (dir / "c.json").string();
    std::ofstream(cfg) << R"({"model": [{"type": "Flatten"}, {"type": "Linear", "in": 784, "out": 10}],
      "data": {"dataset": "fashion-mnist", "root": ")" << testing::fashion_mnist_root() << R"(", "train_limit": 100, "test_limit": 50},
      )" << optimizer_and_schedule << R"(, "epochs": 1, "batch_size": 50, "verbose": 0, "output": ")" << (dir / "run").string() << R"("})";
    return run(std::string(KOAN_CLI) + " train " + cfg, out);
  };
  std::string out;
  EXPECT_NE(try_config(R"("schedule": {"type": "one_cycle"})", &out), 0);
  EXPECT_NE(out.find("max_lr"), std::string::npos) << out;
  EXPECT_NE(try_config(R"("schedule": {"type": "one_cycle", "max_lr": 0.01, "anneal": "cosine"})", &out), 0);
  EXPECT_NE(out.find("schedule.anneal"), std::string::npos) << out;
  EXPECT_NE(try_config(R"("schedule": {"type": "one_cycle", "max_lr": 0.01, "max_lrr": 1})", &out), 0);
  EXPECT_NE(out.find("max_lrr"), std::string::npos) << out;
  EXPECT_NE(try_config(R"("schedule": {"type": "sawtooth"})", &out), 0);
  EXPECT_NE(out.find("one_cycle"), std::string::npos) << out;
  EXPECT_NE(try_config(R"("optimizer": {"type": "adam", "betas": [0.9]})", &out), 0);
  EXPECT_NE(out.find("optimizer.betas"), std::string::npos) << out;
  EXPECT_EQ(try_config(R"("optimizer": {"type": "adam", "betas": [0.8, 0.99]})", &out), 0) << out;
  // A cycle shorter than the run runs out of steps: an error, not a silent wrap.
  EXPECT_NE(try_config(R"("schedule": {"type": "one_cycle", "max_lr": 0.01, "epochs": 0})", &out), 0);
  EXPECT_NE(out.find("epochs"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(FashionMnist, FitOnTwoThousandImagesBeatsWhatABrokenModelCan) {
  auto train_set = data::fashion_mnist(testing::fashion_mnist_root(), true);
  auto test_set = data::fashion_mnist(testing::fashion_mnist_root(), false);
  Tensor x = narrow(train_set->inputs(), 0, 0, 2000), y = narrow(train_set->targets(), 0, 0, 2000);
  Tensor xt = narrow(test_set->inputs(), 0, 0, 2000), yt = narrow(test_set->targets(), 0, 0, 2000);
  manual_seed(0);
  auto net = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(nn::LinearOptions{.in = 784, .out = 128}),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(nn::LinearOptions{.in = 128, .out = 10})});
  train::Model m(net);
  m.compile({.optimizer = std::make_shared<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = 2e-3}),
             .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  m.fit(x, y, {.epochs = 8, .batch_size = 32, .verbose = 0});
  double acc = m.evaluate(xt, yt).at("accuracy");
  EXPECT_GE(acc, 0.80) << "2 000 training images should give >= 80% (chance is 10%)";
}

}  // namespace
}  // namespace koan
