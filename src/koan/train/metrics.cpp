#include "koan/train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "koan/tensor/creation.h"

namespace koan::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(int64_t num, int64_t den) { return den ? static_cast<double>(num) / den : kNaN; }
double safe_div(double num, double den) { return den != 0 ? num / den : 0.0; }

void check_defined(const Tensor& pred, const Tensor& target, const char* op) {
  KOAN_CHECK(pred.defined() && target.defined(), ValueError, op, ": pred and target must be defined");
}

// The shape without its size-1 dims, so [N] matches [N, 1].
Shape squeezed(const Shape& s) {
  Shape out;
  for (int64_t d : s)
    if (d != 1) out.push_back(d);
  return out;
}

void check_same_elements(const Tensor& pred, const Tensor& target, const char* op) {
  check_defined(pred, target, op);
  KOAN_CHECK(squeezed(pred.shape()) == squeezed(target.shape()), ShapeError, op, ": pred ", pred.shape(),
             " and target ", target.shape(), " must hold the same elements");
}

// Rows of a [N, C] tensor: checks the shape and returns the values row-major.
std::vector<double> rows(const Tensor& t, const char* op, const char* what) {
  KOAN_CHECK(t.dim() == 2, ShapeError, op, ": ", what, " must be [N, C], got ", t.shape());
  return t.to_vector<double>();
}

int64_t argmax_row(const double* row, int64_t c) {
  int64_t best = 0;
  for (int64_t j = 1; j < c; ++j)
    if (row[j] > row[best]) best = j;  // first of ties, as numpy / torch.argmax
  return best;
}

// Class indices from a [N] or [N, 1] tensor; whole numbers in [0, classes) (classes < 0: unchecked).
std::vector<int64_t> indices(const Tensor& t, int64_t n, int64_t classes, const char* op, const char* what) {
  KOAN_CHECK(t.numel() == n && squeezed(t.shape()).size() <= 1, ShapeError, op, ": ", what,
             " of class indices must be [", n, "] or [", n, ", 1], got ", t.shape());
  std::vector<double> v = t.to_vector<double>();
  std::vector<int64_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    double x = v[i];
    KOAN_CHECK(x == std::floor(x) && x >= 0 && (classes < 0 || x < static_cast<double>(classes)), ValueError,
               op, ": ", what, " [", i, "] = ", x, " is not a class index in [0, ", classes, ")");
    out[i] = static_cast<int64_t>(x);
  }
  return out;
}

std::vector<int64_t> argmax_rows(const Tensor& t, int64_t c, const char* op, const char* what) {
  std::vector<double> v = rows(t, op, what);
  KOAN_CHECK(t.size(1) == c, ShapeError, op, ": ", what, " ", t.shape(), " needs ", c, " columns");
  std::vector<int64_t> out(static_cast<size_t>(t.size(0)));
  for (size_t i = 0; i < out.size(); ++i) out[i] = argmax_row(v.data() + i * c, c);
  return out;
}

}  // namespace

// ---- Mean
void Mean::update(double value, double weight) {
  sum_ += value * weight;
  weight_ += weight;
}
double Mean::result() const { return weight_ != 0 ? sum_ / weight_ : kNaN; }

// ---- accuracy
void BinaryAccuracy::update(const Tensor& pred, const Tensor& target) {
  check_same_elements(pred, target, "BinaryAccuracy");
  std::vector<double> p = pred.to_vector<double>(), t = target.to_vector<double>();
  for (size_t i = 0; i < p.size(); ++i) {
    KOAN_CHECK(t[i] == 0 || t[i] == 1, ValueError, "BinaryAccuracy: target [", i, "] = ", t[i],
               " is not 0 or 1");
    correct_ += (p[i] > o_.threshold) == (t[i] == 1);
  }
  total_ += static_cast<int64_t>(p.size());
}
double BinaryAccuracy::result() const { return ratio(correct_, total_); }

void CategoricalAccuracy::update(const Tensor& pred, const Tensor& target) {
  check_defined(pred, target, "CategoricalAccuracy");
  KOAN_CHECK(pred.shape() == target.shape(), ShapeError, "CategoricalAccuracy: pred ", pred.shape(),
             " and one-hot target ", target.shape(), " must have the same shape");
  int64_t c = pred.dim() == 2 ? pred.size(1) : 0;
  std::vector<int64_t> p = argmax_rows(pred, c, "CategoricalAccuracy", "pred");
  std::vector<int64_t> t = argmax_rows(target, c, "CategoricalAccuracy", "target");
  for (size_t i = 0; i < p.size(); ++i) correct_ += p[i] == t[i];
  total_ += static_cast<int64_t>(p.size());
}
double CategoricalAccuracy::result() const { return ratio(correct_, total_); }

void SparseCategoricalAccuracy::update(const Tensor& pred, const Tensor& target) {
  check_defined(pred, target, "SparseCategoricalAccuracy");
  int64_t c = pred.dim() == 2 ? pred.size(1) : 0;
  std::vector<int64_t> p = argmax_rows(pred, c, "SparseCategoricalAccuracy", "pred");
  std::vector<int64_t> t = indices(target, pred.size(0), c, "SparseCategoricalAccuracy", "target");
  for (size_t i = 0; i < p.size(); ++i) correct_ += p[i] == t[i];
  total_ += static_cast<int64_t>(p.size());
}
double SparseCategoricalAccuracy::result() const { return ratio(correct_, total_); }

TopKAccuracy::TopKAccuracy(TopKAccuracyOptions o) : o_(std::move(o)) {
  KOAN_CHECK(o_.k >= 1, ValueError, "TopKAccuracy: k must be >= 1, got ", o_.k);
  if (o_.name.empty()) o_.name = str("top_", o_.k, "_accuracy");
}

void TopKAccuracy::update(const Tensor& pred, const Tensor& target) {
  check_defined(pred, target, "TopKAccuracy");
  std::vector<double> p = rows(pred, "TopKAccuracy", "pred");
  int64_t n = pred.size(0), c = pred.size(1);
  std::vector<int64_t> t = target.shape() == pred.shape() ? argmax_rows(target, c, "TopKAccuracy", "target")
                                                          : indices(target, n, c, "TopKAccuracy", "target");
  for (int64_t i = 0; i < n; ++i) {
    const double* row = p.data() + i * c;
    double truth = row[t[i]];
    int64_t higher = 0;
    for (int64_t j = 0; j < c; ++j) higher += row[j] > truth;
    correct_ += higher < o_.k;
  }
  total_ += n;
}
double TopKAccuracy::result() const { return ratio(correct_, total_); }

// ---- confusion-matrix family
std::pair<std::vector<int64_t>, std::vector<int64_t>> class_predictions(const Tensor& pred,
                                                                        const Tensor& target,
                                                                        const ClassOptions& o,
                                                                        const char* op) {
  check_defined(pred, target, op);
  int64_t c = o.num_classes;
  KOAN_CHECK(pred.dim() >= 1 && pred.dim() <= 2, ShapeError, op, ": pred must be [N] or [N, C], got ",
             pred.shape());
  int64_t n = pred.size(0);
  std::vector<int64_t> p;
  bool column = pred.dim() == 1 || pred.size(1) == 1;
  if (!pred.is_floating_point()) {
    p = indices(pred, n, c, op, "pred");
  } else if (column) {
    KOAN_CHECK(c == 2, ShapeError, op, ": pred ", pred.shape(), " holds one score per sample, which needs "
               "num_classes == 2 (got ", c, "); pass [N, C] scores or integer class indices");
    std::vector<double> v = pred.to_vector<double>();
    p.resize(v.size());
    for (size_t i = 0; i < v.size(); ++i) p[i] = v[i] > o.threshold;
  } else {
    p = argmax_rows(pred, c, op, "pred");
  }
  std::vector<int64_t> t = target.dim() == 2 && target.size(1) != 1 ? argmax_rows(target, c, op, "target")
                                                                    : indices(target, n, c, op, "target");
  KOAN_CHECK(t.size() == p.size(), ShapeError, op, ": pred ", pred.shape(), " and target ", target.shape(),
             " hold different numbers of samples");
  return {std::move(p), std::move(t)};
}

ConfusionMatrix::ConfusionMatrix(ConfusionMatrixOptions o) : o_(o) {
  KOAN_CHECK(o_.num_classes >= 2, ValueError, "ConfusionMatrix: num_classes must be >= 2, got ", o_.num_classes);
  reset();
}
void ConfusionMatrix::reset() { m_.assign(static_cast<size_t>(o_.num_classes * o_.num_classes), 0); }
void ConfusionMatrix::update(const Tensor& pred, const Tensor& target) {
  auto [p, t] = class_predictions(pred, target, {o_.num_classes, o_.threshold}, "ConfusionMatrix");
  for (size_t i = 0; i < p.size(); ++i) ++m_[t[i] * o_.num_classes + p[i]];
}
Tensor ConfusionMatrix::result() const { return from_vector(m_, Shape{o_.num_classes, o_.num_classes}); }

ClassMetric::ClassMetric(Kind kind, ClassMetricOptions o)
    : kind_(kind), o_(std::move(o)), cm_({.num_classes = o_.num_classes, .threshold = o_.threshold}) {
  if (o_.name.empty()) o_.name = kind == Kind::Precision ? "precision" : kind == Kind::Recall ? "recall" : "f1_score";
}

double ClassMetric::result() const {
  int64_t c = cm_.num_classes(), total = 0;
  std::vector<int64_t> tp(c), fp(c), fn(c);
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < c; ++j) {
      int64_t v = cm_.count(i, j);
      total += v;
      if (i == j) tp[i] += v;
      else fn[i] += v, fp[j] += v;
    }
  if (total == 0) return kNaN;
  auto score = [&](double tp_, double fp_, double fn_) {
    double prec = safe_div(tp_, tp_ + fp_), rec = safe_div(tp_, tp_ + fn_);
    switch (kind_) {
      case Kind::Precision: return prec;
      case Kind::Recall: return rec;
      case Kind::F1: return safe_div(2 * tp_, 2 * tp_ + fp_ + fn_);  // = 2PR/(P+R), 0 when both are 0
    }
    return kNaN;
  };
  switch (o_.average) {
    case Average::Binary:
      KOAN_CHECK(c == 2, ValueError, o_.name, ": average Binary needs num_classes == 2, got ", c);
      return score(tp[1], fp[1], fn[1]);
    case Average::Micro: {
      double stp = 0, sfp = 0, sfn = 0;
      for (int64_t k = 0; k < c; ++k) stp += tp[k], sfp += fp[k], sfn += fn[k];
      return score(stp, sfp, sfn);
    }
    case Average::Macro: {
      double sum = 0;
      int64_t present = 0;
      for (int64_t k = 0; k < c; ++k) {
        if (tp[k] + fp[k] + fn[k] == 0) continue;  // in neither targets nor predictions
        sum += score(tp[k], fp[k], fn[k]);
        ++present;
      }
      return sum / present;
    }
  }
  return kNaN;
}

// ---- regression
RegressionMetric::RegressionMetric(Kind kind, RegressionOptions o) : kind_(kind), o_(std::move(o)) {
  if (o_.name.empty()) o_.name = kind == Kind::MAE ? "mae" : kind == Kind::MSE ? "mse" : "rmse";
}

void RegressionMetric::update(const Tensor& pred, const Tensor& target) {
  check_same_elements(pred, target, o_.name.c_str());
  std::vector<double> p = pred.to_vector<double>(), t = target.to_vector<double>();
  for (size_t i = 0; i < p.size(); ++i) {
    double d = p[i] - t[i];
    sum_ += kind_ == Kind::MAE ? std::abs(d) : d * d;
  }
  count_ += static_cast<int64_t>(p.size());
}

double RegressionMetric::result() const {
  if (count_ == 0) return kNaN;
  double m = sum_ / static_cast<double>(count_);
  return kind_ == Kind::RMSE ? std::sqrt(m) : m;
}

// ---- AUC
void AUC::update(const Tensor& pred, const Tensor& target) {
  check_same_elements(pred, target, "AUC");
  std::vector<double> p = pred.to_vector<double>(), t = target.to_vector<double>();
  for (size_t i = 0; i < p.size(); ++i) {
    KOAN_CHECK(t[i] == 0 || t[i] == 1, ValueError, "AUC: target [", i, "] = ", t[i], " is not 0 or 1");
    KOAN_CHECK(!std::isnan(p[i]), ValueError, "AUC: pred [", i, "] is NaN");
    scores_.push_back(p[i]);
    labels_.push_back(static_cast<uint8_t>(t[i]));
  }
}

double AUC::result() const {
  size_t n = scores_.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores_[a] < scores_[b]; });
  // Sum of the (1-based, tie-averaged) ranks of the positives.
  double rank_sum = 0;
  int64_t pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores_[order[j]] == scores_[order[i]]) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k)
      if (labels_[order[k]]) rank_sum += avg_rank, ++pos;
    i = j;
  }
  int64_t neg = static_cast<int64_t>(n) - pos;
  if (pos == 0 || neg == 0) return kNaN;
  double p = static_cast<double>(pos);
  return (rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(neg));
}

}  // namespace koan::train
