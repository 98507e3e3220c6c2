#include "koan/data/decorators.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <mutex>

#include "koan/data/thread_pool.h"
#include "koan/ops/join.h"

namespace koan::data {
namespace {

// The common shape of a decorator: forwards what it does not change.
class Wrapper : public Dataset {
 public:
  explicit Wrapper(DatasetPtr inner, const char* who) : inner_(std::move(inner)) {
    KOAN_CHECK(inner_ != nullptr, ValueError, who, ": the dataset to wrap is null");
  }
  int64_t size() const override { return inner_->size(); }
  void set_epoch(int64_t epoch) override { inner_->set_epoch(epoch); }

 protected:
  DatasetPtr inner_;
};

class MapDataset : public Wrapper {
 public:
  MapDataset(DatasetPtr inner, ExampleFn fn) : Wrapper(std::move(inner), "map"), fn_(std::move(fn)) {}
  Example get(int64_t i) const override { return fn_(inner_->get(i)); }
  std::string repr() const override { return "Map(" + inner_->repr() + ")"; }

 private:
  ExampleFn fn_;
};

class MapBatchesDataset : public Wrapper {
 public:
  MapBatchesDataset(DatasetPtr inner, BatchFn fn) : Wrapper(std::move(inner), "map_batches"), fn_(std::move(fn)) {}
  Example get(int64_t i) const override {
    Batch b = fn_(inner_->get_batch({i}));
    return {b.input.select(0, 0), b.target.defined() ? b.target.select(0, 0) : Tensor()};
  }
  Batch get_batch(const std::vector<int64_t>& indices) const override { return fn_(inner_->get_batch(indices)); }
  std::string repr() const override { return "MapBatches(" + inner_->repr() + ")"; }

 private:
  BatchFn fn_;
};

class TransformDataset : public Wrapper {
 public:
  TransformDataset(DatasetPtr inner, TensorTransform t, uint64_t seed)
      : Wrapper(std::move(inner), "transform"), t_(std::move(t)), seed_(seed) {}
  Example get(int64_t i) const override {
    Example e = inner_->get(i);
    Generator g(derive_seed(seed_, epoch_, static_cast<uint64_t>(i)));
    e.input = t_(e.input, g);
    return e;
  }
  Batch get_batch(const std::vector<int64_t>& indices) const override {
    Batch b = inner_->get_batch(indices);
    // Keyed by the whole index list: the loader fixes batch composition from its seed, so the
    // same batch gets the same augmentation on any worker.
    uint64_t key = 0x5851f42d4c957f2dULL;
    for (int64_t i : indices) key = derive_seed(key, static_cast<uint64_t>(i));
    Generator g(derive_seed(seed_, epoch_, key));
    b.input = t_(b.input, g);
    return b;
  }
  void set_epoch(int64_t epoch) override {
    epoch_ = epoch;
    inner_->set_epoch(epoch);
  }
  std::string repr() const override { return str("Transform(", inner_->repr(), ", seed=", seed_, ")"); }

 private:
  TensorTransform t_;
  uint64_t seed_;
  int64_t epoch_ = 0;
};

// Subset and shuffle both re-index through a table.
class IndexedDataset : public Wrapper {
 public:
  using Wrapper::Wrapper;
  int64_t size() const override { return static_cast<int64_t>(map_.size()); }
  Example get(int64_t i) const override { return inner_->get(map_[check_index(i, size(), who())]); }
  Batch get_batch(const std::vector<int64_t>& indices) const override {
    std::vector<int64_t> mapped(indices.size());
    for (size_t k = 0; k < indices.size(); ++k) mapped[k] = map_[check_index(indices[k], size(), who())];
    return inner_->get_batch(mapped);
  }

 protected:
  virtual const char* who() const = 0;
  std::vector<int64_t> map_;
};

class SubsetDataset : public IndexedDataset {
 public:
  SubsetDataset(DatasetPtr inner, std::vector<int64_t> indices) : IndexedDataset(std::move(inner), "subset") {
    int64_t n = inner_->size();
    for (int64_t& i : indices) i = check_index(i, n, "subset");
    map_ = std::move(indices);
  }
  std::string repr() const override { return str("Subset(", inner_->repr(), ", size=", map_.size(), ")"); }

 protected:
  const char* who() const override { return "Subset"; }
};

class ShuffleDataset : public IndexedDataset {
 public:
  ShuffleDataset(DatasetPtr inner, uint64_t seed) : IndexedDataset(std::move(inner), "shuffle"), seed_(seed) {
    map_ = permutation(inner_->size(), derive_seed(seed_, 0));
  }
  void set_epoch(int64_t epoch) override {
    inner_->set_epoch(epoch);  // first: the inner size could depend on it
    map_ = permutation(inner_->size(), derive_seed(seed_, static_cast<uint64_t>(epoch)));
  }
  std::string repr() const override { return str("Shuffle(", inner_->repr(), ", seed=", seed_, ")"); }

 protected:
  const char* who() const override { return "Shuffle"; }

 private:
  uint64_t seed_;
};

class BatchDataset : public Wrapper {
 public:
  BatchDataset(DatasetPtr inner, int64_t batch_size, bool drop_last)
      : Wrapper(std::move(inner), "batch"), bs_(batch_size), drop_last_(drop_last) {
    KOAN_CHECK(batch_size >= 1, ValueError, "batch: batch_size must be >= 1, got ", batch_size);
  }
  int64_t size() const override {
    int64_t n = inner_->size();
    return drop_last_ ? n / bs_ : (n + bs_ - 1) / bs_;
  }
  Example get(int64_t i) const override {
    i = check_index(i, size(), "Batch");
    int64_t begin = i * bs_, end = std::min(begin + bs_, inner_->size());
    std::vector<int64_t> idx(end - begin);
    for (int64_t k = begin; k < end; ++k) idx[k - begin] = k;
    return inner_->get_batch(idx);
  }
  std::string repr() const override {
    return str("Batch(", inner_->repr(), ", batch_size=", bs_, drop_last_ ? ", drop_last" : "", ")");
  }

 private:
  int64_t bs_;
  bool drop_last_;
};

class ConcatDataset : public Dataset {
 public:
  explicit ConcatDataset(std::vector<DatasetPtr> parts) : parts_(std::move(parts)) {
    KOAN_CHECK(!parts_.empty(), ValueError, "concat: needs at least one dataset");
    for (size_t k = 0; k < parts_.size(); ++k)
      KOAN_CHECK(parts_[k] != nullptr, ValueError, "concat: dataset ", k, " is null");
    recount();
  }
  int64_t size() const override { return ends_.back(); }
  Example get(int64_t i) const override {
    auto [part, local] = locate(check_index(i, size(), "Concat"));
    return parts_[part]->get(local);
  }
  Batch get_batch(const std::vector<int64_t>& indices) const override {
    KOAN_CHECK(!indices.empty(), ValueError, "Concat::get_batch: no indices");
    // Runs of indices that fall in one part go down as one get_batch; the runs are joined.
    std::vector<Batch> runs;
    size_t k = 0;
    while (k < indices.size()) {
      auto [part, local] = locate(check_index(indices[k], size(), "Concat"));
      std::vector<int64_t> run{local};
      for (++k; k < indices.size(); ++k) {
        auto [p, l] = locate(check_index(indices[k], size(), "Concat"));
        if (p != part) break;
        run.push_back(l);
      }
      runs.push_back(parts_[part]->get_batch(run));
    }
    if (runs.size() == 1) return runs[0];
    std::vector<Tensor> inputs, targets;
    for (const Batch& b : runs) {
      inputs.push_back(b.input);
      if (b.target.defined()) targets.push_back(b.target);
    }
    KOAN_CHECK(targets.empty() || targets.size() == runs.size(), ValueError,
               "Concat::get_batch: some parts have targets and some do not");
    return {cat(inputs, 0), targets.empty() ? Tensor() : cat(targets, 0)};
  }
  void set_epoch(int64_t epoch) override {
    for (auto& p : parts_) p->set_epoch(epoch);
    recount();
  }
  std::string repr() const override {
    std::string s = "Concat(";
    for (size_t k = 0; k < parts_.size(); ++k) s += (k ? ", " : "") + parts_[k]->repr();
    return s + ")";
  }

 private:
  void recount() {
    ends_.clear();
    int64_t total = 0;
    for (auto& p : parts_) ends_.push_back(total += p->size());
  }
  std::pair<size_t, int64_t> locate(int64_t i) const {
    size_t part = std::upper_bound(ends_.begin(), ends_.end(), i) - ends_.begin();
    return {part, i - (part ? ends_[part - 1] : 0)};
  }
  std::vector<DatasetPtr> parts_;
  std::vector<int64_t> ends_;
};

class PrefetchDataset : public Wrapper {
 public:
  PrefetchDataset(DatasetPtr inner, int num_threads, int64_t ahead)
      : Wrapper(std::move(inner), "prefetch"), ahead_(ahead) {
    KOAN_CHECK(num_threads >= 1 && ahead >= 1, ValueError, "prefetch: needs num_threads >= 1 and ahead >= 1, got ",
               num_threads, " and ", ahead);
    pool_ = std::make_unique<ThreadPool>(num_threads);
  }
  ~PrefetchDataset() override { drain(); }

  Example get(int64_t i) const override {
    int64_t n = size();
    i = check_index(i, n, "Prefetch");
    std::shared_future<Example> mine;
    {
      std::lock_guard lock(mu_);
      if (auto it = pending_.find(i); it != pending_.end()) {
        mine = it->second;
        pending_.erase(it);
      }
      for (int64_t j = i + 1; j <= i + ahead_ && j < n; ++j)
        if (!pending_.count(j)) {
          const Dataset* ds = inner_.get();  // pool_ is joined before inner_ goes
          pending_[j] = pool_->submit([ds, j] { return ds->get(j); }).share();
        }
      // Random access leaves stale entries behind; keep the table bounded.
      while (static_cast<int64_t>(pending_.size()) > 4 * ahead_) pending_.erase(pending_.begin());
    }
    return mine.valid() ? mine.get() : inner_->get(i);
  }
  Batch get_batch(const std::vector<int64_t>& indices) const override { return inner_->get_batch(indices); }
  void set_epoch(int64_t epoch) override {
    drain();  // no background read may overlap the inner dataset changing
    inner_->set_epoch(epoch);
  }
  std::string repr() const override {
    return str("Prefetch(", inner_->repr(), ", threads=", pool_->size(), ", ahead=", ahead_, ")");
  }

 private:
  void drain() {
    std::lock_guard lock(mu_);
    for (auto& [j, f] : pending_) f.wait();
    pending_.clear();
  }
  int64_t ahead_;
  mutable std::mutex mu_;
  mutable std::map<int64_t, std::shared_future<Example>> pending_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace

DatasetPtr map(DatasetPtr ds, ExampleFn fn) { return std::make_shared<MapDataset>(std::move(ds), std::move(fn)); }
DatasetPtr map_batches(DatasetPtr ds, BatchFn fn) {
  return std::make_shared<MapBatchesDataset>(std::move(ds), std::move(fn));
}
DatasetPtr transform(DatasetPtr ds, TensorTransform t, uint64_t seed) {
  return std::make_shared<TransformDataset>(std::move(ds), std::move(t), seed);
}
DatasetPtr shuffle(DatasetPtr ds, uint64_t seed) { return std::make_shared<ShuffleDataset>(std::move(ds), seed); }
DatasetPtr batch(DatasetPtr ds, int64_t batch_size, bool drop_last) {
  return std::make_shared<BatchDataset>(std::move(ds), batch_size, drop_last);
}
DatasetPtr prefetch(DatasetPtr ds, int num_threads, int64_t ahead) {
  return std::make_shared<PrefetchDataset>(std::move(ds), num_threads, ahead);
}
DatasetPtr subset(DatasetPtr ds, std::vector<int64_t> indices) {
  return std::make_shared<SubsetDataset>(std::move(ds), std::move(indices));
}
DatasetPtr concat(std::vector<DatasetPtr> parts) { return std::make_shared<ConcatDataset>(std::move(parts)); }

std::vector<DatasetPtr> random_split(DatasetPtr ds, const std::vector<double>& sizes, uint64_t seed) {
  KOAN_CHECK(ds != nullptr, ValueError, "random_split: the dataset is null");
  KOAN_CHECK(!sizes.empty(), ValueError, "random_split: no sizes given");
  int64_t n = ds->size();
  double total = 0;
  bool whole = true;
  for (double s : sizes) {
    KOAN_CHECK(s >= 0 && std::isfinite(s), ValueError, "random_split: sizes must be non-negative, got ", sizes);
    total += s;
    whole = whole && s == std::floor(s);
  }
  std::vector<int64_t> lengths;
  if (whole && total == static_cast<double>(n)) {
    for (double s : sizes) lengths.push_back(static_cast<int64_t>(s));
  } else {
    KOAN_CHECK(std::abs(total - 1.0) < 1e-9, ValueError, "random_split: sizes ", sizes,
               " are neither lengths summing to the dataset size ", n, " nor fractions summing to 1");
    int64_t used = 0;
    for (double f : sizes) used += lengths.emplace_back(static_cast<int64_t>(std::floor(f * n)));
    for (size_t k = 0; used < n; k = (k + 1) % lengths.size(), ++used) ++lengths[k];
  }
  std::vector<int64_t> perm = permutation(n, derive_seed(seed, 0x5B117));
  std::vector<DatasetPtr> parts;
  int64_t at = 0;
  for (int64_t len : lengths) {
    parts.push_back(subset(ds, std::vector<int64_t>(perm.begin() + at, perm.begin() + at + len)));
    at += len;
  }
  return parts;
}

}  // namespace koan::data
