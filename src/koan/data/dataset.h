// Datasets: indexable collections of (input, target) examples, and their collation into batches.
//
//   auto ds = std::make_shared<data::TensorDataset>(images, labels);   // images (N, ...), labels (N)
//   data::Example e = ds->get(3);                  // images[3], labels[3] (views, no copy)
//   data::Batch b = ds->get_batch({3, 7, 1});      // one index_select per tensor, not 3 copies
//
// A Dataset is read from several threads at once (DataLoader workers, prefetch), so get() and
// get_batch() must be safe to call concurrently; set_epoch() is called only between epochs.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::data {

// One example.  `target` may be undefined for unlabelled data.
struct Example {
  Tensor input;
  Tensor target;
};
// A batch has the same two fields, each with a leading batch dim.
using Batch = Example;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;
  // The examples at `indices`, stacked along a new leading dim.  The default collates get(i) for
  // each index; datasets backed by big tensors override it with one gather per tensor.
  virtual Batch get_batch(const std::vector<int64_t>& indices) const;
  // Datasets whose content depends on the epoch (shuffling, random augmentation) re-derive it
  // here; decorators forward it to the dataset they wrap.  Never called during get().
  virtual void set_epoch(int64_t epoch) {}
  // One line naming the dataset and its decorators, for logs.
  virtual std::string repr() const = 0;
};

using DatasetPtr = std::shared_ptr<Dataset>;

// Stacks the inputs (and targets, if defined) of `examples` along a new leading dim.  All
// inputs must have one shape (pad sequences first); a ShapeError names the first mismatch.
Batch collate(const std::vector<Example>& examples);

// Checks `index` against `size` and wraps negative indices; IndexError names `who`.
int64_t check_index(int64_t index, int64_t size, const char* who);

// Rows of two tensors that share their leading dim: inputs[i], targets[i].
class TensorDataset : public Dataset {
 public:
  // `targets` may be undefined (inputs only).
  TensorDataset(Tensor inputs, Tensor targets = Tensor());
  int64_t size() const override { return n_; }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  std::string repr() const override;
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;
  int64_t n_;
};

// Seeds derived from a base seed and counters (epoch, index, ...): a bijective mix, so distinct
// inputs give unrelated streams.  Everything random in data/ is keyed this way, which is why
// results never depend on how many threads produced them.
uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0);
// A seeded permutation of 0..n-1 (Fisher-Yates on the counter-based Generator).
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

}  // namespace koan::data
