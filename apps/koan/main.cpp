// The koan command line: the only place in the project with main(), argv and exit codes.
//
//   koan train configs/fashion_mnist_cnn.json
//   koan train configs/fashion_mnist_cnn.json --resume      (after an interruption)
//   koan evaluate runs/fashion_mnist_cnn/model.koan --data fashion-mnist
//   koan predict runs/fashion_mnist_cnn/model.koan images.idx.gz
//   koan predict runs/sentiment/bilstm.koan sentences.txt      # or a TSV with a "sentence" column
//   koan summary configs/fashion_mnist_cnn.json
//   koan plot runs/fashion_mnist_cnn/history.csv
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "koan/data/datasets.h"
#include "koan/data/idx.h"
#include "koan/koan.h"
#include "koan/train/history.h"
#include "koan/train/model.h"
#include "koan/train/model_file.h"
#include "predict_text.h"
#include "train_config.h"

using namespace koan;
using json = nlohmann::json;

namespace {

json read_json(const std::string& path) {
  std::ifstream f(path);
  KOAN_CHECK(f.good(), IOError, "cannot open \"", path, "\"");
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    throw ValueError(str("\"", path, "\" is not valid JSON: ", e.what()));
  }
}

int cmd_train(const std::string& config, int epochs, int threads, bool resume) {
  json overrides = json::object();
  if (epochs > 0) overrides["epochs"] = epochs;
  if (threads > 0) overrides["threads"] = threads;
  auto r = app::run_train(config, overrides, resume);
  std::printf("\ntest loss %.4f - test accuracy %.4f (%.1f s of training)\n", r.test_loss, r.test_accuracy, r.seconds);
  std::printf("model:      %s\nhistory:    %s\ncurves:     %s\ncheckpoint: %s (koan train ... --resume)\n",
              r.model_path.c_str(), r.history_path.c_str(), r.curves_path.c_str(), r.checkpoint_path.c_str());
  return 0;
}

int cmd_evaluate(const std::string& model_path, const std::string& dataset, const std::string& root) {
  auto net = train::load_model(model_path);
  auto ds = dataset == "mnist" ? data::mnist(root.empty() ? "data/mnist" : root, false)
                               : data::fashion_mnist(root.empty() ? "data/fashion-mnist" : root, false);
  train::Model m(net);
  m.compile({.optimizer = std::make_shared<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0}),
             .loss = "sparse_categorical_crossentropy",
             .metrics = {"accuracy"}});
  auto scores = m.evaluate(ds->inputs(), ds->targets());
  std::printf("loss %.4f - accuracy %.4f on %lld test images\n", scores.at("loss"), scores.at("accuracy"),
              static_cast<long long>(ds->size()));
  return 0;
}

int cmd_predict(const std::string& model_path, const std::string& input, int64_t limit) {
  // Text classifiers (examples/sentiment) read sentences: a TSV or plain-text file.
  if (app::is_text_model(train::model_architecture(model_path))) return app::predict_text(model_path, input, limit);
  auto net = train::load_model(model_path);
  // Inputs: an IDX image file (as the datasets ship) or a safetensors file with an "input" tensor.
  Tensor x;
  if (input.size() > 12 && input.substr(input.size() - 12) == ".safetensors") {
    auto f = io::load_safetensors(input);
    KOAN_CHECK(f.tensors.count("input"), ValueError, "predict: \"", input, "\" has no tensor named \"input\"");
    x = f.tensors.at("input");
  } else {
    Tensor raw = data::read_idx(input);
    KOAN_CHECK(raw.dim() == 3, ShapeError, "predict: expected IDX images (N, H, W), got shape ", raw.shape());
    x = div(to(raw.unsqueeze(1), DType::Float32), 255.0);
  }
  if (limit > 0 && limit < x.size(0)) x = narrow(x, 0, 0, limit);
  train::Model m(net);
  Tensor probs = softmax(m.predict(x), 1);
  auto [p, cls] = max(probs, 1);
  for (int64_t i = 0; i < x.size(0); ++i)
    std::printf("%lld\t%lld\t%.4f\n", static_cast<long long>(i), static_cast<long long>(cls.at<int64_t>({i})),
                p.at<float>({i}));
  return 0;
}

int cmd_summary(const std::string& path, const std::vector<int64_t>& shape) {
  std::shared_ptr<nn::Module> net;
  if (path.size() > 5 && path.substr(path.size() - 5) == ".json") {
    json cfg = read_json(path);
    net = train::build_sequential(cfg.contains("model") ? cfg["model"] : cfg);
  } else {
    net = train::load_model(path);
  }
  std::cout << net->summary(shape);
  return 0;
}

int cmd_plot(const std::string& history, const std::string& out) {
  auto h = train::History::load_csv(history);
  std::string target = out.empty() ? std::filesystem::path(history).replace_extension(".svg").string() : out;
  h.plot_svg(target, std::filesystem::path(history).parent_path().filename().string());
  std::printf("curves: %s\n", target.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"koan: train, evaluate and ship models from the command line"};
  app.require_subcommand(1);

  std::string config, model_path, dataset = "fashion-mnist", root, input, history, out;
  int epochs = 0, threads = 0;
  bool resume = false;
  int64_t limit = 0;
  std::vector<int64_t> shape{1, 1, 28, 28};

  auto* train = app.add_subcommand("train", "Train a model described by a JSON config");
  train->add_option("config", config, "JSON config (model, data, optimizer, epochs, callbacks)")->required();
  train->add_option("--epochs", epochs, "Override the config's epochs");
  train->add_option("--threads", threads, "Worker threads (default: all cores)");
  train->add_flag("--resume", resume, "Continue from the output folder's checkpoint.safetensors");

  auto* evaluate = app.add_subcommand("evaluate", "Loss and accuracy of a saved model on a test set");
  evaluate->add_option("model", model_path, "Model file written by koan train")->required();
  evaluate->add_option("--data", dataset, "fashion-mnist or mnist")->check(CLI::IsMember({"fashion-mnist", "mnist"}));
  evaluate->add_option("--root", root, "Dataset folder (default data/<dataset>)");

  auto* predict = app.add_subcommand("predict", "Class and probability for each input");
  predict->add_option("model", model_path, "Model file written by koan train")->required();
  predict->add_option("input", input,
                      "IDX images (.gz or raw), a safetensors file with \"input\", or for a text model "
                      "a TSV (\"sentence\" column) or plain-text file of sentences")
      ->required();
  predict->add_option("--limit", limit, "Only the first N inputs");

  auto* summary = app.add_subcommand("summary", "Layer table of a model file or config");
  summary->add_option("model", model_path, "Model file or JSON config")->required();
  summary->add_option("--input-shape", shape, "Input shape including the batch dim")->expected(1, 8);

  auto* plot = app.add_subcommand("plot", "Draw learning curves (SVG) from a history CSV");
  plot->add_option("history", history, "history.csv written by koan train")->required();
  plot->add_option("-o,--output", out, "Output SVG (default: next to the CSV)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*train) return cmd_train(config, epochs, threads, resume);
    if (*evaluate) return cmd_evaluate(model_path, dataset, root);
    if (*predict) return cmd_predict(model_path, input, limit);
    if (*summary) return cmd_summary(model_path, shape);
    if (*plot) return cmd_plot(history, out);
  } catch (const koan::Error& e) {
    std::cerr << "koan: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "koan: unexpected error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
