#include "koan/data/datasets.h"

#include <filesystem>

#include "koan/data/idx.h"
#include "koan/ops/binary.h"

namespace koan::data {
namespace {

// `stem` or `stem.gz`, whichever exists (the .gz is preferred: it is what the packages ship).
std::string find_file(const std::string& root, const std::string& stem, const std::string& hint) {
  namespace fs = std::filesystem;
  for (const std::string& name : {stem + ".gz", stem})
    if (fs::exists(fs::path(root) / name)) return (fs::path(root) / name).string();
  throw IOError(str("missing dataset file: neither ", (fs::path(root) / (stem + ".gz")).string(), " nor ",
                    (fs::path(root) / stem).string(), " exists", hint.empty() ? "" : "; ", hint));
}

std::shared_ptr<TensorDataset> idx_pair(const std::string& root, bool train, const std::string& hint) {
  std::string split = train ? "train" : "t10k";
  std::string images = find_file(root, split + "-images-idx3-ubyte", hint);
  auto ds = idx_classification(images, find_file(root, split + "-labels-idx1-ubyte", hint), hint);
  KOAN_CHECK(ds->inputs().size(2) == 28 && ds->inputs().size(3) == 28, IOError, images,
             ": expected 28x28 images, got ", ds->inputs().size(2), "x", ds->inputs().size(3));
  return ds;
}

}  // namespace

std::shared_ptr<TensorDataset> idx_classification(const std::string& images_path, const std::string& labels_path,
                                                  const std::string& hint) {
  for (const std::string& p : {images_path, labels_path})
    KOAN_CHECK(std::filesystem::exists(p), IOError, "missing dataset file ", p, hint.empty() ? "" : "; ", hint);
  Tensor images = read_idx(images_path);
  Tensor labels = read_idx(labels_path);
  KOAN_CHECK(images.dim() == 3 && images.dtype() == DType::UInt8, IOError, images_path,
             ": expected uint8 images (N, H, W), got ", name(images.dtype()), " ", images.shape());
  KOAN_CHECK(labels.dim() == 1 && labels.dtype() == DType::UInt8, IOError, labels_path,
             ": expected uint8 labels (N), got ", name(labels.dtype()), " ", labels.shape());
  KOAN_CHECK(images.size(0) == labels.size(0), IOError, images_path, " holds ", images.size(0), " images but ",
             labels_path, " holds ", labels.size(0), " labels");
  Tensor x = div(images.to(DType::Float32), 255.0).view({images.size(0), 1, images.size(1), images.size(2)});
  return std::make_shared<TensorDataset>(x, labels.to(DType::Int64));
}

std::shared_ptr<TensorDataset> fashion_mnist(const std::string& root, bool train) {
  return idx_pair(root, train, "run scripts/get-data fashion-mnist (from the koan checkout) to install it");
}

std::shared_ptr<TensorDataset> mnist(const std::string& root, bool train) {
  return idx_pair(root, train,
                  "put the four MNIST IDX files (train-/t10k-, images-idx3-/labels-idx1-ubyte[.gz]) there");
}

}  // namespace koan::data
