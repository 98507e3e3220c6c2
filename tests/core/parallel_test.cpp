// koan's compute pool behind parallel_for: every chunk exactly once whatever the thread count,
// exceptions reach the caller, nested calls run inline, resizing, and a worker that never shows
// up (or is stuck in another job) cannot stop a caller from finishing.  No timing anywhere: the
// stuck workers are held by latches the test releases.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "koan/core/compute_pool.h"
#include "support/testing.h"

namespace koan {
namespace {

// A flag one thread waits on until another opens it.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(Parallel, EveryElementExactlyOnceInContiguousChunks) {
  NumThreadsGuard restore(get_num_threads());
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(100), int64_t(4097), int64_t(1) << 20}) {
      for (int64_t grain : {int64_t(1), int64_t(1000), kParallelGrain}) {
        std::vector<std::atomic<int>> seen(n);
        std::mutex mu;
        std::vector<std::pair<int64_t, int64_t>> chunks;
        const int64_t begin = 5;
        parallel_for(begin, begin + n, grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) seen[i - begin].fetch_add(1);
          std::lock_guard lock(mu);
          chunks.emplace_back(b, e);
        });
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(seen[i].load(), 1) << "element " << i << " n=" << n << " grain=" << grain
                                       << " threads=" << threads;
        const int64_t expected = std::clamp<int64_t>(n / grain, 1, threads);
        EXPECT_EQ(int64_t(chunks.size()), expected) << "n=" << n << " grain=" << grain;
        std::sort(chunks.begin(), chunks.end());
        for (size_t c = 0; c < chunks.size(); ++c) {
          EXPECT_LT(chunks[c].first, chunks[c].second);
          EXPECT_EQ(chunks[c].first, c == 0 ? begin : chunks[c - 1].second);
        }
      }
    }
  }
}

TEST(Parallel, ChunkBoundariesDependOnTheThreadCountOnlyThroughTheChunkCount) {
  // The same split at a given thread count, run after run: whichever thread runs a chunk.
  NumThreadsGuard restore(get_num_threads());
  set_num_threads(3);
  auto bounds = [] {
    std::mutex mu;
    std::set<std::pair<int64_t, int64_t>> s;
    parallel_for(0, 1000003, 1, [&](int64_t b, int64_t e) {
      std::lock_guard lock(mu);
      s.emplace(b, e);
    });
    return s;
  };
  const auto first = bounds();
  EXPECT_EQ(first.size(), 3u);
  for (int rep = 0; rep < 50; ++rep) EXPECT_EQ(bounds(), first);
}

TEST(Parallel, ResultsIdenticalAtAnyThreadCount) {
  NumThreadsGuard restore(get_num_threads());
  Generator g(5);
  Tensor x = randn({3, 400001}, {}, &g);
  std::vector<Tensor> results;
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    results.push_back(stack({sum(x), mean(mul(x, x)), logsumexp(x, {1}).sum()}));
  }
  for (size_t i = 1; i < results.size(); ++i) EXPECT_TRUE(equal(results[0], results[i])) << i;
}

TEST(Parallel, FirstExceptionReachesTheCallerAndThePoolStaysUsable) {
  NumThreadsGuard restore(get_num_threads());
  for (int threads : {2, 3, 8}) {
    set_num_threads(threads);
    for (int bad = 0; bad < threads; ++bad) {
      std::atomic<int> ran{0};
      try {
        parallel_for(0, threads, 1, [&](int64_t b, int64_t) {
          ran.fetch_add(1);
          if (b == bad) throw ValueError("chunk " + std::to_string(b) + " failed");
        });
        ADD_FAILURE() << "no exception, threads=" << threads << " bad=" << bad;
      } catch (const ValueError& e) {
        EXPECT_EQ(std::string(e.what()), "chunk " + std::to_string(bad) + " failed");
      }
      EXPECT_GE(ran.load(), 1);
      EXPECT_FALSE(in_parallel_region());
    }
    // Every chunk throws: one exception, one of theirs.
    EXPECT_THROW(parallel_for(0, threads, 1, [](int64_t, int64_t) { throw std::runtime_error("all"); }),
                 std::runtime_error);
    std::atomic<int64_t> total{0};
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) { total += e - b; });
    EXPECT_EQ(total.load(), 1000);
  }
}

TEST(Parallel, NestedCallsRunInlineOnTheChunksThread) {
  NumThreadsGuard restore(get_num_threads());
  set_num_threads(3);
  EXPECT_FALSE(in_parallel_region());
  std::atomic<int> outer{0}, inner_chunks{0}, wrong_thread{0}, not_in_region{0};
  parallel_for(0, 3, 1, [&](int64_t, int64_t) {
    outer.fetch_add(1);
    if (!in_parallel_region()) not_in_region.fetch_add(1);
    const auto me = std::this_thread::get_id();
    parallel_for(0, 1 << 20, 1, [&](int64_t b, int64_t e) {
      inner_chunks.fetch_add(1);
      if (std::this_thread::get_id() != me) wrong_thread.fetch_add(1);
      EXPECT_EQ(b, 0);
      EXPECT_EQ(e, 1 << 20);
    });
  });
  EXPECT_EQ(outer.load(), 3);
  EXPECT_EQ(inner_chunks.load(), 3);
  EXPECT_EQ(wrong_thread.load(), 0);
  EXPECT_EQ(not_in_region.load(), 0);
  EXPECT_FALSE(in_parallel_region());
}

TEST(Parallel, SetNumThreadsResizesThePool) {
  NumThreadsGuard restore(get_num_threads());
  set_num_threads(8);
  EXPECT_EQ(get_num_threads(), 8);
  parallel_for(0, 8, 1, [](int64_t, int64_t) {});  // workers start when a loop needs them
  EXPECT_EQ(detail::pool_workers(), 7);
  set_num_threads(3);
  EXPECT_EQ(detail::pool_workers(), 2);
  std::set<std::thread::id> ids;
  std::mutex mu;
  for (int rep = 0; rep < 20; ++rep)
    parallel_for(0, 3, 1, [&](int64_t, int64_t) {
      std::lock_guard lock(mu);
      ids.insert(std::this_thread::get_id());
    });
  EXPECT_LE(ids.size(), 3u);
  // One thread for this caller; the workers stay for other threads.
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  EXPECT_EQ(detail::pool_workers(), 2);
  set_num_threads(0);
  EXPECT_EQ(get_num_threads(), 1) << "at least one thread";
  // The count is per thread, as OpenMP's was: another thread starts from the default.
  int other = 0;
  std::thread([&] { other = get_num_threads(); }).join();
  EXPECT_GE(other, 1);
}

// Workers started while this test holds the start hook wait at the gate before taking any job.
Gate* g_start_gate = nullptr;
void wait_at_gate() { g_start_gate->wait(); }

TEST(Parallel, CallerFinishesAloneWhenNoWorkerShowsUp) {
  NumThreadsGuard restore(get_num_threads());
  set_num_threads(1);
  detail::resize_pool(0);
  // Never freed: released workers may still be leaving wait() after the test (one per run, kept
  // reachable through g_start_gate).
  g_start_gate = new Gate;
  Gate& gate = *g_start_gate;
  detail::StartHook saved = detail::set_worker_start_hook(wait_at_gate);
  set_num_threads(4);  // the loop below starts three workers, all held at the gate
  const auto me = std::this_thread::get_id();
  std::atomic<int> chunks{0}, elsewhere{0};
  parallel_for(0, 4, 1, [&](int64_t, int64_t) {
    chunks.fetch_add(1);
    if (std::this_thread::get_id() != me) elsewhere.fetch_add(1);
  });
  EXPECT_EQ(detail::pool_workers(), 3);
  EXPECT_EQ(chunks.load(), 4);
  EXPECT_EQ(elsewhere.load(), 0) << "no worker passed the gate, so the caller ran every chunk";
  gate.open();
  detail::set_worker_start_hook(saved);
  std::atomic<int> after{0};
  parallel_for(0, 4, 1, [&](int64_t, int64_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 4);
}

TEST(Parallel, AWorkerStuckInAnotherThreadsJobDoesNotBlockThisCaller) {
  NumThreadsGuard restore(get_num_threads());
  set_num_threads(2);  // one worker
  // A local: other.join() below returns only after the other job's chunks are done, the
  // worker's wait() included, so nothing touches the gate after this scope (a fresh one per
  // run keeps --gtest_repeat meaningful).
  Gate release;
  std::atomic<bool> worker_stuck{false};
  // Another thread's job whose chunk on a pool worker blocks until released; its own chunk waits
  // until the worker is inside the other, so the job is certain to hold the only worker.
  std::thread other([&] {
    NumThreadsGuard two(2);
    const auto me = std::this_thread::get_id();
    parallel_for(0, 2, 1, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() == me) {
        while (!worker_stuck.load()) std::this_thread::yield();
      } else {
        worker_stuck.store(true);
        release.wait();
      }
    });
  });
  while (!worker_stuck.load()) std::this_thread::yield();
  std::atomic<int64_t> total{0};
  parallel_for(0, 1 << 20, 1, [&](int64_t b, int64_t e) { total += e - b; });
  EXPECT_EQ(total.load(), 1 << 20);
  Tensor x = ones({1 << 20});
  EXPECT_EQ(sum(x).item<float>(), float(1 << 20));
  release.open();
  other.join();
}

TEST(Parallel, ConcurrentCallersAllFinishWithTheirOwnResults) {
  NumThreadsGuard restore(get_num_threads());
  set_num_threads(3);
  std::vector<std::thread> callers;
  std::vector<int64_t> totals(4, 0);
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      NumThreadsGuard three(3);
      for (int rep = 0; rep < 200; ++rep) {
        std::atomic<int64_t> total{0};
        parallel_for(0, 3000 + t, 1, [&](int64_t b, int64_t e) { total += e - b; });
        totals[t] += total.load();
      }
    });
  for (auto& c : callers) c.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(totals[t], 200 * (3000 + t));
}

}  // namespace
}  // namespace koan
