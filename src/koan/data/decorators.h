// Dataset decorators: each wraps a dataset and is itself a dataset, so they compose.
//
//   auto train = data::fashion_mnist("data/fashion-mnist", true);
//   auto [fit, val] = data::split2(data::random_split(train, {0.9, 0.1}, /*seed=*/1));
//   auto aug = data::transform(fit, [](const Tensor& x, Generator& g) {
//     return data::transforms::random_horizontal_flip(x, g);
//   }, /*seed=*/7);
//   auto batches = data::prefetch(data::batch(data::shuffle(aug, 3), 64), /*threads=*/2);
//   for (int64_t i = 0; i < batches->size(); ++i) { Batch b = batches->get(i); ... }
//
// Decorators keep the gather fast path: subset, shuffle, concat and transform forward
// get_batch() to the dataset they wrap (re-mapping indices), so a TensorDataset underneath still
// collates with one index_select per batch.
#pragma once
#include <functional>
#include <utility>

#include "koan/data/dataset.h"
#include "koan/tensor/random.h"

namespace koan::data {

using ExampleFn = std::function<Example(Example)>;
using BatchFn = std::function<Batch(Batch)>;
// A (possibly random) transform of one input (C, H, W) or a batch (N, C, H, W).
using TensorTransform = std::function<Tensor(const Tensor&, Generator&)>;

// fn applied to each example (get_batch collates fn's results).
DatasetPtr map(DatasetPtr ds, ExampleFn fn);
// fn applied to whole batches (vectorised); get(i) runs it on a batch of one.
DatasetPtr map_batches(DatasetPtr ds, BatchFn fn);
// t applied to the input of examples and of batches (targets pass through).  The Generator it
// receives is seeded from (seed, epoch, the indices requested), so augmentation differs each
// epoch yet is reproducible, whichever thread runs it.
DatasetPtr transform(DatasetPtr ds, TensorTransform t, uint64_t seed = 0);
// A seeded permutation of ds, a different one each epoch (set_epoch, which DataLoader calls).
DatasetPtr shuffle(DatasetPtr ds, uint64_t seed);
// Consecutive groups of batch_size examples, each collated (get(i) is the i-th batch).  The last
// batch is smaller unless drop_last.
DatasetPtr batch(DatasetPtr ds, int64_t batch_size, bool drop_last = false);
// Computes the next `ahead` items on `num_threads` background threads while the caller uses
// the current one: sequential get(i) calls then rarely wait.  Results equal ds->get(i).
DatasetPtr prefetch(DatasetPtr ds, int num_threads = 1, int64_t ahead = 4);
// The examples of ds at `indices`, in that order.
DatasetPtr subset(DatasetPtr ds, std::vector<int64_t> indices);
// Disjoint random subsets covering ds.  `sizes` are lengths summing to ds->size(), or fractions
// summing to 1 (floor of each, the remainder handed out one by one from the first, as torch).
std::vector<DatasetPtr> random_split(DatasetPtr ds, const std::vector<double>& sizes, uint64_t seed);
// The parts one after the other.
DatasetPtr concat(std::vector<DatasetPtr> parts);

// Unpacks a two-way split: auto [train, val] = split2(random_split(ds, {0.8, 0.2}, 0)).
inline std::pair<DatasetPtr, DatasetPtr> split2(std::vector<DatasetPtr> parts) {
  KOAN_CHECK(parts.size() == 2, ValueError, "split2: expects 2 parts, got ", parts.size());
  return {parts[0], parts[1]};
}

}  // namespace koan::data
