#include "logistic_regression/logistic_regression.h"

#include <chrono>
#include <memory>

#include "koan/data/datasets.h"
#include "koan/nn/linear.h"
#include "koan/ops/binary.h"
#include "koan/ops/index.h"
#include "koan/ops/shape.h"
#include "koan/optim/adam.h"
#include "koan/optim/sgd.h"
#include "koan/tensor/creation.h"
#include "koan/train/model.h"

namespace koan::examples {

namespace {
Split flatten_split(const data::TensorDataset& ds) {
  return {reshape(ds.inputs(), {ds.size(), -1}), ds.targets()};
}

Split select_classes(const Split& s, int64_t negative, int64_t positive) {
  Tensor keep = logical_or(eq(s.y, negative), eq(s.y, positive));
  Tensor rows = masked_select(arange(s.y.size(0)), keep);
  Tensor labels = index_select(s.y, 0, rows);
  return {index_select(s.x, 0, rows), eq(labels, positive).to(DType::Float32)};
}
}  // namespace

const char* fashion_class_name(int64_t label) {
  static const char* names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  KOAN_CHECK(label >= 0 && label < 10, IndexError, "fashion_class_name: label ", label, " is not in 0..9");
  return names[label];
}

FashionData load_fashion(const std::string& root) {
  return {flatten_split(*data::fashion_mnist(root, true)), flatten_split(*data::fashion_mnist(root, false))};
}

FashionData two_classes(const FashionData& d, int64_t negative, int64_t positive) {
  KOAN_CHECK(negative != positive && negative >= 0 && negative < 10 && positive >= 0 && positive < 10, ValueError,
             "two_classes: classes ", negative, " and ", positive, " must be two different labels in 0..9");
  return {select_classes(d.train, negative, positive), select_classes(d.test, negative, positive)};
}

RunResult train_linear_classifier(const Split& train, const Split& test, const RunOptions& o) {
  KOAN_CHECK(o.classes >= 2, ValueError, "train_linear_classifier: classes ", o.classes, " must be at least 2");
  KOAN_CHECK(o.optimizer == "sgd" || o.optimizer == "adam", ValueError, "train_linear_classifier: optimizer \"",
             o.optimizer, "\" is not sgd or adam");
  KOAN_CHECK(train.x.dim() == 2 && test.x.dim() == 2 && train.x.size(1) == test.x.size(1), ShapeError,
             "train_linear_classifier: train x ", train.x.shape(), " and test x ", test.x.shape(),
             " must be (N, features) with the same features");
  const bool binary = o.classes == 2;
  manual_seed(o.seed);
  auto net = std::make_shared<nn::Linear>(nn::LinearOptions{.in = train.x.size(1), .out = binary ? 1 : o.classes});
  std::shared_ptr<optim::Optimizer> opt;
  if (o.optimizer == "sgd")
    opt = std::make_shared<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = o.lr > 0 ? o.lr : 0.1});
  else
    opt = std::make_shared<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = o.lr > 0 ? o.lr : 1e-3});

  train::Model model(net);
  const std::string loss = binary ? "binary_crossentropy" : "sparse_categorical_crossentropy";
  model.compile({.optimizer = opt, .loss = loss, .metrics = {"accuracy"}});
  auto t0 = std::chrono::steady_clock::now();
  RunResult r;
  r.history = model.fit(train.x, train.y,
                        {.epochs = o.epochs, .batch_size = o.batch_size, .validation_data = std::pair{test.x, test.y},
                         .verbose = o.verbose, .seed = o.seed});
  train::Logs scores = model.evaluate(test.x, test.y);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.test_loss = scores.at("loss");
  r.test_accuracy = scores.at("accuracy");
  return r;
}

}  // namespace koan::examples
