// Callbacks: code that runs at fixed points of Model::fit, as in Keras.
//
//   model.fit(x, y, {.epochs = 50, .callbacks = {
//       std::make_shared<train::EarlyStopping>(train::EarlyStoppingOptions{.monitor = "val_loss", .patience = 3,
//                                                                        .restore_best_weights = true}),
//       std::make_shared<train::CSVLogger>("history.csv")}});
//
// A custom callback derives from Callback and overrides the hooks it needs.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "koan/nn/module.h"
#include "koan/optim/lr_scheduler.h"

namespace koan::train {

class Model;
using Logs = std::map<std::string, double>;

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Model&) {}
  virtual void on_train_end(Model&) {}
  virtual void on_epoch_begin(Model&, int /*epoch*/) {}
  // logs holds the epoch's loss and metrics, train and val_; callbacks may add keys (e.g. "lr").
  virtual void on_epoch_end(Model&, int /*epoch*/, Logs& /*logs*/) {}
  virtual void on_batch_end(Model&, int64_t /*batch*/, Logs& /*logs*/) {}
};

// "min" for losses and errors, "max" for accuracies and scores ("auto" decides from the name).
enum class Mode { Auto, Min, Max };

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;
  int patience = 0;
  Mode mode = Mode::Auto;
  bool restore_best_weights = false;
};
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions o = {}) : o_(std::move(o)) {}
  void on_train_begin(Model&) override;
  void on_epoch_end(Model& m, int epoch, Logs& logs) override;
  void on_train_end(Model& m) override;
  int stopped_epoch() const { return stopped_epoch_; }
  int best_epoch() const { return best_epoch_; }

 private:
  EarlyStoppingOptions o_;
  double best_ = 0;
  int wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
  nn::StateDict best_weights_;
};

struct ModelCheckpointOptions {
  std::string path;  // may contain {epoch}, replaced by the 1-based epoch number
  std::string monitor = "val_loss";
  bool save_best_only = false;
  Mode mode = Mode::Auto;
};
// Saves the model's weights (safetensors) after each epoch, or only when `monitor` improves.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(ModelCheckpointOptions o) : o_(std::move(o)) {}
  void on_train_begin(Model&) override;
  void on_epoch_end(Model& m, int epoch, Logs& logs) override;
  const std::string& last_saved() const { return last_saved_; }

 private:
  ModelCheckpointOptions o_;
  double best_ = 0;
  bool have_best_ = false;
  std::string last_saved_;
};

// Sets the learning rate of every parameter group at the start of each epoch: lr = f(epoch, lr).
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int epoch, double lr)> schedule)
      : schedule_(std::move(schedule)) {}
  void on_epoch_begin(Model& m, int epoch) override;
  void on_epoch_end(Model& m, int epoch, Logs& logs) override;

 private:
  std::function<double(int, double)> schedule_;
};

// Steps an optim:: schedule (OneCycleLR, CosineAnnealingLR, ...) after every batch or after every
// epoch, and logs the lr at each epoch's end.  The schedule drives the model's optimizer.
//
//   auto sched = std::make_shared<optim::OneCycleLR>(model.optimizer(), optim::OneCycleLROptions{
//       .max_lr = {3e-3}, .epochs = 5, .steps_per_epoch = 938});
//   model.fit(x, y, {.epochs = 5, .callbacks = {std::make_shared<train::LRSchedulerCallback>(sched)}});
enum class StepEvery { Batch, Epoch };
class LRSchedulerCallback : public Callback {
 public:
  explicit LRSchedulerCallback(std::shared_ptr<optim::LRScheduler> schedule, StepEvery every = StepEvery::Batch);
  void on_batch_end(Model& m, int64_t batch, Logs& logs) override;
  void on_epoch_end(Model& m, int epoch, Logs& logs) override;

 private:
  std::shared_ptr<optim::LRScheduler> schedule_;
  StepEvery every_;
  double last_used_ = 0;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  int patience = 10;
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0;
  Mode mode = Mode::Auto;
};
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions o = {}) : o_(std::move(o)) {}
  void on_train_begin(Model&) override;
  void on_epoch_end(Model& m, int epoch, Logs& logs) override;

 private:
  ReduceLROnPlateauOptions o_;
  double best_ = 0;
  bool have_best_ = false;
  int wait_ = 0, cooldown_left_ = 0;
};

// Appends one CSV row per epoch (epoch, then every log key), flushed each epoch.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string path, bool append = false) : path_(std::move(path)), append_(append) {}
  void on_train_begin(Model&) override;
  void on_epoch_end(Model& m, int epoch, Logs& logs) override;

 private:
  std::string path_;
  bool append_;
  std::vector<std::string> keys_;
  bool header_written_ = false;
};

// Stops training as soon as a batch loss is NaN or infinite.
class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(Model& m, int64_t batch, Logs& logs) override;
  bool terminated() const { return terminated_; }

 private:
  bool terminated_ = false;
};

// A callback from lambdas, for small custom behaviour.
struct LambdaCallback : Callback {
  std::function<void(Model&, int, Logs&)> epoch_end;
  std::function<void(Model&, int64_t, Logs&)> batch_end;
  void on_epoch_end(Model& m, int e, Logs& l) override {
    if (epoch_end) epoch_end(m, e, l);
  }
  void on_batch_end(Model& m, int64_t b, Logs& l) override {
    if (batch_end) batch_end(m, b, l);
  }
};

}  // namespace koan::train
