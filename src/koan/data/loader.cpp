#include "koan/data/loader.h"

namespace koan::data {

DataLoader::DataLoader(DatasetPtr dataset, LoaderOptions options) : ds_(std::move(dataset)), opts_(options) {
  KOAN_CHECK(ds_ != nullptr, ValueError, "DataLoader: the dataset is null");
  KOAN_CHECK(opts_.batch_size >= 1, ValueError, "DataLoader: batch_size must be >= 1, got ", opts_.batch_size);
  KOAN_CHECK(opts_.num_workers >= 0, ValueError, "DataLoader: num_workers must be >= 0, got ", opts_.num_workers);
  KOAN_CHECK(opts_.prefetch >= 1, ValueError, "DataLoader: prefetch must be >= 1, got ", opts_.prefetch);
  if (opts_.num_workers > 0) pool_ = std::make_unique<ThreadPool>(opts_.num_workers);
}

DataLoader::~DataLoader() { finish_pass(); }

int64_t DataLoader::size() const {
  int64_t n = ds_->size(), b = opts_.batch_size;
  return opts_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<std::vector<int64_t>> DataLoader::batch_indices(int64_t epoch) const {
  int64_t n = ds_->size();
  std::vector<int64_t> order;
  if (opts_.shuffle) {
    order = permutation(n, derive_seed(opts_.seed, static_cast<uint64_t>(epoch)));
  } else {
    order.resize(n);
    for (int64_t i = 0; i < n; ++i) order[i] = i;
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t at = 0; at < n; at += opts_.batch_size) {
    int64_t end = std::min(at + opts_.batch_size, n);
    if (end - at < opts_.batch_size && opts_.drop_last) break;
    batches.emplace_back(order.begin() + at, order.begin() + end);
  }
  return batches;
}

void DataLoader::finish_pass() {
  // Tasks of an abandoned pass may still be reading the dataset; let them end before anything
  // (set_epoch, destruction) changes it.
  for (auto& f : in_flight_) f.wait();
  in_flight_.clear();
  plan_.reset();
  submitted_ = 0;
}

void DataLoader::refill() {
  if (!pool_) return;
  auto limit = static_cast<size_t>(opts_.num_workers) * opts_.prefetch;
  while (in_flight_.size() < limit && submitted_ < static_cast<int64_t>(plan_->size())) {
    int64_t b = submitted_++;
    in_flight_.push_back(pool_->submit([ds = ds_, plan = plan_, b] { return ds->get_batch((*plan)[b]); }));
  }
}

Batch DataLoader::next_batch(int64_t pos) {
  if (!pool_) return ds_->get_batch((*plan_)[pos]);
  KOAN_ASSERT(!in_flight_.empty());
  std::future<Batch> f = std::move(in_flight_.front());
  in_flight_.pop_front();
  refill();
  return f.get();  // in order, whichever worker finished first; rethrows a worker's error
}

DataLoader::Iterator DataLoader::begin() {
  finish_pass();
  int64_t epoch = next_epoch_++;
  ds_->set_epoch(epoch);
  plan_ = std::make_shared<const std::vector<std::vector<int64_t>>>(batch_indices(epoch));
  if (plan_->empty()) return end();
  refill();
  return Iterator(this, 0);
}

DataLoader::Iterator DataLoader::end() { return Iterator(nullptr, -1); }

DataLoader::Iterator::Iterator(DataLoader* loader, int64_t pos) : loader_(loader), pos_(pos) {
  if (loader_) current_ = loader_->next_batch(pos_);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  KOAN_CHECK(loader_ != nullptr, ValueError, "DataLoader: incremented past the end");
  current_ = Batch();
  if (++pos_ >= static_cast<int64_t>(loader_->plan_->size())) {
    loader_->finish_pass();
    pos_ = -1;
    loader_ = nullptr;
  } else {
    current_ = loader_->next_batch(pos_);
  }
  return *this;
}

}  // namespace koan::data
