#include "image_classification/image_classification.h"

#include <time.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "koan/autograd/grad_mode.h"
#include "koan/data/datasets.h"
#include "koan/data/decorators.h"
#include "koan/data/loader.h"
#include "koan/data/transforms.h"
#include "koan/nn/activation.h"
#include "koan/nn/container.h"
#include "koan/nn/conv.h"
#include "koan/nn/dropout.h"
#include "koan/nn/linear.h"
#include "koan/nn/norm.h"
#include "koan/nn/pool.h"
#include "koan/ops/shape.h"
#include "koan/optim/adam.h"
#include "koan/tensor/random.h"
#include "koan/train/callbacks.h"
#include "koan/train/metrics.h"
#include "koan/train/model.h"
#include "koan/train/model_file.h"

namespace koan::examples {

namespace T = data::transforms;

namespace {
constexpr double kMean = 0.2860, kStd = 0.3530;  // Fashion-MNIST training pixels

ImageSplit rows(const Tensor& x, const Tensor& y, int64_t begin, int64_t end) {
  return {narrow(x, 0, begin, end - begin), narrow(y, 0, begin, end - begin)};
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The evaluation pipeline: the same normalisation as training, nothing random.
data::DatasetPtr eval_dataset(const ImageSplit& s, bool normalize) {
  data::DatasetPtr ds = std::make_shared<data::TensorDataset>(s.x, s.y);
  if (normalize) ds = data::transform(ds, T::normalizer({kMean}, {kStd}));
  return ds;
}
}  // namespace

const char* image_class_name(int64_t label) {
  static const char* names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  KOAN_CHECK(label >= 0 && label < 10, IndexError, "image_class_name: label ", label, " is not in 0..9");
  return names[label];
}

ImageData load_images(const std::string& root, int64_t validation, int64_t limit_train, int64_t limit_test) {
  auto train = data::fashion_mnist(root, true);
  auto test = data::fashion_mnist(root, false);
  const int64_t n = limit_train > 0 ? std::min(limit_train, train->size()) : train->size();
  const int64_t nt = limit_test > 0 ? std::min(limit_test, test->size()) : test->size();
  KOAN_CHECK(validation >= 0 && validation < n, ValueError, "load_images: validation ", validation,
             " must be in [0, ", n, ") (the training images used)");
  ImageData d;
  d.train = rows(train->inputs(), train->targets(), 0, n - validation);
  d.validation = rows(train->inputs(), train->targets(), n - validation, n);
  d.test = rows(test->inputs(), test->targets(), 0, nt);
  return d;
}

std::shared_ptr<nn::Module> make_cnn_bn(const CnnBnOptions& o) {
  KOAN_CHECK(o.c1 > 0 && o.c2 > 0 && o.hidden > 0, ValueError, "make_cnn_bn: channels ", o.c1, ", ", o.c2,
             " and hidden ", o.hidden, " must be positive");
  const int64_t pad = o.same_padding ? 1 : 0;
  auto net = std::make_shared<nn::Sequential>();
  auto conv_bn_relu = [&](int64_t in, int64_t out) {
    // The convolution's bias is redundant before batch norm (BN subtracts the mean).
    net->push_back(std::make_shared<nn::Conv2d>(
        nn::Conv2dOptions{.in = in, .out = out, .kernel = 3, .padding = pad, .bias = false}));
    net->push_back(std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions{.num_features = out}));
    net->push_back(std::make_shared<nn::ReLU>());
  };
  int64_t side = 28;
  for (auto [in, out] : {std::pair{int64_t{1}, o.c1}, std::pair{o.c1, o.c2}}) {
    conv_bn_relu(in, out);
    conv_bn_relu(out, out);
    side = (side - 4 * (1 - pad)) / 2;
    net->push_back(std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions{.kernel = 2}));
    if (o.conv_dropout > 0) net->push_back(std::make_shared<nn::Dropout>(nn::DropoutOptions{.p = o.conv_dropout}));
  }
  net->push_back(std::make_shared<nn::Flatten>());
  net->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = o.c2 * side * side, .out = o.hidden, .bias = false}));
  net->push_back(std::make_shared<nn::BatchNorm1d>(nn::BatchNormOptions{.num_features = o.hidden}));
  net->push_back(std::make_shared<nn::ReLU>());
  if (o.dense_dropout > 0) net->push_back(std::make_shared<nn::Dropout>(nn::DropoutOptions{.p = o.dense_dropout}));
  net->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in = o.hidden, .out = 10}));
  return net;
}

std::shared_ptr<nn::Module> load_config_model(const std::string& config_path) {
  std::ifstream in(config_path);
  KOAN_CHECK(in.good(), IOError, "load_config_model: cannot open \"", config_path, "\"");
  nlohmann::json cfg;
  try {
    cfg = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(str("load_config_model: \"", config_path, "\" is not valid JSON: ", e.what()));
  }
  KOAN_CHECK(cfg.is_object() && cfg.contains("model"), ValueError, "load_config_model: \"", config_path,
             "\" has no \"model\" array");
  return train::build_sequential(cfg["model"]);
}

data::DatasetPtr training_dataset(const ImageSplit& s, const TrainOptions& o) {
  // Augmentation on the raw [0, 1] pixels (the padding is black, as the images' background),
  // then normalisation.  The seed keys each epoch's random choices.
  std::vector<data::TensorTransform> steps;
  if (o.augment) steps = {T::crop(s.x.size(-2), s.x.size(-1), o.pad), T::flip(0.5)};
  if (o.normalize) steps.push_back(T::normalizer({kMean}, {kStd}));
  data::DatasetPtr ds = std::make_shared<data::TensorDataset>(s.x, s.y);
  if (!steps.empty()) ds = data::transform(ds, T::compose(steps), o.seed + 1);
  return ds;
}

ImageRun train_classifier(const std::shared_ptr<nn::Module>& net, const ImageData& d, const TrainOptions& o) {
  KOAN_CHECK(o.epochs >= 1 && o.batch_size >= 1 && o.lr > 0, ValueError, "train_classifier: epochs ", o.epochs,
             ", batch size ", o.batch_size, " and lr ", o.lr, " must be positive");
  KOAN_CHECK(d.train.x.dim() == 4 && d.test.x.dim() == 4 && d.train.x.size(0) > 0, ShapeError,
             "train_classifier: train x ", d.train.x.shape(), " and test x ", d.test.x.shape(),
             " must be non-empty (N, 1, H, W) images");
  manual_seed(o.seed);
  ImageRun r;
  for (const Tensor& p : net->parameters()) r.parameters += p.numel();

  data::DatasetPtr train_ds = training_dataset(d.train, o);
  data::DataLoader train_loader(train_ds, {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed});
  const bool have_val = d.validation.x.defined() && d.validation.x.size(0) > 0;
  std::unique_ptr<data::DataLoader> val_loader;
  if (have_val)
    val_loader = std::make_unique<data::DataLoader>(eval_dataset(d.validation, o.normalize),
                                                    data::LoaderOptions{.batch_size = 256});
  data::DataLoader test_loader(eval_dataset(d.test, o.normalize), {.batch_size = 256});

  auto opt = std::make_shared<optim::Adam>(net->parameters(),
                                           optim::AdamOptions{.lr = o.lr, .weight_decay = o.weight_decay});
  train::Model model(net);
  model.compile({.optimizer = opt, .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  std::vector<std::shared_ptr<train::Callback>> callbacks;
  if (o.cosine) {
    // lr_t = lr (1 + cos(π t / T)) / 2 for batch t of T, set after each step for the next one.
    const double total = static_cast<double>(o.epochs * train_loader.size());
    auto cb = std::make_shared<train::LambdaCallback>();
    int64_t step = 0;
    cb->batch_end = [opt, total, lr = o.lr, step](train::Model&, int64_t, train::Logs&) mutable {
      ++step;
      opt->set_lr(0, lr * 0.5 * (1 + std::cos(M_PI * std::min(1.0, step / total))));
    };
    cb->epoch_end = [opt](train::Model&, int, train::Logs& logs) { logs["lr"] = opt->lr(0); };
    callbacks.push_back(cb);
  }

  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = process_cpu_seconds();
  r.history = model.fit(train_loader, {.epochs = o.epochs, .callbacks = callbacks, .verbose = o.verbose, .seed = o.seed},
                        val_loader.get());
  train::Logs scores = model.evaluate(test_loader);
  r.test_loss = scores.at("loss");
  r.test_accuracy = scores.at("accuracy");

  train::ConfusionMatrix cm({.num_classes = 10});
  {
    NoGradGuard g;
    net->eval();
    for (const data::Batch& b : test_loader) cm.update((*net)(b.input), b.target);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_seconds = process_cpu_seconds() - c0;
  r.confusion.assign(10, std::vector<int64_t>(10, 0));
  for (int64_t t = 0; t < 10; ++t) {
    int64_t total = 0;
    for (int64_t p = 0; p < 10; ++p) total += r.confusion[t][p] = cm.count(t, p);
    r.class_accuracy.push_back(total > 0 ? static_cast<double>(r.confusion[t][t]) / total : 0.0);
  }
  return r;
}

}  // namespace koan::examples
