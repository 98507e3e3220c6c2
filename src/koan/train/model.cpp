#include "koan/train/model.h"

#include <cmath>

#include "koan/autograd/grad_mode.h"
#include "koan/data/loader.h"
#include "koan/ops/index.h"
#include "koan/ops/join.h"
#include "koan/ops/loss.h"
#include "koan/ops/shape.h"
#include "koan/optim/clip_grad.h"
#include "koan/tensor/creation.h"
#include "koan/train/progress.h"

namespace koan::train {

LossFn loss_by_name(const std::string& name) {
  if (name == "sparse_categorical_crossentropy")
    return [](const Tensor& out, const Tensor& y) { return cross_entropy(out, y); };
  if (name == "categorical_crossentropy")
    return [](const Tensor& out, const Tensor& y) { return cross_entropy(out, to(y, out.dtype())); };
  if (name == "binary_crossentropy")
    return [](const Tensor& out, const Tensor& y) {
      return binary_cross_entropy_with_logits(out, reshape(to(y, out.dtype()), out.shape()));
    };
  if (name == "mse" || name == "mean_squared_error")
    return [](const Tensor& out, const Tensor& y) { return mse_loss(out, reshape(to(y, out.dtype()), out.shape())); };
  if (name == "mae" || name == "mean_absolute_error")
    return [](const Tensor& out, const Tensor& y) { return l1_loss(out, reshape(to(y, out.dtype()), out.shape())); };
  if (name == "huber")
    return [](const Tensor& out, const Tensor& y) { return huber_loss(out, reshape(to(y, out.dtype()), out.shape())); };
  throw ValueError(str("compile: unknown loss \"", name, "\" (known: sparse_categorical_crossentropy, ",
                       "categorical_crossentropy, binary_crossentropy, mse, mae, huber)"));
}

std::unique_ptr<Metric> metric_by_name(const std::string& name, const std::string& loss_name, int64_t num_classes) {
  // binary_crossentropy takes logits, so a positive prediction is a logit above 0 (probability
  // above 0.5); a 0.5 threshold on the logit would call logits in (0, 0.5] negative.
  const bool logits = loss_name == "binary_crossentropy";
  if (name == "accuracy" || name == "acc") {
    if (logits) return std::make_unique<BinaryAccuracy>(BinaryAccuracyOptions{.threshold = 0});
    if (loss_name == "categorical_crossentropy") return std::make_unique<CategoricalAccuracy>();
    return std::make_unique<SparseCategoricalAccuracy>();
  }
  if (name == "sparse_categorical_accuracy")
    return std::make_unique<SparseCategoricalAccuracy>(AccuracyOptions{.name = name});
  if (name == "categorical_accuracy") return std::make_unique<CategoricalAccuracy>(AccuracyOptions{.name = name});
  if (name == "binary_accuracy")
    return std::make_unique<BinaryAccuracy>(BinaryAccuracyOptions{.threshold = logits ? 0.0 : 0.5, .name = name});
  if (name == "top_k_accuracy") return std::make_unique<TopKAccuracy>(TopKAccuracyOptions{.k = 5, .name = name});
  int64_t nc = num_classes > 0 ? num_classes : 2;
  Average avg = nc > 2 ? Average::Macro : Average::Binary;
  if (name == "precision") return std::make_unique<Precision>(ClassMetricOptions{.num_classes = nc, .average = avg});
  if (name == "recall") return std::make_unique<Recall>(ClassMetricOptions{.num_classes = nc, .average = avg});
  if (name == "f1" || name == "f1_score")
    return std::make_unique<F1Score>(ClassMetricOptions{.num_classes = nc, .average = avg, .name = name});
  if (name == "mae") return std::make_unique<MeanAbsoluteError>();
  if (name == "mse") return std::make_unique<MeanSquaredError>();
  if (name == "rmse") return std::make_unique<RootMeanSquaredError>();
  if (name == "auc") return std::make_unique<AUC>();
  throw ValueError(str("compile: unknown metric \"", name, "\" (known: accuracy, sparse_categorical_accuracy, ",
                       "categorical_accuracy, binary_accuracy, top_k_accuracy, precision, recall, f1, mae, mse, ",
                       "rmse, auc)"));
}

Model::Model(std::shared_ptr<nn::Module> net) : net_(std::move(net)) {
  KOAN_CHECK(net_ != nullptr, ValueError, "Model: the network is null");
}

void Model::compile(CompileOptions o) {
  KOAN_CHECK(o.optimizer != nullptr, ValueError, "compile: an optimizer is required");
  KOAN_CHECK(o.loss_fn || !o.loss.empty(), ValueError, "compile: give a loss name or a loss function");
  loss_ = o.loss_fn ? o.loss_fn : loss_by_name(o.loss);
  metrics_.clear();
  for (auto& m : o.metrics) metrics_.push_back(metric_by_name(m, o.loss));
  compile_ = std::move(o);
  compiled_ = true;
}

optim::Optimizer& Model::optimizer() {
  KOAN_CHECK(compiled_, ValueError, "Model: call compile() before training");
  return *compile_.optimizer;
}

void Model::reset_metrics() {
  for (auto& m : metrics_) m->reset();
}

void Model::update_metrics(const Tensor& out, const Tensor& y) {
  if (metrics_.empty()) return;
  NoGradGuard g;
  Tensor o = detach(out);
  for (auto& m : metrics_) {
    // Class metrics learn the class count from the first batch of logits.
    m->update(o, y);
  }
}

Logs Model::metric_logs(const std::string& prefix) const {
  Logs logs;
  for (auto& m : metrics_) logs[prefix + m->name()] = m->result();
  return logs;
}

double Model::train_step(const Tensor& x, const Tensor& y) {
  auto& opt = optimizer();
  opt.zero_grad();
  Tensor out = (*net_)(x);
  Tensor loss = loss_(out, y);
  loss.backward();
  if (compile_.clip_grad_value > 0) optim::clip_grad_value_(net_->parameters(), compile_.clip_grad_value);
  if (compile_.clip_grad_norm > 0) optim::clip_grad_norm_(net_->parameters(), compile_.clip_grad_norm);
  opt.step();
  update_metrics(out, y);
  return loss.item<double>();
}

History Model::run_fit(int64_t num_batches, const BatchFn& next_batch, const std::function<void(int)>& start_epoch,
                       const std::function<Logs()>& validate, FitOptions& o) {
  KOAN_CHECK(compiled_, ValueError, "fit: call compile() first");
  KOAN_CHECK(o.epochs > 0, ValueError, "fit: epochs must be positive, got ", o.epochs);
  std::ostream& out = o.out ? *o.out : std::cout;
  ProgressBar bar(out, {.verbose = o.verbose});
  History history;
  stop_training = false;
  for (auto& cb : o.callbacks) cb->on_train_begin(*this);
  for (int epoch = o.initial_epoch; epoch < o.initial_epoch + o.epochs && !stop_training; ++epoch) {
    for (auto& cb : o.callbacks) cb->on_epoch_begin(*this, epoch);
    net_->train();
    reset_metrics();
    start_epoch(epoch);
    bar.begin_epoch(epoch + 1, o.initial_epoch + o.epochs, num_batches);
    Mean loss_mean("loss");
    Tensor xb, yb;
    int64_t b = 0;
    for (; next_batch(b, xb, yb); ++b) {
      double l = train_step(xb, yb);
      loss_mean.update(l, static_cast<double>(xb.size(0)));
      Logs batch_logs = metric_logs("");
      batch_logs["loss"] = l;
      for (auto& cb : o.callbacks) cb->on_batch_end(*this, b, batch_logs);
      LogValues shown{{"loss", loss_mean.result()}};
      for (auto& m : metrics_) shown.emplace_back(m->name(), m->result());
      bar.update(b + 1, shown);
      if (stop_training) break;
    }
    Logs logs = metric_logs("");
    logs["loss"] = loss_mean.result();
    Logs val = validate();
    for (auto& [k, v] : val) logs["val_" + k] = v;
    LogValues shown{{"loss", logs["loss"]}};
    for (auto& m : metrics_) shown.emplace_back(m->name(), logs[m->name()]);
    if (!val.empty()) {
      shown.emplace_back("val_loss", logs["val_loss"]);
      for (auto& m : metrics_) shown.emplace_back("val_" + m->name(), logs["val_" + m->name()]);
    }
    bar.end_epoch(shown);
    for (auto& cb : o.callbacks) cb->on_epoch_end(*this, epoch, logs);
    history.append(logs);
  }
  for (auto& cb : o.callbacks) cb->on_train_end(*this);
  return history;
}

History Model::fit(const Tensor& x_in, const Tensor& y_in, FitOptions o) {
  KOAN_CHECK(x_in.dim() >= 1 && y_in.dim() >= 1 && x_in.size(0) == y_in.size(0), ShapeError,
             "fit: inputs ", x_in.shape(), " and targets ", y_in.shape(), " need the same number of samples");
  KOAN_CHECK(o.batch_size > 0, ValueError, "fit: batch_size must be positive, got ", o.batch_size);
  KOAN_CHECK(o.validation_split >= 0 && o.validation_split < 1, ValueError,
             "fit: validation_split must be in [0, 1), got ", o.validation_split);
  Tensor x = x_in, y = y_in;
  std::optional<std::pair<Tensor, Tensor>> val = o.validation_data;
  if (!val && o.validation_split > 0) {
    int64_t n = x.size(0), nv = static_cast<int64_t>(std::floor(n * o.validation_split));
    KOAN_CHECK(nv > 0 && nv < n, ValueError, "fit: validation_split ", o.validation_split, " of ", n,
               " samples leaves an empty split");
    val = std::make_pair(narrow(x, 0, n - nv, nv), narrow(y, 0, n - nv, nv));
    x = narrow(x, 0, 0, n - nv);
    y = narrow(y, 0, 0, n - nv);
  }
  const int64_t n = x.size(0), bs = o.batch_size, nb = (n + bs - 1) / bs;
  Generator gen(o.seed);
  Tensor order;
  auto start_epoch = [&](int epoch) {
    if (o.shuffle) {
      gen.set_state(o.seed, static_cast<uint64_t>(epoch) * static_cast<uint64_t>(n));  // per-epoch order, resumable
      order = randperm(n, &gen);
    } else {
      order = Tensor();
    }
  };
  auto next = [&](int64_t b, Tensor& xb, Tensor& yb) {
    if (b >= nb) return false;
    int64_t start = b * bs, len = std::min(bs, n - start);
    if (order.defined()) {
      Tensor idx = narrow(order, 0, start, len);
      xb = index_select(x, 0, idx);
      yb = index_select(y, 0, idx);
    } else {
      xb = narrow(x, 0, start, len);
      yb = narrow(y, 0, start, len);
    }
    return true;
  };
  auto validate = [&]() -> Logs {
    if (!val) return {};
    return evaluate(val->first, val->second, std::max<int64_t>(bs, 256));
  };
  return run_fit(nb, next, start_epoch, validate, o);
}

History Model::fit(data::DataLoader& train, FitOptions o, data::DataLoader* validation) {
  std::optional<data::DataLoader::Iterator> it, end;
  auto start_epoch = [&](int epoch) {
    train.set_epoch(epoch);
    it.emplace(train.begin());
    end.emplace(train.end());
  };
  auto next = [&](int64_t, Tensor& xb, Tensor& yb) {
    if (*it == *end) return false;
    xb = (*it)->input;
    yb = (*it)->target;
    ++*it;
    return true;
  };
  auto validate = [&]() -> Logs { return validation ? evaluate(*validation) : Logs{}; };
  return run_fit(train.size(), next, start_epoch, validate, o);
}

Logs Model::run_evaluate(const std::function<bool(Tensor& x, Tensor& y)>& next_batch) {
  KOAN_CHECK(compiled_, ValueError, "evaluate: call compile() first");
  bool was_training = net_->is_training();
  net_->eval();
  reset_metrics();
  Mean loss_mean("loss");
  NoGradGuard g;
  Tensor xb, yb;
  while (next_batch(xb, yb)) {
    Tensor out = (*net_)(xb);
    loss_mean.update(loss_(out, yb).item<double>(), static_cast<double>(xb.size(0)));
    update_metrics(out, yb);
  }
  net_->train(was_training);
  Logs logs = metric_logs("");
  logs["loss"] = loss_mean.result();
  return logs;
}

Logs Model::evaluate(const Tensor& x, const Tensor& y, int64_t batch_size) {
  KOAN_CHECK(compiled_, ValueError, "evaluate: call compile() first");
  KOAN_CHECK(x.size(0) == y.size(0), ShapeError, "evaluate: inputs ", x.shape(), " and targets ", y.shape(),
             " need the same number of samples");
  KOAN_CHECK(batch_size > 0, ValueError, "evaluate: batch_size must be positive, got ", batch_size);
  int64_t s = 0;
  return run_evaluate([&](Tensor& xb, Tensor& yb) {
    if (s >= x.size(0)) return false;
    int64_t len = std::min(batch_size, x.size(0) - s);
    xb = narrow(x, 0, s, len);
    yb = narrow(y, 0, s, len);
    s += len;
    return true;
  });
}

Logs Model::evaluate(data::DataLoader& loader) {
  KOAN_CHECK(compiled_, ValueError, "evaluate: call compile() first");
  auto it = loader.begin(), end = loader.end();
  return run_evaluate([&](Tensor& xb, Tensor& yb) {
    if (it == end) return false;
    xb = it->input;
    yb = it->target;
    ++it;
    return true;
  });
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
  KOAN_CHECK(batch_size > 0, ValueError, "predict: batch_size must be positive");
  bool was_training = net_->is_training();
  net_->eval();
  NoGradGuard g;
  std::vector<Tensor> outs;
  for (int64_t s = 0; s < x.size(0); s += batch_size)
    outs.push_back((*net_)(narrow(x, 0, s, std::min(batch_size, x.size(0) - s))));
  net_->train(was_training);
  KOAN_CHECK(!outs.empty(), ValueError, "predict: no samples");
  return outs.size() == 1 ? outs[0] : cat(outs, 0);
}

}  // namespace koan::train
