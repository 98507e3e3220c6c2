// Project 3 (examples/image_classification): the training augmentation keeps labels and moves
// pixels only by a shift within the padding and a mirror; the networks have the right shapes; a
// small CNN with batch norm learns on a slice of Fashion-MNIST.
#include <gtest/gtest.h>

#include "image_classification/image_classification.h"
#include "koan/koan.h"
#include "support/testing.h"

using namespace koan;
using namespace koan::examples;

namespace {
// Images of the test file only (decoding the 60 000 training images would dominate the test):
// the first `train` as training set, the next `val` as validation, the next `test` as test.
ImageData slice(int64_t train, int64_t val, int64_t test) {
  auto images = data::fashion_mnist(koan::testing::fashion_mnist_root(), /*train=*/false);
  const Tensor& x = images->inputs();
  const Tensor& y = images->targets();
  return {{narrow(x, 0, 0, train), narrow(y, 0, 0, train)},
          {narrow(x, 0, train, val), narrow(y, 0, train, val)},
          {narrow(x, 0, train + val, test), narrow(y, 0, train + val, test)}};
}

// Pixel (r, c) of `img` (28 x 28, row-major) shifted by (dy, dx) and mirrored if `flip`; zero
// outside the image, as the zero padding of the crop.
float moved(const std::vector<float>& img, int r, int c, int dy, int dx, bool flip) {
  int cc = flip ? 27 - c : c;
  int sr = r + dy, sc = cc + dx;
  return sr < 0 || sr >= 28 || sc < 0 || sc >= 28 ? 0.0f : img[sr * 28 + sc];
}

// Whether `out` is `in` shifted by some offset within ±pad and possibly mirrored.
bool is_shift_or_mirror(const std::vector<float>& in, const std::vector<float>& out, int pad, bool* flipped) {
  for (int flip = 0; flip < 2; ++flip)
    for (int dy = -pad; dy <= pad; ++dy)
      for (int dx = -pad; dx <= pad; ++dx) {
        bool same = true;
        for (int r = 0; r < 28 && same; ++r)
          for (int c = 0; c < 28 && same; ++c) same = out[r * 28 + c] == moved(in, r, c, dy, dx, flip);
        if (same) {
          *flipped = flip;
          return true;
        }
      }
  return false;
}
}  // namespace

TEST(ImageClassification, AugmentationShiftsAndMirrorsImagesAndKeepsLabels) {
  ImageData d = slice(64, 0, 1);
  std::vector<int64_t> idx(32);
  for (int64_t i = 0; i < 32; ++i) idx[i] = 2 * i;
  for (int64_t pad : {0, 2}) {
    data::DatasetPtr ds = training_dataset(d.train, {.augment = true, .pad = pad, .seed = 3});
    data::Batch b = ds->get_batch(idx);
    ASSERT_EQ(b.input.shape(), Shape({32, 1, 28, 28}));
    EXPECT_EQ(b.target.to_vector<int64_t>(), index_select(d.train.y, 0, from_vector(idx)).to_vector<int64_t>());
    int flips = 0, moved_images = 0;
    for (int64_t k = 0; k < 32; ++k) {
      std::vector<float> in = d.train.x[idx[k]].contiguous().to_vector<float>();
      std::vector<float> out = b.input[k].contiguous().to_vector<float>();
      bool flipped = false;
      ASSERT_TRUE(is_shift_or_mirror(in, out, static_cast<int>(pad), &flipped)) << "image " << k << ", pad " << pad;
      flips += flipped;
      moved_images += in != out;
    }
    // p = 0.5 flips and 25 offsets: all-or-nothing outcomes would mean the randomness is broken.
    EXPECT_GT(flips, 4);
    EXPECT_LT(flips, 28);
    if (pad > 0) {
      EXPECT_GT(moved_images, 24);
    }
  }
  // Normalisation after augmentation: (x - 0.2860) / 0.3530, so black pixels map to -0.81.
  data::Batch n = training_dataset(d.train, {.normalize = true})->get_batch({0});
  EXPECT_TRUE(koan::testing::close(n.input[0], (d.train.x[0] - 0.2860) / 0.3530, 1e-5, 1e-5));
}

TEST(ImageClassification, NetworksMapImagesToTenLogits) {
  Tensor x = rand({3, 1, 28, 28});
  for (bool same : {true, false}) {
    auto net = make_cnn_bn({.c1 = 4, .c2 = 8, .hidden = 16, .same_padding = same});
    EXPECT_EQ((*net)(x).shape(), Shape({3, 10})) << (same ? "same" : "valid");
  }
  const std::string configs = std::string(KOAN_SOURCE_DIR) + "/configs/";
  for (const char* name : {"fashion_mnist_cnn.json", "fashion_mnist_mlp.json"})
    EXPECT_EQ((*load_config_model(configs + name))(x).shape(), Shape({3, 10})) << name;
  EXPECT_THROW(load_config_model(configs + "no_such_config.json"), IOError);
  EXPECT_THROW(make_cnn_bn({.c1 = 0}), ValueError);
}

TEST(ImageClassification, SmallBatchNormCnnLearnsOnASlice) {
  // One thread: these steps are tiny, and on a loaded 2-core machine OpenMP's waiting between two
  // threads costs more than the work.
  NumThreadsGuard one_thread(1);
  ImageData d = slice(1024, 256, 1000);
  manual_seed(0);
  auto net = make_cnn_bn({.c1 = 8, .c2 = 16, .hidden = 64});
  ImageRun r = train_classifier(net, d,
                                {.epochs = 2, .batch_size = 32, .lr = 2e-3, .cosine = true, .augment = true,
                                 .normalize = true, .verbose = 0});
  // Chance is 10%; a working CNN reaches ~75% on 1024 images in two epochs.
  EXPECT_GT(r.test_accuracy, 0.6);
  EXPECT_EQ(r.history.epochs(), 2u);
  ASSERT_TRUE(r.history.has("val_accuracy"));
  EXPECT_GT(r.history["val_accuracy"].back(), 0.6);
  // The cosine schedule ends at 0 after the last batch.
  ASSERT_TRUE(r.history.has("lr"));
  EXPECT_NEAR(r.history["lr"].back(), 0.0, 1e-12);
  // The confusion matrix counts every test image once, and its diagonal is the accuracy.
  int64_t total = 0, diagonal = 0;
  for (int t = 0; t < 10; ++t)
    for (int p = 0; p < 10; ++p) total += r.confusion[t][p], diagonal += t == p ? r.confusion[t][p] : 0;
  EXPECT_EQ(total, 1000);
  EXPECT_NEAR(static_cast<double>(diagonal) / total, r.test_accuracy, 1e-9);
}
