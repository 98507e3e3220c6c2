// Project 2 (examples/logistic_regression): two-class selection, and both classifiers learning on
// a slice of Fashion-MNIST (from data/fashion-mnist, or where Debian's dataset-fashion-mnist puts
// it: scripts/setup installs it for the tests).
#include <gtest/gtest.h>

#include "koan/koan.h"
#include "logistic_regression/logistic_regression.h"
#include "support/testing.h"

using namespace koan;
using namespace koan::examples;

TEST(LogisticRegression, TwoClassesKeepsOnlyThosePairsLabelledZeroOne) {
  FashionData d;
  d.train = {reshape(arange(12, DType::Float32), {6, 2}), tensor({3, 0, 6, 6, 1, 0})};
  d.test = {reshape(arange(4, DType::Float32), {2, 2}), tensor({6, 2})};
  FashionData p = two_classes(d, 0, 6);
  EXPECT_EQ(p.train.y.to_vector<float>(), (std::vector<float>{0, 1, 1, 0}));
  EXPECT_EQ(p.train.x.to_vector<float>(), (std::vector<float>{2, 3, 4, 5, 6, 7, 10, 11}));
  EXPECT_EQ(p.test.y.to_vector<float>(), (std::vector<float>{1}));
  EXPECT_THROW(two_classes(d, 3, 3), ValueError);
}

TEST(LogisticRegression, BothClassifiersLearnOnASlice) {
  // One thread: these steps are tiny, too small for a second thread to pay for its wake-ups.
  NumThreadsGuard one_thread(1);
  std::string root = koan::testing::fashion_mnist_root();
  // The 10 000 test images only (decoding the 60 000 training images would dominate the test):
  // the first 3000 train, the next 1000 test.
  auto images = data::fashion_mnist(root, /*train=*/false);
  Tensor x = reshape(images->inputs(), {images->size(), -1});
  FashionData all{{narrow(x, 0, 0, 3000), narrow(images->targets(), 0, 0, 3000)},
                  {narrow(x, 0, 3000, 1000), narrow(images->targets(), 0, 3000, 1000)}};
  ASSERT_EQ(all.train.x.shape(), Shape({3000, 784}));

  // Ten classes, three epochs: far above chance (10%).
  RunResult soft = train_linear_classifier(all.train, all.test, {.optimizer = "adam", .epochs = 3, .verbose = 0});
  EXPECT_GT(soft.test_accuracy, 0.65);
  EXPECT_EQ(soft.history.epochs(), 3u);

  // T-shirt/top vs Trouser is nearly separable: a working logistic regression gets it right,
  // and the accuracy counts a logit above 0 as the positive class.
  FashionData two = two_classes(all, 0, 1);
  RunResult bin = train_linear_classifier(two.train, two.test,
                                          {.classes = 2, .optimizer = "sgd", .epochs = 5, .verbose = 0});
  EXPECT_GT(bin.test_accuracy, 0.93);
  EXPECT_LT(bin.test_loss, 0.25);
}
