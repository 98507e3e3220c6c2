// fashion_mnist(): on a small generated copy of its file layout always, and on the real data
// when scripts/get-data has installed it (otherwise the test checks the error that says how).
#include <gtest/gtest.h>

#include <filesystem>

#include "data/data_test_util.h"
#include "koan/koan.h"

using namespace koan;
using namespace koan::data;
using koan::data::testing::TempDir;
using koan::data::testing::throws_with;

TEST(FashionMnist, LoadsTheIdxLayoutScaledToUnitRange) {
  TempDir dir("fmnist_small");
  Generator g(8);
  Tensor images = randint(0, 256, {6, 28, 28}, DType::Int64, &g).to(DType::UInt8);
  images.at<uint8_t>({0, 0, 0}) = 255;
  Tensor labels = tensor({3, 1, 4, 1, 5, 9}).to(DType::UInt8);
  write_idx(dir.file("t10k-images-idx3-ubyte.gz"), images, true);
  write_idx(dir.file("t10k-labels-idx1-ubyte"), labels);  // raw works too

  auto ds = fashion_mnist(dir.str(), /*train=*/false);
  ASSERT_EQ(ds->size(), 6);
  EXPECT_EQ(ds->inputs().shape(), Shape({6, 1, 28, 28}));
  EXPECT_EQ(ds->inputs().dtype(), DType::Float32);
  EXPECT_EQ(ds->targets().dtype(), DType::Int64);
  EXPECT_EQ(ds->targets().to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 4, 1, 5, 9}));
  EXPECT_FLOAT_EQ(ds->get(0).input.at<float>({0, 0, 0}), 1.f);
  EXPECT_TRUE(allclose(ds->inputs().view({6, 28, 28}), div(images.to(DType::Float32), 255.0)));

  // The train files are missing here: the error names them and the command that installs them.
  EXPECT_TRUE(throws_with<IOError>([&] { fashion_mnist(dir.str(), true); },
                                   {"train-images-idx3-ubyte", "scripts/get-data fashion-mnist"}));
  // Mismatched counts are caught.
  write_idx(dir.file("t10k-labels-idx1-ubyte"), tensor({1, 2}).to(DType::UInt8));
  EXPECT_TRUE(throws_with<IOError>([&] { fashion_mnist(dir.str(), false); }, {"6 images", "2 labels"}));
}

// The real files, at the checkout's data/fashion-mnist.
TEST(FashionMnist, RealDataWhenInstalled) {
  std::string root = std::string(KOAN_FIXTURE_DIR) + "/../../data/fashion-mnist";
  bool present = std::filesystem::exists(root + "/train-images-idx3-ubyte.gz") ||
                 std::filesystem::exists(root + "/train-images-idx3-ubyte");
  if (!present) {
    std::cout << "[ note ] " << root << " not found: checking the error only (scripts/get-data fashion-mnist)\n";
    EXPECT_TRUE(throws_with<IOError>([&] { fashion_mnist(root); }, {"scripts/get-data fashion-mnist"}));
    return;
  }
  auto train = fashion_mnist(root, true);
  auto test = fashion_mnist(root, false);
  EXPECT_EQ(train->size(), 60000);
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(train->inputs().shape(), Shape({60000, 1, 28, 28}));
  EXPECT_GE(amin(train->inputs()).item<float>(), 0.f);
  EXPECT_LE(amax(train->inputs()).item<float>(), 1.f);
  // Fashion-MNIST is balanced: 6000 training images per class.
  Tensor counts = sum(one_hot(train->targets(), 10), {0});
  EXPECT_EQ(counts.to_vector<int64_t>(), std::vector<int64_t>(10, 6000));
}
