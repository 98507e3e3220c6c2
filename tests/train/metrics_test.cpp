// Metrics against values computed by hand (the working is in the comments) and, for AUC, against a
// brute-force pair count; the multiclass figures match sklearn's precision/recall/f1_score.
#include <cmath>
#include <random>

#include "koan/train/metrics.h"
#include "support/testing.h"

namespace koan {
namespace {

using namespace train;

Tensor f32(std::vector<float> v, Shape s) { return from_vector<float>(v, s); }
Tensor i64(std::vector<int64_t> v) { return from_vector<int64_t>(v, Shape{static_cast<int64_t>(v.size())}); }

TEST(Mean, IsWeighted) {
  Mean m;
  EXPECT_TRUE(std::isnan(m.result()));
  m.update(1.0, 3);
  m.update(5.0, 1);
  EXPECT_DOUBLE_EQ(m.result(), 2.0);  // (3 + 5) / 4
  m.reset();
  m.update(7.0);
  EXPECT_DOUBLE_EQ(m.result(), 7.0);
}

TEST(BinaryAccuracy, ThresholdsAndStreams) {
  // pred > 0.5 -> 1 0 1 0 0 vs 1 0 0 0 1: 3 of 5.
  Tensor p = tensor({0.9f, 0.4f, 0.6f, 0.1f, 0.5f}), t = tensor({1.f, 0.f, 0.f, 0.f, 1.f});
  BinaryAccuracy acc;
  EXPECT_TRUE(std::isnan(acc.result()));
  acc.update(p, t);
  EXPECT_DOUBLE_EQ(acc.result(), 0.6);
  // Two batches give the result of their concatenation.
  acc.reset();
  acc.update(p.slice(0, 0, 2), t.slice(0, 0, 2));
  acc.update(p.slice(0, 2, 5), t.slice(0, 2, 5).view({3, 1}));
  EXPECT_DOUBLE_EQ(acc.result(), 0.6);
  // threshold 0.45 -> 1 0 1 0 1: 4 of 5.
  BinaryAccuracy low({.threshold = 0.45});
  low.update(p, t);
  EXPECT_DOUBLE_EQ(low.result(), 0.8);
  EXPECT_EQ(acc.name(), "accuracy");
  EXPECT_THROW(acc.update(p, tensor({1.f, 0.f, 2.f, 0.f, 1.f})), ValueError);
  EXPECT_THROW(acc.update(p, tensor({1.f, 0.f})), ShapeError);
}

// Rows' argmax (first of ties): 1, 0, 2, 0.
Tensor scores() { return f32({0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.3f, 0.3f, 0.4f, 0.4f, 0.4f, 0.2f}, {4, 3}); }

TEST(CategoricalAccuracy, ComparesArgmaxes) {
  // target argmax 1, 2, 2, 1: rows 0 and 2 match.
  CategoricalAccuracy acc;
  acc.update(scores(), f32({0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0}, {4, 3}));
  EXPECT_DOUBLE_EQ(acc.result(), 0.5);
  EXPECT_THROW(acc.update(scores(), f32({0, 1, 0}, {1, 3})), ShapeError);
}

TEST(SparseCategoricalAccuracy, ComparesWithIndices) {
  SparseCategoricalAccuracy acc;
  acc.update(scores(), i64({1, 2, 2, 1}));  // rows 0, 2
  EXPECT_DOUBLE_EQ(acc.result(), 0.5);
  acc.reset();
  acc.update(scores(), f32({1, 2, 2, 0}, {4, 1}));  // float labels, [N, 1]: rows 0, 2, 3
  EXPECT_DOUBLE_EQ(acc.result(), 0.75);
  EXPECT_THROW(acc.update(scores(), i64({1, 2, 3, 0})), ValueError);  // 3 is not a class
  EXPECT_THROW(acc.update(scores(), f32({1, 2, 1.5f, 0}, {4})), ValueError);
  EXPECT_THROW(acc.update(scores(), i64({1, 2})), ShapeError);
  EXPECT_THROW(acc.update(tensor({0.1f, 0.9f}), i64({1, 0})), ShapeError);  // pred must be [N, C]
}

TEST(TopKAccuracy, CountsTiesAtTheBoundary) {
  // Classes scoring strictly above the true one, with targets 0 2 1 1:
  // row0 (0.1): 2; row1 (0.2): 2; row2 (0.3): 1; row3 (0.4): 0.
  Tensor t = i64({0, 2, 1, 1});
  auto result = [&](int64_t k, const Tensor& target) {
    TopKAccuracy m({.k = k});
    m.update(scores(), target);
    return m.result();
  };
  EXPECT_DOUBLE_EQ(result(1, t), 0.25);
  EXPECT_DOUBLE_EQ(result(2, t), 0.5);
  EXPECT_DOUBLE_EQ(result(3, t), 1.0);
  EXPECT_DOUBLE_EQ(result(2, f32({1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0}, {4, 3})), 0.5);  // one-hot
  EXPECT_EQ(TopKAccuracy({.k = 2}).name(), "top_2_accuracy");
  EXPECT_THROW(TopKAccuracy({.k = 0}), ValueError);
}

// target 0 0 0 1 1 2, pred 0 0 1 1 2 2.  Confusion (rows true): [[2,1,0],[0,1,1],[0,0,1]]
// tp = 2 1 1, fp = 0 1 1, fn = 1 1 0.
//   precision 1, 1/2, 1/2     macro 2/3
//   recall    2/3, 1/2, 1     macro 13/18
//   F1        4/5, 1/2, 2/3   macro 59/90
//   micro: 4 of 6 right, so P = R = F1 = 2/3.
const std::vector<int64_t> kTruth = {0, 0, 0, 1, 1, 2}, kPred = {0, 0, 1, 1, 2, 2};

TEST(ConfusionMatrix, RowsAreTrueColumnsPredicted) {
  ConfusionMatrix cm({.num_classes = 3});
  cm.update(i64(kPred), i64(kTruth));
  Tensor m = cm.result();
  EXPECT_EQ(m.dtype(), DType::Int64);
  EXPECT_EQ(m.shape(), (Shape{3, 3}));
  EXPECT_EQ(m.to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 0, 0, 1, 1, 0, 0, 1}));
  // From scores and one-hot targets, streamed: the same matrix.
  ConfusionMatrix cm2({.num_classes = 3});
  Tensor s = f32({.9f, .1f, 0, .8f, 0, .2f, .3f, .6f, .1f, 0, 1, 0, .1f, .2f, .7f, .2f, .2f, .6f}, {6, 3});
  Tensor oh = f32({1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1}, {6, 3});
  cm2.update(s.slice(0, 0, 4), oh.slice(0, 0, 4));
  cm2.update(s.slice(0, 4, 6), oh.slice(0, 4, 6));
  EXPECT_EQ(cm2.result().to_vector<int64_t>(), m.to_vector<int64_t>());
  cm2.reset();
  EXPECT_EQ(cm2.result().sum().item<int64_t>(), 0);
  EXPECT_THROW(cm.update(i64({0, 3}), i64({0, 1})), ValueError);
  EXPECT_THROW(cm.update(i64({0, 1}), i64({0, 1, 2})), ShapeError);
  EXPECT_THROW(cm.update(tensor({0.2f, 0.9f}), i64({0, 1})), ShapeError);  // one score needs 2 classes
  EXPECT_THROW(ConfusionMatrix({.num_classes = 1}), ValueError);
}

TEST(ClassMetrics, MacroAndMicroMulticlass) {
  auto run = [](ClassMetric m) {
    m.update(i64(kPred), i64(kTruth));
    return m.result();
  };
  EXPECT_NEAR(run(Precision({.num_classes = 3, .average = Average::Macro})), 2.0 / 3, 1e-12);
  EXPECT_NEAR(run(Recall({.num_classes = 3, .average = Average::Macro})), 13.0 / 18, 1e-12);
  EXPECT_NEAR(run(F1Score({.num_classes = 3, .average = Average::Macro})), 59.0 / 90, 1e-12);
  for (auto m : {ClassMetric(ClassMetric::Kind::Precision, {.num_classes = 3, .average = Average::Micro}),
                 ClassMetric(ClassMetric::Kind::Recall, {.num_classes = 3, .average = Average::Micro}),
                 ClassMetric(ClassMetric::Kind::F1, {.num_classes = 3, .average = Average::Micro})})
    EXPECT_NEAR(run(m), 2.0 / 3, 1e-12);
  // A fourth class seen in neither targets nor predictions does not dilute the macro average.
  EXPECT_NEAR(run(Recall({.num_classes = 4, .average = Average::Macro})), 13.0 / 18, 1e-12);
  EXPECT_EQ(Precision().name(), "precision");
  EXPECT_EQ(F1Score().name(), "f1_score");
  EXPECT_TRUE(std::isnan(Recall().result()));
}

TEST(ClassMetrics, BinaryFromProbabilities) {
  // pred > 0.5: 1 1 0 1 0 0 1 1 vs target 1 1 1 0 0 0 1 0  ->  tp 3, fp 2, fn 1.
  Tensor p = tensor({0.9f, 0.8f, 0.3f, 0.6f, 0.2f, 0.1f, 0.7f, 0.55f});
  Tensor t = tensor({1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f});
  Precision prec;
  Recall rec;
  F1Score f1;
  for (Metric* m : std::initializer_list<Metric*>{&prec, &rec, &f1}) m->update(p, t);
  EXPECT_NEAR(prec.result(), 0.6, 1e-12);
  EXPECT_NEAR(rec.result(), 0.75, 1e-12);
  EXPECT_NEAR(f1.result(), 2 * 0.6 * 0.75 / (0.6 + 0.75), 1e-12);
  EXPECT_EQ(prec.confusion().result().to_vector<int64_t>(), (std::vector<int64_t>{2, 2, 1, 3}));
  // No predicted positives: precision 0/0 counts as 0 (sklearn's zero_division=0).
  Precision none;
  none.update(tensor({0.1f, 0.2f}), tensor({1.f, 0.f}));
  EXPECT_EQ(none.result(), 0.0);
  Precision three({.num_classes = 3});  // Binary average needs two classes
  three.update(i64({0, 1}), i64({0, 2}));
  EXPECT_THROW(three.result(), ValueError);
}

TEST(RegressionMetrics, AreGlobalMeansOverBatches) {
  // differences 0.5 -0.5 -2 0:  MAE 3/4, MSE 4.5/4, RMSE sqrt(1.125).
  Tensor p = tensor({1.5, 2.0, -1.0, 4.0}, {.dtype = DType::Float64});
  Tensor t = tensor({1.0, 2.5, 1.0, 4.0}, {.dtype = DType::Float64});
  MeanAbsoluteError mae;
  MeanSquaredError mse;
  RootMeanSquaredError rmse;
  for (RegressionMetric* m : std::initializer_list<RegressionMetric*>{&mae, &mse, &rmse}) {
    EXPECT_TRUE(std::isnan(m->result()));
    m->update(p.slice(0, 0, 3), t.slice(0, 0, 3));  // uneven batches: not a mean of batch means
    m->update(p.slice(0, 3, 4).view({1, 1}), t.slice(0, 3, 4));
  }
  EXPECT_DOUBLE_EQ(mae.result(), 0.75);
  EXPECT_DOUBLE_EQ(mse.result(), 1.125);
  EXPECT_DOUBLE_EQ(rmse.result(), std::sqrt(1.125));
  EXPECT_EQ(mae.name(), "mae");
  EXPECT_EQ(rmse.name(), "rmse");
  EXPECT_THROW(mae.update(p, t.slice(0, 0, 2)), ShapeError);
}

TEST(AUC, MatchesHandComputedValuesWithTies) {
  AUC auc;
  EXPECT_TRUE(std::isnan(auc.result()));
  auc.update(tensor({0.1f, 0.4f, 0.35f, 0.8f}), tensor({0.f, 0.f, 1.f, 1.f}));
  EXPECT_DOUBLE_EQ(auc.result(), 0.75);  // sklearn's roc_auc_score example
  // positives 0.4, 0.8 vs negatives 0.1, 0.4, 0.8: pairs 1 + .5 + 0 + 1 + 1 + .5 = 4 of 6.
  auc.reset();
  auc.update(tensor({0.1f, 0.4f, 0.4f, 0.8f, 0.8f}), tensor({0.f, 1.f, 0.f, 1.f, 0.f}));
  EXPECT_NEAR(auc.result(), 4.0 / 6, 1e-12);
  auc.reset();
  auc.update(tensor({0.5f, 0.5f, 0.5f, 0.5f}), tensor({0.f, 1.f, 0.f, 1.f}));
  EXPECT_DOUBLE_EQ(auc.result(), 0.5);
  auc.reset();
  auc.update(tensor({0.2f, 0.9f}), tensor({1.f, 1.f}));  // one class: undefined
  EXPECT_TRUE(std::isnan(auc.result()));
  EXPECT_THROW(auc.update(tensor({0.2f}), tensor({2.f})), ValueError);
}

TEST(AUC, EqualsTheProbabilityThatAPositiveOutscoresANegative) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> bucket(0, 9);  // coarse scores: many ties
  std::bernoulli_distribution coin(0.4);
  std::vector<double> s(300), y(300);
  for (size_t i = 0; i < s.size(); ++i) s[i] = bucket(rng) / 10.0, y[i] = coin(rng);
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (y[i] == 1 && y[j] == 0) {
        wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
        pairs += 1;
      }
  AUC auc;
  auc.update(from_vector(std::vector<double>(s.begin(), s.begin() + 120)),
             from_vector(std::vector<double>(y.begin(), y.begin() + 120)));
  auc.update(from_vector(std::vector<double>(s.begin() + 120, s.end())),
             from_vector(std::vector<double>(y.begin() + 120, y.end())));
  EXPECT_NEAR(auc.result(), wins / pairs, 1e-12);
}

}  // namespace
}  // namespace koan
