// Keras-style training around any nn::Module.
//
//   auto net = std::make_shared<nn::Sequential>(...);
//   train::Model model(net);
//   model.compile({.optimizer = std::make_shared<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = 1e-3}),
//                  .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
//   train::History h = model.fit(x_train, y_train, {.epochs = 5, .batch_size = 64, .validation_split = 0.1});
//   auto scores = model.evaluate(x_test, y_test);     // {"loss": ..., "accuracy": ...}
//   Tensor probs = model.predict(x_test);
//
// fit() is a convenience over the loop you would write by hand (docs/training.md shows both):
// for each batch: forward, loss, backward, optional clipping, optimizer step, metrics.
#pragma once
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "koan/nn/module.h"
#include "koan/optim/optimizer.h"
#include "koan/train/callbacks.h"
#include "koan/train/history.h"
#include "koan/train/metrics.h"

namespace koan::data {
class DataLoader;
}

namespace koan::train {

using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

// Keras loss names: "sparse_categorical_crossentropy" (logits + class indices),
// "categorical_crossentropy" (logits + one-hot/probabilities), "binary_crossentropy" (logits +
// 0/1 targets), "mse"/"mean_squared_error", "mae"/"mean_absolute_error", "huber".
LossFn loss_by_name(const std::string& name);
// Keras metric names: "accuracy" (chosen from the loss: sparse, categorical or binary; with
// binary_crossentropy the outputs are logits, so binary accuracy thresholds them at 0),
// "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy", "top_k_accuracy"
// (k = 5), "precision", "recall", "f1", "mae", "mse", "rmse", "auc".
std::unique_ptr<Metric> metric_by_name(const std::string& name, const std::string& loss_name,
                                       int64_t num_classes = 0);

struct CompileOptions {
  std::shared_ptr<optim::Optimizer> optimizer;
  std::string loss;             // a Keras name (see loss_by_name) ...
  LossFn loss_fn;               // ... or any function (takes precedence)
  std::vector<std::string> metrics;
  double clip_grad_norm = 0;    // > 0: clip the global gradient norm before each step
  double clip_grad_value = 0;   // > 0: clip each gradient element to [-v, v]
};

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  // Either explicit validation tensors, or the last fraction of the training data (Keras's
  // rule: taken before shuffling).
  std::optional<std::pair<Tensor, Tensor>> validation_data;
  double validation_split = 0;
  std::vector<std::shared_ptr<Callback>> callbacks;
  int verbose = 1;              // 0 silent, 1 progress bar, 2 one line per epoch
  bool shuffle = true;
  uint64_t seed = 0;            // shuffling order
  int initial_epoch = 0;        // resume: epochs are numbered from here
  std::ostream* out = nullptr;  // progress output (default std::cout)
};

class Model {
 public:
  explicit Model(std::shared_ptr<nn::Module> net);
  void compile(CompileOptions o);

  History fit(const Tensor& x, const Tensor& y, FitOptions o = {});
  // Training from loaders (the loader decides batching and shuffling).
  History fit(data::DataLoader& train, FitOptions o = {}, data::DataLoader* validation = nullptr);
  // Loss and metrics over the data, in eval mode without a graph.
  Logs evaluate(const Tensor& x, const Tensor& y, int64_t batch_size = 256);
  Logs evaluate(data::DataLoader& data);
  // The network's outputs, in eval mode without a graph, batch by batch.
  Tensor predict(const Tensor& x, int64_t batch_size = 256);

  nn::Module& net() { return *net_; }
  std::shared_ptr<nn::Module> net_ptr() const { return net_; }
  optim::Optimizer& optimizer();
  const CompileOptions& compiled() const { return compile_; }
  // Set by callbacks (EarlyStopping, TerminateOnNaN) to end fit after the current epoch/batch.
  bool stop_training = false;

 private:
  // One training step on a batch; returns the batch loss.
  double train_step(const Tensor& x, const Tensor& y);
  void update_metrics(const Tensor& out, const Tensor& y);
  Logs metric_logs(const std::string& prefix) const;
  void reset_metrics();
  // Loss and metrics over the batches next_batch yields, in eval mode without a graph.
  Logs run_evaluate(const std::function<bool(Tensor& x, Tensor& y)>& next_batch);
  using BatchFn = std::function<bool(int64_t index, Tensor& x, Tensor& y)>;
  History run_fit(int64_t num_batches, const BatchFn& next_batch, const std::function<void(int)>& start_epoch,
                  const std::function<Logs()>& validate, FitOptions& o);

  std::shared_ptr<nn::Module> net_;
  CompileOptions compile_;
  LossFn loss_;
  std::vector<std::unique_ptr<Metric>> metrics_;
  bool compiled_ = false;
};

}  // namespace koan::train
