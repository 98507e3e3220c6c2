// Project 3: image classification on Fashion-MNIST (docs/projects/image_classification.md).
//   scripts/get-data fashion-mnist && build/examples/koan_image_classification
// The MLP and the seed CNN of the [train] configs (short runs, as `make demo`), then the stronger
// CNN with batch norm, dropout, augmentation and a cosine schedule.  The last 5 000 training
// images are held out as a validation set (the val_* curves); the test set is scored once, at the end.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "image_classification/image_classification.h"
#include "koan/core/parallel.h"
#include "koan/tensor/random.h"

using namespace koan;
using namespace koan::examples;

namespace {
struct Named {
  std::string name, title;
  int epochs;
  ImageRun run;
};

void print_confusion(const ImageRun& r) {
  std::printf("confusion matrix (rows: true class, columns: predicted)\n");
  std::printf("| true \\ predicted |");
  for (int p = 0; p < 10; ++p) std::printf(" %s |", image_class_name(p));
  std::printf(" accuracy |\n|---|");
  for (int p = 0; p < 11; ++p) std::printf("---:|");
  std::printf("\n");
  for (int t = 0; t < 10; ++t) {
    std::printf("| %s |", image_class_name(t));
    for (int p = 0; p < 10; ++p)
      std::printf(t == p ? " **%lld** |" : " %lld |", static_cast<long long>(r.confusion[t][p]));
    std::printf(" %.1f%% |\n", 100 * r.class_accuracy[t]);
  }
}

void save_confusion(const ImageRun& r, const std::string& path) {
  std::ofstream f(path);
  f << "true\\predicted";
  for (int p = 0; p < 10; ++p) f << "," << image_class_name(p);
  f << "\n";
  for (int t = 0; t < 10; ++t) {
    f << image_class_name(t);
    for (int p = 0; p < 10; ++p) f << "," << r.confusion[t][p];
    f << "\n";
  }
}
}  // namespace

int main(int argc, char** argv) {
  std::string root = "data/fashion-mnist", out_dir = "runs/image_classification", configs = "configs";
  int threads = 1, baseline_epochs = 5;
  int64_t validation = 5000, limit_train = 0, limit_test = 0;
  bool skip_baselines = false;
  std::string padding = "valid";
  CnnBnOptions net_opts;
  TrainOptions strong{.epochs = 15, .batch_size = 128, .lr = 2e-3, .cosine = true, .augment = true, .pad = 2,
                      .normalize = true};
  CLI::App app{"Image classification on Fashion-MNIST: MLP, seed CNN, and a CNN with BN, dropout and augmentation"};
  app.add_option("--data", root, "Fashion-MNIST folder (scripts/get-data fashion-mnist)");
  app.add_option("--configs", configs, "folder of fashion_mnist_cnn.json and fashion_mnist_mlp.json");
  app.add_option("--epochs", strong.epochs, "epochs of the stronger CNN");
  app.add_option("--batch-size", strong.batch_size, "minibatch of the stronger CNN");
  app.add_option("--lr", strong.lr, "peak Adam lr of the stronger CNN (cosine to 0)");
  app.add_option("--weight-decay", strong.weight_decay, "Adam L2 term of the stronger CNN");
  app.add_option("--pad", strong.pad, "random-crop zero padding (0: no crop)");
  app.add_option("--padding", padding, "convolution padding of the stronger CNN: same or valid")
      ->check(CLI::IsMember({"same", "valid"}));
  app.add_option("--conv-dropout", net_opts.conv_dropout, "dropout after each pooling");
  app.add_option("--dense-dropout", net_opts.dense_dropout, "dropout after the dense layer");
  app.add_option("--hidden", net_opts.hidden, "units of the dense layer");
  app.add_option("--baseline-epochs", baseline_epochs, "epochs of the MLP and the seed CNN");
  app.add_flag("--skip-baselines", skip_baselines, "train only the stronger CNN");
  app.add_option("--validation", validation, "last training images held out for validation");
  app.add_option("--limit-train", limit_train, "use only the first N training images (0: all)");
  app.add_option("--limit-test", limit_test, "use only the first N test images (0: all)");
  app.add_option("--seed", strong.seed, "weights, shuffling, augmentation and dropout");
  app.add_option("--threads", threads, "threads");
  app.add_option("--out", out_dir, "folder for histories, curves and confusion matrices");
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);
  net_opts.same_padding = padding == "same";
  strong.augment = strong.pad > 0;

  try {
    ImageData d = load_images(root, validation, limit_train, limit_test);
    std::filesystem::create_directories(out_dir);
    std::printf("Fashion-MNIST: %lld train, %lld validation (the last training images), %lld test; %d thread(s)\n\n",
                static_cast<long long>(d.train.x.size(0)), static_cast<long long>(d.validation.x.size(0)),
                static_cast<long long>(d.test.x.size(0)), get_num_threads());
    std::vector<Named> runs;
    auto run = [&](const std::string& name, const std::string& title, std::shared_ptr<nn::Module> net,
                   const TrainOptions& o) {
      std::printf("== %s: %d epochs, batch %lld, Adam lr %g%s%s\n%s\n", title.c_str(), o.epochs,
                  static_cast<long long>(o.batch_size), o.lr, o.cosine ? " cosine to 0" : "",
                  o.augment ? (", crop (padding " + std::to_string(o.pad) + ") + flip").c_str() : "",
                  net->repr().c_str());
      std::fflush(stdout);
      ImageRun r = train_classifier(net, d, o);
      r.history.save_csv(out_dir + "/" + name + "_history.csv");
      r.history.plot_svg(out_dir + "/" + name + "_curves.svg", title);
      save_confusion(r, out_dir + "/" + name + "_confusion.csv");
      std::printf("%s: test accuracy %.2f%% - test loss %.4f - %lld parameters - %.1f s wall, %.1f s CPU\n", name.c_str(),
                  100 * r.test_accuracy, r.test_loss, static_cast<long long>(r.parameters), r.seconds, r.cpu_seconds);
      std::printf("per-class test accuracy:");
      for (int c = 0; c < 10; ++c) std::printf(" %s %.1f%%%s", image_class_name(c), 100 * r.class_accuracy[c], c < 9 ? "," : "\n");
      print_confusion(r);
      std::printf("\n");
      std::fflush(stdout);
      runs.push_back({name, title, o.epochs, std::move(r)});
    };

    if (!skip_baselines) {
      TrainOptions base{.epochs = baseline_epochs, .batch_size = 64, .lr = 1e-3, .seed = strong.seed};
      manual_seed(strong.seed);
      run("mlp", "MLP 784-128-10 (configs/fashion_mnist_mlp.json)", load_config_model(configs + "/fashion_mnist_mlp.json"),
          base);
      manual_seed(strong.seed);
      run("cnn", "seed CNN (configs/fashion_mnist_cnn.json)", load_config_model(configs + "/fashion_mnist_cnn.json"), base);
    }
    manual_seed(strong.seed);
    run("cnn_bn", "CNN + batch norm + dropout + augmentation", make_cnn_bn(net_opts), strong);

    std::printf("summary (test accuracy once at the end; validation = last %lld training images; %d thread(s))\n",
                static_cast<long long>(validation), get_num_threads());
    for (const Named& n : runs) {
      const auto& h = n.run.history;
      double val = h.has("val_accuracy") ? h["val_accuracy"].back() : 0;
      std::printf("  %-8s %3d epochs  test %6.2f%%  val %6.2f%%  test loss %.4f  %8.1f s wall  %8.1f s CPU\n",
                  n.name.c_str(), n.epochs, 100 * n.run.test_accuracy, 100 * val, n.run.test_loss, n.run.seconds,
                  n.run.cpu_seconds);
    }
    std::printf("histories, curves and confusion matrices: %s/\n", out_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "koan_image_classification: " << e.what() << "\n";
    return 1;
  }
}
