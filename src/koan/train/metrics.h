// Streaming metrics: feed batches with update(pred, target), read result(), reset() per epoch.
//
//   train::SparseCategoricalAccuracy acc;
//   for (auto& [x, y] : batches) acc.update(model(x), y);      // logits [N, C], labels [N]
//   double a = acc.result();
//   train::F1Score f1({.num_classes = 10, .average = train::Average::Macro});
//   train::ConfusionMatrix cm({.num_classes = 10});              // cm.result(): int64 [C, C]
//
// Metrics read values only (no autograd) and accumulate in double precision, so a result over
// many batches equals the result over their concatenation.  Class predictions follow one rule
// (see class_predictions below) shared by the precision/recall/F1/confusion-matrix family.
// Names follow Keras ("accuracy", "precision", "auc", ...) and can be overridden.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::train {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual const std::string& name() const = 0;
  virtual void update(const Tensor& pred, const Tensor& target) = 0;
  // NaN while nothing has been seen (or the metric is undefined, e.g. AUC with one class).
  virtual double result() const = 0;
  virtual void reset() = 0;
};

// Running (weighted) mean of scalars, e.g. the loss shown by the progress bar.
class Mean {
 public:
  explicit Mean(std::string name = "loss") : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  void update(double value, double weight = 1.0);
  double result() const;
  void reset() { sum_ = weight_ = 0; }

 private:
  std::string name_;
  double sum_ = 0, weight_ = 0;
};

// ---- accuracy
struct BinaryAccuracyOptions {
  double threshold = 0.5;  // pred > threshold counts as class 1 (Keras's rule)
  std::string name = "accuracy";
};
// pred: probabilities, target: 0/1, same element count.
class BinaryAccuracy : public Metric {
 public:
  explicit BinaryAccuracy(BinaryAccuracyOptions o = {}) : o_(std::move(o)) {}
  const std::string& name() const override { return o_.name; }
  void update(const Tensor& pred, const Tensor& target) override;
  double result() const override;
  void reset() override { correct_ = total_ = 0; }

 private:
  BinaryAccuracyOptions o_;
  int64_t correct_ = 0, total_ = 0;
};

struct AccuracyOptions {
  std::string name = "accuracy";
};
// pred [N, C] scores, target [N, C] one-hot or probabilities: argmax(pred) == argmax(target).
class CategoricalAccuracy : public Metric {
 public:
  explicit CategoricalAccuracy(AccuracyOptions o = {}) : o_(std::move(o)) {}
  const std::string& name() const override { return o_.name; }
  void update(const Tensor& pred, const Tensor& target) override;
  double result() const override;
  void reset() override { correct_ = total_ = 0; }

 private:
  AccuracyOptions o_;
  int64_t correct_ = 0, total_ = 0;
};

// pred [N, C] scores, target [N] (or [N, 1]) class indices: argmax(pred) == target.
class SparseCategoricalAccuracy : public Metric {
 public:
  explicit SparseCategoricalAccuracy(AccuracyOptions o = {}) : o_(std::move(o)) {}
  const std::string& name() const override { return o_.name; }
  void update(const Tensor& pred, const Tensor& target) override;
  double result() const override;
  void reset() override { correct_ = total_ = 0; }

 private:
  AccuracyOptions o_;
  int64_t correct_ = 0, total_ = 0;
};

struct TopKAccuracyOptions {
  int64_t k = 5;
  std::string name;  // default "top_<k>_accuracy"
};
// pred [N, C] scores; target [N] class indices or [N, C] one-hot.  A sample counts when fewer
// than k classes score strictly higher than the true class (so ties at the boundary count, as
// tf.math.in_top_k).
class TopKAccuracy : public Metric {
 public:
  explicit TopKAccuracy(TopKAccuracyOptions o = {});
  const std::string& name() const override { return o_.name; }
  void update(const Tensor& pred, const Tensor& target) override;
  double result() const override;
  void reset() override { correct_ = total_ = 0; }

 private:
  TopKAccuracyOptions o_;
  int64_t correct_ = 0, total_ = 0;
};

// ---- the confusion-matrix family
// Class predictions and labels, shared by the metrics below:
//   pred  integer dtype [N] or [N, 1]          class indices
//         floating [N, C] with C == num_classes  argmax (first of ties)
//         floating [N] or [N, 1] with num_classes == 2   1 if pred > threshold
//   target integer or floating [N] or [N, 1]   class indices (must be whole numbers in range)
//          [N, C] with C == num_classes          argmax (one-hot)
struct ClassOptions {
  int64_t num_classes = 2;
  double threshold = 0.5;
};
std::pair<std::vector<int64_t>, std::vector<int64_t>> class_predictions(const Tensor& pred,
                                                                        const Tensor& target,
                                                                        const ClassOptions& o,
                                                                        const char* op);

struct ConfusionMatrixOptions {
  int64_t num_classes = 2;
  double threshold = 0.5;
};
// Rows are true classes, columns predicted classes (sklearn's convention).
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(ConfusionMatrixOptions o = {});
  void update(const Tensor& pred, const Tensor& target);
  Tensor result() const;  // int64 [C, C]
  void reset();
  int64_t count(int64_t truth, int64_t predicted) const { return m_[truth * o_.num_classes + predicted]; }
  int64_t num_classes() const { return o_.num_classes; }

 private:
  ConfusionMatrixOptions o_;
  std::vector<int64_t> m_;
};

// Binary: the scores of class 1 alone.  Macro: the mean of per-class scores over the classes
// present in targets or predictions (sklearn; a class never seen has no defined score).  Micro:
// from the summed counts (for single-label data, precision = recall = F1 = accuracy).  A 0/0 is 0.
enum class Average { Binary, Macro, Micro };

struct ClassMetricOptions {
  int64_t num_classes = 2;
  Average average = Average::Binary;
  double threshold = 0.5;
  std::string name;  // default "precision" / "recall" / "f1_score"
};

class ClassMetric : public Metric {
 public:
  enum class Kind { Precision, Recall, F1 };
  ClassMetric(Kind kind, ClassMetricOptions o);
  const std::string& name() const override { return o_.name; }
  void update(const Tensor& pred, const Tensor& target) override { cm_.update(pred, target); }
  double result() const override;
  void reset() override { cm_.reset(); }
  const ConfusionMatrix& confusion() const { return cm_; }

 private:
  Kind kind_;
  ClassMetricOptions o_;
  ConfusionMatrix cm_;
};

class Precision : public ClassMetric {
 public:
  explicit Precision(ClassMetricOptions o = {}) : ClassMetric(Kind::Precision, std::move(o)) {}
};
class Recall : public ClassMetric {
 public:
  explicit Recall(ClassMetricOptions o = {}) : ClassMetric(Kind::Recall, std::move(o)) {}
};
class F1Score : public ClassMetric {
 public:
  explicit F1Score(ClassMetricOptions o = {}) : ClassMetric(Kind::F1, std::move(o)) {}
};

// ---- regression: pred and target with the same elements (size-1 dims ignored)
struct RegressionOptions {
  std::string name;  // default "mae" / "mse" / "rmse"
};
class RegressionMetric : public Metric {
 public:
  enum class Kind { MAE, MSE, RMSE };
  RegressionMetric(Kind kind, RegressionOptions o);
  const std::string& name() const override { return o_.name; }
  void update(const Tensor& pred, const Tensor& target) override;
  double result() const override;
  void reset() override { sum_ = 0, count_ = 0; }

 private:
  Kind kind_;
  RegressionOptions o_;
  double sum_ = 0;
  int64_t count_ = 0;
};
class MeanAbsoluteError : public RegressionMetric {
 public:
  explicit MeanAbsoluteError(RegressionOptions o = {}) : RegressionMetric(Kind::MAE, std::move(o)) {}
};
class MeanSquaredError : public RegressionMetric {
 public:
  explicit MeanSquaredError(RegressionOptions o = {}) : RegressionMetric(Kind::MSE, std::move(o)) {}
};
class RootMeanSquaredError : public RegressionMetric {
 public:
  explicit RootMeanSquaredError(RegressionOptions o = {}) : RegressionMetric(Kind::RMSE, std::move(o)) {}
};

// ---- ROC AUC (binary), exact: the Mann-Whitney statistic with tied scores given average ranks,
// which equals the trapezoidal area under the ROC curve (sklearn's roc_auc_score).  Keeps every
// score seen since reset().  NaN when only one class has been seen.
struct AUCOptions {
  std::string name = "auc";
};
class AUC : public Metric {
 public:
  explicit AUC(AUCOptions o = {}) : o_(std::move(o)) {}
  const std::string& name() const override { return o_.name; }
  void update(const Tensor& pred, const Tensor& target) override;  // scores, labels 0/1
  double result() const override;
  void reset() override { scores_.clear(), labels_.clear(); }

 private:
  AUCOptions o_;
  std::vector<double> scores_;
  std::vector<uint8_t> labels_;
};

}  // namespace koan::train
