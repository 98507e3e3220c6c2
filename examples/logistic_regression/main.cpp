// Project 2: logistic and softmax regression on Fashion-MNIST (docs/projects/logistic_regression.md).
//   scripts/get-data fashion-mnist && build/examples/koan_logistic_regression
// Binary logistic regression on two classes (default T-shirt/top vs Shirt), then softmax regression
// on all ten classes with SGD and with Adam; the references are 83.4% and 84.4%.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "koan/core/parallel.h"
#include "logistic_regression/logistic_regression.h"

using namespace koan;
using namespace koan::examples;

int main(int argc, char** argv) {
  std::string root = "data/fashion-mnist", out_dir = "runs/logistic_regression";
  RunOptions base;
  double lr_sgd = 0.1, lr_adam = 1e-3;
  std::vector<int64_t> pair = {0, 6};
  int threads = 1;
  CLI::App app{"Logistic regression (two classes) and softmax regression (ten) on Fashion-MNIST"};
  app.add_option("--data", root, "Fashion-MNIST folder (scripts/get-data fashion-mnist)");
  app.add_option("--epochs", base.epochs, "epochs per run");
  app.add_option("--batch-size", base.batch_size, "minibatch size");
  app.add_option("--lr-sgd", lr_sgd, "SGD learning rate");
  app.add_option("--lr-adam", lr_adam, "Adam learning rate");
  app.add_option("--classes", pair, "the binary problem's negative and positive class")->expected(2);
  app.add_option("--seed", base.seed, "initial weights and shuffling");
  app.add_option("--threads", threads, "threads");
  app.add_option("--out", out_dir, "folder for the histories and curves");
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  try {
    FashionData all = load_fashion(root);
    FashionData two = two_classes(all, pair[0], pair[1]);
    std::filesystem::create_directories(out_dir);
    struct Run {
      std::string name, title;
      const FashionData* data;
      int64_t classes;
      std::string optimizer;
      double lr;
    };
    const std::string pair_name = std::string(fashion_class_name(pair[0])) + " vs " + fashion_class_name(pair[1]);
    std::vector<Run> runs = {
        {"binary_sgd", "binary logistic regression, " + pair_name + ", SGD", &two, 2, "sgd", lr_sgd},
        {"binary_adam", "binary logistic regression, " + pair_name + ", Adam", &two, 2, "adam", lr_adam},
        {"softmax_sgd", "softmax regression, 10 classes, SGD", &all, 10, "sgd", lr_sgd},
        {"softmax_adam", "softmax regression, 10 classes, Adam", &all, 10, "adam", lr_adam},
    };
    std::vector<RunResult> results;
    for (const Run& run : runs) {
      std::printf("== %s (lr %g, batch %lld, %d epochs; %lld train / %lld test images)\n", run.title.c_str(), run.lr,
                  (long long)base.batch_size, base.epochs, (long long)run.data->train.x.size(0),
                  (long long)run.data->test.x.size(0));
      std::fflush(stdout);
      RunOptions o = base;
      o.classes = run.classes;
      o.optimizer = run.optimizer;
      o.lr = run.lr;
      RunResult r = train_linear_classifier(run.data->train, run.data->test, o);
      r.history.save_csv(out_dir + "/" + run.name + "_history.csv");
      r.history.plot_svg(out_dir + "/" + run.name + "_curves.svg", run.title);
      std::printf("test accuracy %.2f%% - test loss %.4f (%.1f s)\n\n", 100 * r.test_accuracy, r.test_loss, r.seconds);
      results.push_back(r);
    }
    std::printf("summary (test accuracy after %d epochs, %d thread(s))\n", base.epochs, get_num_threads());
    const char* refs[] = {"", "", "reference 83.4%", "reference 84.4%"};
    for (size_t i = 0; i < runs.size(); ++i)
      std::printf("  %-58s %6.2f%%  %-16s %5.1f s\n", runs[i].title.c_str(), 100 * results[i].test_accuracy, refs[i],
                  results[i].seconds);
    std::printf("histories and curves: %s/\n", out_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "koan_logistic_regression: " << e.what() << "\n";
    return 1;
  }
}
