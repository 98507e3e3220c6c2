#include "koan/data/dataset.h"

#include "koan/ops/index.h"
#include "koan/ops/join.h"
#include "koan/tensor/creation.h"

namespace koan::data {

int64_t check_index(int64_t index, int64_t size, const char* who) {
  KOAN_CHECK(index >= -size && index < size, IndexError, who, ": index ", index,
             " is out of range for a dataset of size ", size);
  return index < 0 ? index + size : index;
}

Batch Dataset::get_batch(const std::vector<int64_t>& indices) const {
  std::vector<Example> examples;
  examples.reserve(indices.size());
  for (int64_t i : indices) examples.push_back(get(i));
  return collate(examples);
}

Batch collate(const std::vector<Example>& examples) {
  KOAN_CHECK(!examples.empty(), ValueError, "collate: no examples to collate");
  bool has_target = examples[0].target.defined();
  std::vector<Tensor> inputs, targets;
  inputs.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    KOAN_CHECK(e.input.defined(), ValueError, "collate: example ", i, " has no input");
    KOAN_CHECK(e.input.shape() == examples[0].input.shape(), ShapeError, "collate: example ", i,
               " has input shape ", e.input.shape(), " but example 0 has ", examples[0].input.shape(),
               " (pad or crop examples to one shape before batching)");
    KOAN_CHECK(e.target.defined() == has_target, ValueError, "collate: example ", i,
               has_target ? " has no target but example 0 has one" : " has a target but example 0 has none");
    inputs.push_back(e.input);
    if (has_target) {
      KOAN_CHECK(e.target.shape() == examples[0].target.shape(), ShapeError, "collate: example ", i,
                 " has target shape ", e.target.shape(), " but example 0 has ", examples[0].target.shape());
      targets.push_back(e.target);
    }
  }
  return {stack(inputs, 0), has_target ? stack(targets, 0) : Tensor()};
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets)
    : inputs_(std::move(inputs)), targets_(std::move(targets)) {
  KOAN_CHECK(inputs_.defined() && inputs_.dim() >= 1, ShapeError,
             "TensorDataset: inputs need a leading example dim, got ",
             inputs_.defined() ? str(inputs_.shape()) : std::string("an undefined tensor"));
  n_ = inputs_.size(0);
  if (targets_.defined())
    KOAN_CHECK(targets_.dim() >= 1 && targets_.size(0) == n_, ShapeError, "TensorDataset: inputs ",
               inputs_.shape(), " and targets ", targets_.shape(), " differ in their leading dim");
}

Example TensorDataset::get(int64_t index) const {
  index = check_index(index, n_, "TensorDataset::get");
  return {inputs_.select(0, index), targets_.defined() ? targets_.select(0, index) : Tensor()};
}

Batch TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  KOAN_CHECK(!indices.empty(), ValueError, "TensorDataset::get_batch: no indices");
  std::vector<int64_t> idx(indices);
  for (int64_t& i : idx) i = check_index(i, n_, "TensorDataset::get_batch");
  // One gather per tensor: a batch of 256 MNIST images is one kernel call, not 256 copies.
  Tensor index = from_vector(idx);
  return {index_select(inputs_, 0, index), targets_.defined() ? index_select(targets_, 0, index) : Tensor()};
}

std::string TensorDataset::repr() const {
  std::string s = str("TensorDataset(inputs=", inputs_.shape(), " ", name(inputs_.dtype()));
  if (targets_.defined()) s += str(", targets=", targets_.shape(), " ", name(targets_.dtype()));
  return s + ")";
}

namespace {
uint64_t mix(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b) {
  return mix(mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ (a + 0x632be59bd9b4e019ULL)) ^ (b + 0x2545f4914f6cdd1dULL));
}

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  Generator g(seed);
  uint64_t base = g.reserve(n > 0 ? n : 0);
  for (int64_t i = n - 1; i > 0; --i) {
    // Lemire's multiply-shift maps 64 random bits to [0, i] without a division.
    auto j = static_cast<int64_t>((static_cast<unsigned __int128>(g.bits(base + i)) * (i + 1)) >> 64);
    std::swap(p[i], p[j]);
  }
  return p;
}

}  // namespace koan::data
