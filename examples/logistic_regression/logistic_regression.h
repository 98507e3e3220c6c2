// Project 2 (docs/projects/logistic_regression.md): linear classifiers on Fashion-MNIST pixels.
// Binary logistic regression on two classes, p(y = 1 | x) = σ(w·x + b), and softmax regression on
// all ten, p(y = k | x) = softmax(W x + b)_k, both trained with train::Model on the cross entropy.
//
//   FashionData d = load_fashion("data/fashion-mnist");                  // x (N, 784) in [0, 1]
//   FashionData pair = two_classes(d, 0, 6);                               // labels 0/1 as float32
//   RunResult r = train_linear_classifier(pair.train, pair.test, {.classes = 2, .optimizer = "adam"});
#pragma once
#include <string>
#include <utility>

#include "koan/tensor/tensor.h"
#include "koan/train/history.h"

namespace koan::examples {

struct Split {
  Tensor x, y;  // x (N, 784) float32; y int64 labels, or float32 0/1 for a binary problem
};
struct FashionData {
  Split train, test;
};

// The ten-class data with each image flattened to 784 pixels scaled to [0, 1].
FashionData load_fashion(const std::string& root = "data/fashion-mnist");
// The rows of classes `negative` and `positive` only, labelled 0 and 1 (float32).
FashionData two_classes(const FashionData& d, int64_t negative, int64_t positive);

struct RunOptions {
  int64_t classes = 10;          // 2: one logit and the binary cross entropy; else softmax
  std::string optimizer = "sgd"; // "sgd" or "adam"
  double lr = 0;                 // 0: 0.1 for SGD, 1e-3 for Adam
  int epochs = 10;
  int64_t batch_size = 64;
  uint64_t seed = 0;             // initial weights and shuffling
  int verbose = 2;               // train::FitOptions::verbose
};

struct RunResult {
  double test_accuracy = 0, test_loss = 0;
  double seconds = 0;            // training and evaluation
  train::History history;
};

// Trains nn::Linear(784, classes == 2 ? 1 : classes) with the options and evaluates it on `test`
// after every epoch (the history's val_* keys).
RunResult train_linear_classifier(const Split& train, const Split& test, const RunOptions& options);

// Fashion-MNIST's class names, 0..9.
const char* fashion_class_name(int64_t label);

}  // namespace koan::examples
