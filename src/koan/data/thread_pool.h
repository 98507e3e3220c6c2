// A small fixed pool of background threads for the data pipeline (DataLoader workers, prefetch).
//
//   data::ThreadPool pool(3);
//   std::future<Batch> f = pool.submit([&] { return ds->get_batch(idx); });
//   Batch b = f.get();              // rethrows the task's exception, if any
//
// Kept apart from koan's compute pool (core/compute_pool.h) that kernels use: loading overlaps
// compute instead of competing for the same threads.  The destructor drops tasks not yet started and joins.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace koan::data {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()); }

  template <class F>
  auto submit(F&& f) -> std::future<decltype(f())> {
    using R = decltype(f());
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
    std::future<R> result = task->get_future();
    push([task] { (*task)(); });
    return result;
  }

 private:
  void push(std::function<void()> job);
  void loop();

  std::vector<std::thread> threads_;
  std::deque<std::function<void()>> jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace koan::data
