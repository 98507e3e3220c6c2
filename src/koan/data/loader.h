// DataLoader: batches of a dataset, optionally shuffled, produced on background threads.
//
//   data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .num_workers = 2, .seed = 1});
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (const data::Batch& b : loader) {   // each pass is the next epoch
//       Tensor loss = cross_entropy(model(b.input), b.target); ...
//     }
//
// For a given seed the batches are identical whatever num_workers: the epoch's index order is a
// function of (seed, epoch) alone, each batch is a pure function of its indices, and batches are
// handed out in order however the workers finish.  Only one pass may run at a time per loader;
// starting a new one (begin()) abandons the previous pass after its in-flight batches finish.
#pragma once
#include <deque>
#include <future>
#include <memory>

#include "koan/data/dataset.h"
#include "koan/data/thread_pool.h"

namespace koan::data {

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;   // skip a last batch smaller than batch_size
  int num_workers = 0;      // 0: batches are made on the calling thread
  uint64_t seed = 0;        // the shuffle order of epoch e is permutation(n, derive_seed(seed, e))
  int prefetch = 2;         // batches in flight per worker
};

class DataLoader {
 public:
  DataLoader(DatasetPtr dataset, LoaderOptions options = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches per epoch.
  int64_t size() const;
  const LoaderOptions& options() const { return opts_; }
  const DatasetPtr& dataset() const { return ds_; }
  // The epoch the next pass will run (0 at first; each begin() advances it).
  int64_t epoch() const { return next_epoch_; }
  void set_epoch(int64_t epoch) { next_epoch_ = epoch; }
  // The index lists of epoch `epoch`'s batches, in order (the sampler, exposed for tests and logs).
  std::vector<std::vector<int64_t>> batch_indices(int64_t epoch) const;

  class Iterator {
   public:
    using value_type = Batch;
    // By value (two tensor handles, no data copied), so `Batch b = *loader.begin();` and
    // `const Batch& b = *loader.begin();` both outlive the temporary iterator.
    Batch operator*() const { return current_; }
    const Batch* operator->() const { return &current_; }
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return pos_ == o.pos_; }
    bool operator!=(const Iterator& o) const { return pos_ != o.pos_; }

   private:
    friend class DataLoader;
    Iterator(DataLoader* loader, int64_t pos);
    DataLoader* loader_;
    int64_t pos_;
    Batch current_;
  };
  // Starts the next epoch's pass.
  Iterator begin();
  Iterator end();

 private:
  Batch next_batch(int64_t pos);
  void refill();
  void finish_pass();

  DatasetPtr ds_;
  LoaderOptions opts_;
  int64_t next_epoch_ = 0;
  // The running pass: its batches' indices, which are submitted, and their futures in order.
  std::shared_ptr<const std::vector<std::vector<int64_t>>> plan_;
  int64_t submitted_ = 0;
  std::deque<std::future<Batch>> in_flight_;
  std::unique_ptr<ThreadPool> pool_;  // last: joined before the rest goes
};

}  // namespace koan::data
