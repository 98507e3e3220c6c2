#include "train_config.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "koan/koan.h"
#include "koan/data/datasets.h"
#include "koan/optim/adam.h"
#include "koan/optim/sgd.h"
#include "koan/train/checkpoint.h"
#include "koan/train/model.h"
#include "koan/train/model_file.h"

namespace koan::app {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& key, const std::string& expected, const json& got) {
  throw ValueError(str("config: \"", key, "\" must be ", expected, ", got ", got.dump()));
}

template <class T>
T get(const json& j, const std::string& key, T def) {
  if (!j.contains(key)) return def;
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    if constexpr (std::is_same_v<T, std::string>) bad(key, "a string", j.at(key));
    else if constexpr (std::is_same_v<T, bool>) bad(key, "true or false", j.at(key));
    else bad(key, "a number", j.at(key));
  }
}

void check_keys(const json& j, const std::string& where, const std::set<std::string>& allowed) {
  for (auto& [k, v] : j.items())
    if (!allowed.count(k)) {
      std::string list;
      for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw ValueError(str("config: unknown key \"", where.empty() ? k : where + "." + k, "\" (expected one of: ",
                           list, ")"));
    }
}

std::shared_ptr<optim::Optimizer> make_optimizer(const json& o, const std::vector<Tensor>& params) {
  if (!o.is_object()) bad("optimizer", "an object like {\"type\": \"adam\", \"lr\": 0.001}", o);
  std::string type = get<std::string>(o, "type", "adam");
  if (type == "adam" || type == "adamw") {
    check_keys(o, "optimizer", {"type", "lr", "weight_decay", "eps", "betas"});
    std::pair<double, double> betas{0.9, 0.999};
    if (o.contains("betas")) {
      auto b = o["betas"];
      if (!b.is_array() || b.size() != 2 || !b[0].is_number() || !b[1].is_number())
        bad("optimizer.betas", "two numbers like [0.9, 0.999]", b);
      betas = {b[0].get<double>(), b[1].get<double>()};
    }
    const double lr = get<double>(o, "lr", 1e-3), eps = get<double>(o, "eps", 1e-8);
    // AdamW decays the weights directly (decoupled, default 0.01); Adam adds an L2 term to the gradient.
    if (type == "adamw")
      return std::make_shared<optim::AdamW>(params, optim::AdamWOptions{.lr = lr, .betas = betas, .eps = eps,
                                                                       .weight_decay = get<double>(o, "weight_decay", 1e-2)});
    return std::make_shared<optim::Adam>(params, optim::AdamOptions{.lr = lr, .betas = betas, .eps = eps,
                                                                    .weight_decay = get<double>(o, "weight_decay", 0)});
  }
  if (type == "sgd") {
    check_keys(o, "optimizer", {"type", "lr", "momentum", "nesterov", "weight_decay"});
    optim::SGDOptions s{.lr = get<double>(o, "lr", 0.01), .momentum = get<double>(o, "momentum", 0),
                        .weight_decay = get<double>(o, "weight_decay", 0), .nesterov = get<bool>(o, "nesterov", false)};
    return std::make_shared<optim::SGD>(params, s);
  }
  bad("optimizer.type", "\"adam\", \"adamw\" or \"sgd\"", o["type"]);
}

std::vector<std::shared_ptr<train::Callback>> make_callbacks(const json& list, const std::string& out_dir) {
  std::vector<std::shared_ptr<train::Callback>> cbs;
  if (!list.is_array()) bad("callbacks", "an array", list);
  for (auto& c : list) {
    std::string type = get<std::string>(c, "type", "");
    if (type == "early_stopping") {
      check_keys(c, "callbacks[early_stopping]", {"type", "monitor", "patience", "min_delta", "restore_best_weights"});
      cbs.push_back(std::make_shared<train::EarlyStopping>(train::EarlyStoppingOptions{
          .monitor = get<std::string>(c, "monitor", "val_loss"), .min_delta = get<double>(c, "min_delta", 0),
          .patience = get<int>(c, "patience", 0), .restore_best_weights = get<bool>(c, "restore_best_weights", false)}));
    } else if (type == "model_checkpoint") {
      check_keys(c, "callbacks[model_checkpoint]", {"type", "monitor", "save_best_only", "path"});
      cbs.push_back(std::make_shared<train::ModelCheckpoint>(train::ModelCheckpointOptions{
          .path = out_dir + "/" + get<std::string>(c, "path", "weights-{epoch}.safetensors"),
          .monitor = get<std::string>(c, "monitor", "val_loss"), .save_best_only = get<bool>(c, "save_best_only", false)}));
    } else if (type == "reduce_lr_on_plateau") {
      check_keys(c, "callbacks[reduce_lr_on_plateau]", {"type", "monitor", "factor", "patience", "min_lr"});
      cbs.push_back(std::make_shared<train::ReduceLROnPlateau>(train::ReduceLROnPlateauOptions{
          .monitor = get<std::string>(c, "monitor", "val_loss"), .factor = get<double>(c, "factor", 0.1),
          .patience = get<int>(c, "patience", 10), .min_lr = get<double>(c, "min_lr", 0)}));
    } else if (type == "terminate_on_nan") {
      cbs.push_back(std::make_shared<train::TerminateOnNaN>());
    } else if (type == "csv_logger") {
      cbs.push_back(std::make_shared<train::CSVLogger>(out_dir + "/" + get<std::string>(c, "path", "log.csv")));
    } else {
      bad("callbacks[].type",
          "one of early_stopping, model_checkpoint, reduce_lr_on_plateau, terminate_on_nan, csv_logger", c.value("type", json()));
    }
  }
  return cbs;
}

std::pair<Tensor, Tensor> load_split(const json& d, bool train_split) {
  std::string name = get<std::string>(d, "dataset", "");
  if (name == "fashion-mnist" || name == "mnist") {
    std::string root = get<std::string>(d, "root", "data/" + name);
    auto ds = name == "fashion-mnist" ? data::fashion_mnist(root, train_split) : data::mnist(root, train_split);
    Tensor x = ds->inputs(), y = ds->targets();
    int64_t limit = get<int64_t>(d, train_split ? "train_limit" : "test_limit", 0);
    if (limit > 0 && limit < x.size(0)) {
      x = narrow(x, 0, 0, limit);
      y = narrow(y, 0, 0, limit);
    }
    return {x, y};
  }
  bad("data.dataset", "\"fashion-mnist\" or \"mnist\"", d.value("dataset", json()));
}

// {"type": "one_cycle", "max_lr": ...}: optim::OneCycleLR over the run's epochs (or the schedule's
// own "epochs"), stepped after every batch.  A resumed run steps it through the batches its
// checkpoint already trained.
std::shared_ptr<train::Callback> make_one_cycle(const json& s, optim::Optimizer& opt, int epochs,
                                                int64_t steps_per_epoch, int done) {
  check_keys(s, "schedule", {"type", "max_lr", "epochs", "pct_start", "anneal", "div_factor", "final_div_factor",
                             "cycle_momentum", "base_momentum", "max_momentum", "three_phase"});
  // The cycle's length: the config's epochs unless given (a run cut short by --epochs keeps it).
  epochs = get<int>(s, "epochs", epochs);
  if (!s.contains("max_lr")) throw ValueError("config: schedule \"one_cycle\" needs \"max_lr\" (the peak lr)");
  std::string anneal = get<std::string>(s, "anneal", "cos");
  if (anneal != "cos" && anneal != "linear") bad("schedule.anneal", "\"cos\" or \"linear\"", s["anneal"]);
  auto sched = std::make_shared<optim::OneCycleLR>(
      opt, optim::OneCycleLROptions{
               .max_lr = {get<double>(s, "max_lr", 0)},
               .epochs = epochs,
               .steps_per_epoch = steps_per_epoch,
               .pct_start = get<double>(s, "pct_start", 0.3),
               .anneal_strategy = anneal == "cos" ? optim::Anneal::Cos : optim::Anneal::Linear,
               .cycle_momentum = get<bool>(s, "cycle_momentum", true),
               .base_momentum = get<double>(s, "base_momentum", 0.85),
               .max_momentum = get<double>(s, "max_momentum", 0.95),
               .div_factor = get<double>(s, "div_factor", 25),
               .final_div_factor = get<double>(s, "final_div_factor", 1e4),
               .three_phase = get<bool>(s, "three_phase", false)});
  for (int64_t i = 0; i < static_cast<int64_t>(done) * steps_per_epoch; ++i) sched->step();
  return std::make_shared<train::LRSchedulerCallback>(sched);
}

// A per-epoch learning-rate schedule from {"type": "cosine" | "step" | "exponential", ...}.
std::shared_ptr<train::Callback> make_schedule(const json& s, double lr0, int epochs) {
  std::string type = get<std::string>(s, "type", "");
  if (type == "cosine") {
    check_keys(s, "schedule", {"type", "t_max", "eta_min"});
    int t_max = get<int>(s, "t_max", epochs);
    double eta_min = get<double>(s, "eta_min", 0);
    if (t_max <= 0) bad("schedule.t_max", "a positive integer", s["t_max"]);
    return std::make_shared<train::LearningRateScheduler>([=](int e, double) {
      return eta_min + (lr0 - eta_min) * (1 + std::cos(M_PI * std::min(e, t_max) / t_max)) / 2;
    });
  }
  if (type == "step") {
    check_keys(s, "schedule", {"type", "step_size", "gamma"});
    int step = get<int>(s, "step_size", 1);
    double gamma = get<double>(s, "gamma", 0.1);
    if (step <= 0) bad("schedule.step_size", "a positive integer", s["step_size"]);
    return std::make_shared<train::LearningRateScheduler>(
        [=](int e, double) { return lr0 * std::pow(gamma, e / step); });
  }
  if (type == "exponential") {
    check_keys(s, "schedule", {"type", "gamma"});
    double gamma = get<double>(s, "gamma", 0.9);
    return std::make_shared<train::LearningRateScheduler>([=](int e, double) { return lr0 * std::pow(gamma, e); });
  }
  bad("schedule.type", "\"cosine\", \"step\", \"exponential\" or \"one_cycle\"", s.value("type", json()));
}

// Writes the checkpoint (model, optimizer, RNG, epochs done) after every epoch, so that
// `koan train CONFIG --resume` can pick a stopped run up exactly where it ended.
class EpochCheckpoint : public train::Callback {
 public:
  explicit EpochCheckpoint(std::string path) : path_(std::move(path)) {}
  void on_epoch_end(train::Model& m, int epoch, train::Logs&) override { train::save_checkpoint(path_, m, epoch + 1); }

 private:
  std::string path_;
};

// Appends the first n epochs of `from` to `to`.
void append_rows(train::History& to, const train::History& from, size_t n) {
  for (size_t e = 0; e < std::min(n, from.epochs()); ++e) {
    std::map<std::string, double> row;
    for (const auto& k : from.keys()) row[k] = from[k][e];
    to.append(row);
  }
}

// The first `epochs` rows of an earlier run's history (the rest were never checkpointed).
train::History history_prefix(const std::string& csv, int epochs) {
  train::History out;
  if (epochs > 0 && std::filesystem::exists(csv)) append_rows(out, train::History::load_csv(csv), epochs);
  return out;
}

}  // namespace

TrainResult run_train(const std::string& path, const json& overrides, bool resume) {
  std::ifstream f(path);
  KOAN_CHECK(f.good(), IOError, "koan train: cannot open config \"", path, "\"");
  json cfg;
  try {
    cfg = json::parse(f);
  } catch (const json::exception& e) {
    throw ValueError(str("config: \"", path, "\" is not valid JSON: ", e.what()));
  }
  if (!cfg.is_object()) bad("(top level)", "an object", cfg);
  for (auto& [k, v] : overrides.items()) cfg[k] = v;
  check_keys(cfg, "", {"name", "model", "data", "optimizer", "schedule", "loss", "metrics", "epochs", "batch_size",
                       "seed", "validation_split", "callbacks", "output", "threads", "verbose"});
  if (!cfg.contains("model")) throw ValueError("config: missing \"model\" (an array of layers)");
  if (!cfg.contains("data")) throw ValueError("config: missing \"data\" ({\"dataset\": \"fashion-mnist\"})");
  const json& d = cfg["data"];
  if (!d.is_object()) bad("data", "an object", d);
  check_keys(d, "data", {"dataset", "root", "train_limit", "test_limit"});

  std::string name = get<std::string>(cfg, "name", std::filesystem::path(path).stem().string());
  std::string out_dir = get<std::string>(cfg, "output", "runs/" + name);
  std::filesystem::create_directories(out_dir);
  if (cfg.contains("threads")) set_num_threads(get<int>(cfg, "threads", 0));
  manual_seed(get<uint64_t>(cfg, "seed", 0));

  auto net = train::build_sequential(cfg["model"]);
  auto [x, y] = load_split(d, true);
  auto [xt, yt] = load_split(d, false);

  train::Model model(net);
  model.compile({.optimizer = make_optimizer(cfg.value("optimizer", json::object()), net->parameters()),
                 .loss = get<std::string>(cfg, "loss", "sparse_categorical_crossentropy"),
                 .metrics = cfg.value("metrics", std::vector<std::string>{"accuracy"})});
  const double lr0 = model.optimizer().lr(0);  // the schedules' base (a checkpoint holds a scheduled lr)
  int verbose = get<int>(cfg, "verbose", 1);
  if (verbose) std::cout << net->summary({1, x.size(1), x.size(2), x.size(3)}) << "\n";

  const std::string ckpt = out_dir + "/checkpoint.safetensors";
  const int epochs = get<int>(cfg, "epochs", 5);
  int done = 0;
  if (resume) {
    KOAN_CHECK(std::filesystem::exists(ckpt), IOError, "koan train --resume: no checkpoint \"", ckpt,
               "\" (a run writes it after each epoch)");
    done = train::load_checkpoint(ckpt, model);
    KOAN_CHECK(done <= epochs, ValueError, "koan train --resume: \"", ckpt, "\" has ", done,
               " epochs done but the config asks for ", epochs, "; raise --epochs to train further");
    if (verbose) std::cout << "Resuming from " << ckpt << " after epoch " << done << "\n";
  }

  auto t0 = std::chrono::steady_clock::now();
  train::FitOptions fo{.epochs = epochs - done, .batch_size = get<int64_t>(cfg, "batch_size", 64),
                       .validation_split = get<double>(cfg, "validation_split", 0),
                       .callbacks = make_callbacks(cfg.value("callbacks", json::array()), out_dir),
                       .verbose = verbose, .seed = get<uint64_t>(cfg, "seed", 0), .initial_epoch = done};
  fo.callbacks.push_back(std::make_shared<EpochCheckpoint>(ckpt));
  if (cfg.contains("schedule")) {
    const json& s = cfg["schedule"];
    if (!s.is_object()) bad("schedule", "an object like {\"type\": \"cosine\"}", s);
    if (get<std::string>(s, "type", "") == "one_cycle") {
      // fit's batches per epoch: the samples left after the validation split, in batches (fit
      // itself refuses a batch size below 1).
      const int64_t n = x.size(0) - static_cast<int64_t>(std::floor(x.size(0) * fo.validation_split));
      const int64_t bs = std::max<int64_t>(fo.batch_size, 1);
      fo.callbacks.push_back(make_one_cycle(s, model.optimizer(), epochs, (n + bs - 1) / bs, done));
    } else {
      fo.callbacks.push_back(make_schedule(s, lr0, epochs));
    }
  }
  if (fo.validation_split == 0) fo.validation_data = std::make_pair(xt, yt);  // Keras tutorial style
  auto history = history_prefix(out_dir + "/history.csv", done);
  append_rows(history, model.fit(x, y, fo), fo.epochs);
  TrainResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto scores = model.evaluate(xt, yt);
  r.test_loss = scores.at("loss");
  r.test_accuracy = scores.count("accuracy") ? scores.at("accuracy") : NAN;
  r.model_path = out_dir + "/model.koan";
  r.history_path = out_dir + "/history.csv";
  r.curves_path = out_dir + "/curves.svg";
  r.checkpoint_path = ckpt;
  train::save_model(r.model_path, *net, cfg["model"]);
  history.save_csv(r.history_path);
  history.plot_svg(r.curves_path, name);
  return r;
}

}  // namespace koan::app
