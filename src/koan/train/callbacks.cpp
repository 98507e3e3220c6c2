#include "koan/train/callbacks.h"

#include <cmath>
#include <fstream>

#include "koan/io/safetensors.h"
#include "koan/train/model.h"

namespace koan::train {
namespace {

bool is_max_mode(Mode mode, const std::string& monitor) {
  if (mode != Mode::Auto) return mode == Mode::Max;
  // Keras's rule: accuracies and AUC-like scores are maximised, everything else minimised.
  for (const char* s : {"acc", "auc", "precision", "recall", "f1"})
    if (monitor.find(s) != std::string::npos) return true;
  return false;
}

double monitored(const Logs& logs, const std::string& key, const char* who) {
  auto it = logs.find(key);
  if (it == logs.end()) {
    std::string have;
    for (auto& [k, v] : logs) have += (have.empty() ? "" : ", ") + k;
    throw ValueError(str(who, ": monitored quantity \"", key, "\" is not in the logs (available: ", have,
                         "); give validation data for val_ quantities"));
  }
  return it->second;
}

// True when `v` beats `best` by more than `delta` in the right direction.
bool improved(double v, double best, double delta, bool maximise) {
  return maximise ? v > best + delta : v < best - delta;
}

}  // namespace

void EarlyStopping::on_train_begin(Model&) {
  best_ = is_max_mode(o_.mode, o_.monitor) ? -INFINITY : INFINITY;
  wait_ = 0;
  stopped_epoch_ = best_epoch_ = -1;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Model& m, int epoch, Logs& logs) {
  double v = monitored(logs, o_.monitor, "EarlyStopping");
  bool maximise = is_max_mode(o_.mode, o_.monitor);
  if (improved(v, best_, std::fabs(o_.min_delta), maximise)) {
    best_ = v;
    best_epoch_ = epoch;
    wait_ = 0;
    if (o_.restore_best_weights) {
      best_weights_.clear();
      for (auto& [k, t] : m.net().state_dict()) best_weights_[k] = t.clone();
    }
    return;
  }
  if (++wait_ > o_.patience) {
    stopped_epoch_ = epoch;
    m.stop_training = true;
  }
}

void EarlyStopping::on_train_end(Model& m) {
  if (o_.restore_best_weights && !best_weights_.empty() && stopped_epoch_ >= 0)
    m.net().load_state_dict(best_weights_);
}

void ModelCheckpoint::on_train_begin(Model&) {
  KOAN_CHECK(!o_.path.empty(), ValueError, "ModelCheckpoint: path is empty");
  have_best_ = false;
}

void ModelCheckpoint::on_epoch_end(Model& m, int epoch, Logs& logs) {
  if (o_.save_best_only) {
    double v = monitored(logs, o_.monitor, "ModelCheckpoint");
    bool maximise = is_max_mode(o_.mode, o_.monitor);
    if (have_best_ && !improved(v, best_, 0, maximise)) return;
    best_ = v;
    have_best_ = true;
  }
  std::string path = o_.path;
  auto pos = path.find("{epoch}");
  if (pos != std::string::npos) path.replace(pos, 7, std::to_string(epoch + 1));
  std::map<std::string, Tensor> tensors;
  for (auto& [k, t] : m.net().state_dict()) tensors[k] = t;
  io::save_safetensors(path, tensors, {{"epoch", std::to_string(epoch + 1)}, {"format", "koan-weights"}});
  last_saved_ = path;
}

void LearningRateScheduler::on_epoch_begin(Model& m, int epoch) {
  auto& opt = m.optimizer();
  for (size_t g = 0; g < opt.num_param_groups(); ++g) {
    double lr = schedule_(epoch, opt.lr(g));
    KOAN_CHECK(std::isfinite(lr) && lr >= 0, ValueError, "LearningRateScheduler: schedule returned lr ", lr,
               " for epoch ", epoch);
    opt.set_lr(g, lr);
  }
}

void LearningRateScheduler::on_epoch_end(Model& m, int, Logs& logs) { logs["lr"] = m.optimizer().lr(0); }

LRSchedulerCallback::LRSchedulerCallback(std::shared_ptr<optim::LRScheduler> schedule, StepEvery every)
    : schedule_(std::move(schedule)), every_(every) {
  KOAN_CHECK(schedule_ != nullptr, ValueError, "LRSchedulerCallback: the schedule is null");
}

void LRSchedulerCallback::on_batch_end(Model& m, int64_t, Logs&) {
  KOAN_CHECK(&schedule_->optimizer() == &m.optimizer(), ValueError,
             "LRSchedulerCallback: the schedule drives another optimizer than the model's");
  last_used_ = m.optimizer().lr(0);
  if (every_ == StepEvery::Batch) schedule_->step();
}

void LRSchedulerCallback::on_epoch_end(Model& m, int, Logs& logs) {
  logs["lr"] = every_ == StepEvery::Batch ? last_used_ : m.optimizer().lr(0);  // the epoch's last batch's lr
  if (every_ == StepEvery::Epoch) schedule_->step();
}

void ReduceLROnPlateau::on_train_begin(Model&) {
  have_best_ = false;
  wait_ = cooldown_left_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(Model& m, int, Logs& logs) {
  double v = monitored(logs, o_.monitor, "ReduceLROnPlateau");
  bool maximise = is_max_mode(o_.mode, o_.monitor);
  auto& opt = m.optimizer();
  logs["lr"] = opt.lr(0);
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    wait_ = 0;
  }
  if (!have_best_ || improved(v, best_, o_.min_delta, maximise)) {
    best_ = v;
    have_best_ = true;
    wait_ = 0;
    return;
  }
  if (cooldown_left_ == 0 && ++wait_ >= o_.patience) {
    for (size_t g = 0; g < opt.num_param_groups(); ++g)
      opt.set_lr(g, std::max(opt.lr(g) * o_.factor, o_.min_lr));
    cooldown_left_ = o_.cooldown;
    wait_ = 0;
  }
}

void CSVLogger::on_train_begin(Model&) {
  keys_.clear();
  header_written_ = false;
  if (append_) {
    std::ifstream f(path_);
    std::string header;
    if (f.good() && std::getline(f, header) && !header.empty()) {
      header_written_ = true;
      size_t start = 0;
      while (start <= header.size()) {
        size_t end = header.find(',', start);
        if (end == std::string::npos) end = header.size();
        std::string k = header.substr(start, end - start);
        if (k != "epoch") keys_.push_back(k);
        start = end + 1;
      }
    }
  } else {
    std::ofstream f(path_, std::ios::trunc);
    KOAN_CHECK(f.good(), IOError, "CSVLogger: cannot write \"", path_, "\"");
  }
}

void CSVLogger::on_epoch_end(Model&, int epoch, Logs& logs) {
  if (!header_written_) {
    for (auto& [k, v] : logs) keys_.push_back(k);
  }
  std::ofstream f(path_, std::ios::app);
  KOAN_CHECK(f.good(), IOError, "CSVLogger: cannot append to \"", path_, "\"");
  if (!header_written_) {
    f << "epoch";
    for (auto& k : keys_) f << ',' << k;
    f << '\n';
    header_written_ = true;
  }
  f.precision(10);
  f << epoch + 1;
  for (auto& k : keys_) {
    auto it = logs.find(k);
    f << ',';
    if (it != logs.end()) f << it->second;
  }
  f << '\n';
}

void TerminateOnNaN::on_batch_end(Model& m, int64_t, Logs& logs) {
  auto it = logs.find("loss");
  if (it != logs.end() && !std::isfinite(it->second)) {
    terminated_ = true;
    m.stop_training = true;
  }
}

}  // namespace koan::train
