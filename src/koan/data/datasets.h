// Ready-made datasets read from local files (nothing is downloaded from C++).
//
//   auto train = data::fashion_mnist();                   // data/fashion-mnist, 60000 examples
//   auto test = data::fashion_mnist("data/fashion-mnist", /*train=*/false);   // 10000
//   data::Example e = train->get(0);   // input float32 (1, 28, 28) in [0, 1], target int64 label
//
// Get the files with `scripts/get-data fashion-mnist`; when they are missing the IOError says so.
#pragma once
#include <memory>
#include <string>

#include "koan/data/dataset.h"

namespace koan::data {

// Fashion-MNIST (Zalando): 10 classes of 28x28 grey clothing images.
std::shared_ptr<TensorDataset> fashion_mnist(const std::string& root = "data/fashion-mnist", bool train = true);
// The original MNIST digits, same file layout (get-data does not fetch it).
std::shared_ptr<TensorDataset> mnist(const std::string& root = "data/mnist", bool train = true);

// An image/label pair of IDX files: images (N, H, W) uint8 -> float32 (N, 1, H, W) / 255,
// labels (N) uint8 -> int64.  `hint` is appended to the error when a file is missing.
std::shared_ptr<TensorDataset> idx_classification(const std::string& images_path, const std::string& labels_path,
                                                  const std::string& hint = "");

}  // namespace koan::data
