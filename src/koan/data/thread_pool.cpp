#include "koan/data/thread_pool.h"

#include "koan/core/error.h"
#include "koan/core/parallel.h"

namespace koan::data {

ThreadPool::ThreadPool(int num_threads) {
  KOAN_CHECK(num_threads >= 1, ValueError, "ThreadPool: needs at least 1 thread, got ", num_threads);
  threads_.reserve(num_threads);
  for (int i = 0; i < num_threads; ++i)
    threads_.emplace_back([this] {
      // Ops called here run their kernels on this thread alone (koan's thread count is per
      // thread): the workers' parallelism is the pool itself, and the compute pool stays free for
      // the model's compute on the main thread.  Results do not change: kernels are
      // thread-count independent.
      set_num_threads(1);
      loop();
    });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    // Dropping a packaged_task that never ran makes its future report broken_promise, which is
    // what a consumer still waiting on it should see.
    jobs_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::push(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ThreadPool::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();  // packaged_task stores any exception in its future
  }
}

}  // namespace koan::data
