// Project 3 (docs/projects/image_classification.md): Fashion-MNIST image classification.
//
// Three networks, each f(x) = logits, trained on the cross entropy -log softmax(f(x))_y:
//   "mlp"     the [train] MLP config (configs/fashion_mnist_mlp.json): 784-128-10, dropout 0.2
//   "cnn"     the seed CNN config (configs/fashion_mnist_cnn.json): conv32-pool-conv64-pool-128-10
//   "cnn_bn"  the stronger CNN: two blocks of [conv3x3 -> BN -> ReLU] x2 -> maxpool -> dropout,
//             then dense 256 -> BN -> ReLU -> dropout -> 10, trained with augmentation (random
//             crop with zero padding, horizontal flip), Adam and a per-batch cosine schedule.
//
//   ImageData d = load_images("data/fashion-mnist", /*validation=*/5000);  // last 5000 train -> val
//   auto net = make_cnn_bn({});
//   ImageRun r = train_classifier(net, d, {.epochs = 15, .augment = true, .cosine = true});
//   // r.test_accuracy, r.confusion (10 x 10), r.history (train and val curves)
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "koan/data/dataset.h"
#include "koan/nn/module.h"
#include "koan/tensor/tensor.h"
#include "koan/train/history.h"

namespace koan::examples {

struct ImageSplit {
  Tensor x, y;  // x (N, 1, 28, 28) float32 in [0, 1]; y (N) int64 labels 0..9
};
struct ImageData {
  ImageSplit train, validation, test;  // validation may be empty (0 rows)
};

// Fashion-MNIST with the last `validation` training images held out (taken before any shuffle),
// and optionally only the first `limit_train` / `limit_test` images of each (0: all; for tests).
ImageData load_images(const std::string& root, int64_t validation = 5000, int64_t limit_train = 0,
                      int64_t limit_test = 0);

// The stronger CNN.  'same' padding keeps 28x28 and 14x14 maps; 'valid' shrinks them (28 -> 24
// -> pool 12 -> 8 -> pool 4) and costs about half the multiply-adds.
struct CnnBnOptions {
  int64_t c1 = 32, c2 = 64;  // channels of the two blocks
  int64_t hidden = 256;      // the dense layer
  bool same_padding = true;
  double conv_dropout = 0.1; // after each pooling
  double dense_dropout = 0.3;
};
std::shared_ptr<nn::Module> make_cnn_bn(const CnnBnOptions& o);
// A Sequential from a koan train JSON config file (its "model" array): the seed CNN and the MLP.
std::shared_ptr<nn::Module> load_config_model(const std::string& config_path);

struct TrainOptions {
  int epochs = 5;
  int64_t batch_size = 64;
  double lr = 1e-3;           // Adam
  double weight_decay = 0;    // Adam's L2 term
  bool cosine = false;        // lr follows a cosine from lr to 0 over all batches
  bool augment = false;       // random crop (padding `pad`) and horizontal flip of each image
  int64_t pad = 2;
  bool normalize = false;     // (x - 0.2860) / 0.3530, the training set's pixel mean and std
  uint64_t seed = 0;          // weights, shuffling, augmentation, dropout
  int verbose = 2;            // train::FitOptions::verbose
};

struct ImageRun {
  double test_accuracy = 0, test_loss = 0;
  std::vector<double> class_accuracy;          // per true class (recall), 10 values
  std::vector<std::vector<int64_t>> confusion; // [true][predicted]
  double seconds = 0;                          // wall time of training and evaluation
  double cpu_seconds = 0;                      // process CPU time over the same span
  int64_t parameters = 0;
  train::History history;                      // loss/accuracy and val_* (validation split) per epoch
};

// Trains `net` with Adam on d.train (validating on d.validation after each epoch when it has
// rows), then evaluates once on d.test.
ImageRun train_classifier(const std::shared_ptr<nn::Module>& net, const ImageData& d, const TrainOptions& o);

// The training examples as the loop sees them: with o.augment each image is cut at a random
// offset from its copy padded by o.pad zeros and mirrored with p = 0.5 (a fresh draw each epoch),
// then normalised if o.normalize; labels pass through unchanged.
data::DatasetPtr training_dataset(const ImageSplit& s, const TrainOptions& o);

// Fashion-MNIST's class names, 0..9.
const char* image_class_name(int64_t label);

}  // namespace koan::examples
