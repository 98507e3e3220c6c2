#include "koan/core/compute_pool.h"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace koan::detail {
namespace {

// How long an idle thread spins before it sleeps: long enough to cover the gap between the
// parallel loops of one op or one small step, short enough that an idle worker does not steal a
// busy machine's time (OpenMP's default spins for milliseconds).  KOAN_SPIN_US overrides it
// (0: sleep at once), for measuring.
const std::chrono::microseconds kSpin = [] {
  const char* v = std::getenv("KOAN_SPIN_US");
  return std::chrono::microseconds(v ? std::max(0, std::atoi(v)) : 50);
}();

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Sleep until *word != expected (or a spurious wake-up); wake up to n sleepers.
void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
#if defined(__linux__)
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
#else
  word.wait(expected);
#endif
}
void futex_wake(std::atomic<uint32_t>& word, int n) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
#else
  if (n == 1) word.notify_one(); else word.notify_all();
#endif
}

template <class Pred>
bool spin_until(Pred ready) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 32 == 0 && std::chrono::steady_clock::now() - start > kSpin) return ready();
  }
}

thread_local bool t_in_chunk = false;

struct ChunkScope {
  bool saved = t_in_chunk;
  ChunkScope() { t_in_chunk = true; }
  ~ChunkScope() { t_in_chunk = saved; }
};

// The job word: job number (32 bits) | per-worker flag (1) | chunk count (9) | front (9) | back (9).
// The chunks not yet claimed are [front, back).  Claiming one is one compare-and-swap on the word,
// so a thread still looking at an old job can never claim a chunk of a newer one, and the chunk
// count it reads belongs to the job it claims.  The caller claims from the front and the workers
// from the back: with as many chunks as threads (parallel_for's split) each thread then runs the
// same part of the data from one call to the next, and that part stays in its core's cache.  When
// both claimed from one counter, chunk 0 changed threads in 35-55% of the calls on two cores, and a
// momentum update of 200 000 floats held in L2 took 41-49 us instead of 31 (its data crossed
// between the cores).
struct JobWord {
  uint32_t job;
  bool per_worker;
  uint32_t chunks, front, back;
  static JobWord unpack(uint64_t s) {
    return {uint32_t(s >> 32), bool(s >> 31 & 1), uint32_t(s >> 18) & 0x1ff, uint32_t(s >> 9) & 0x1ff,
            uint32_t(s) & 0x1ff};
  }
  uint64_t pack() const {
    return uint64_t(job) << 32 | uint64_t(per_worker) << 31 | uint64_t(chunks) << 18 | uint64_t(front) << 9 |
           back;
  }
};
constexpr int kMaxChunks = 0x1ff;  // parallel_for makes at most one chunk per thread (256)

class Pool {
 public:
  ~Pool() {
    std::lock_guard lock(dispatch_);
    shut_down_ = true;
    resize_locked(0);
  }

  void run(int chunks, ChunkFn fn, void* ctx) {
    std::unique_lock lock(dispatch_, std::try_to_lock);
    if (!lock || shut_down_ || chunks > kMaxChunks) {
      // Another thread's job holds the pool: the same chunks, here, one after another.
      ChunkScope scope;
      for (int c = 0; c < chunks; ++c) fn(ctx, c);
      return;
    }
    if (int(workers_.size()) < chunks - 1) resize_locked(chunks - 1);
    start_job(fn, ctx, chunks, false);
    ring(chunks - 1);
    {
      ChunkScope scope;
      while (claim_and_run(job_, false)) {
      }
    }
    wait_done(chunks);
    std::exception_ptr error = failed_.load(std::memory_order_acquire) ? error_ : nullptr;
    error_ = nullptr;
    lock.unlock();
    if (error) std::rethrow_exception(error);
  }

  void run_on_every_worker(ChunkFn fn, void* ctx) {
    std::lock_guard lock(dispatch_);
    const int n = int(workers_.size());
    if (n == 0 || shut_down_) return;
    start_job(fn, ctx, n, true);
    ring(INT_MAX);
    wait_done(n);
    error_ = nullptr;
  }

  // Shrinks now; grows when a job first needs the threads (run): a process with a second thread
  // pays for it on every small op (glibc and libstdc++ switch to locked malloc paths and atomic
  // reference counts once a thread exists; a 1-element add measured 15-25% more CPU time), and a
  // model whose tensors are too small to split never needs a worker.
  void shrink_to(int n) {
    std::lock_guard lock(dispatch_);
    if (!shut_down_ && int(workers_.size()) > n) resize_locked(n);
  }
  int size() {
    std::lock_guard lock(dispatch_);
    return int(workers_.size());
  }

  StartHook set_start_hook(StartHook hook) { return start_hook_.exchange(hook, std::memory_order_acq_rel); }

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> stop{false};
  };

  void start_job(ChunkFn fn, void* ctx, int chunks, bool per_worker) {
    fn_.store(fn, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    ++job_;
    state_.store(JobWord{job_, per_worker, uint32_t(chunks), 0, uint32_t(chunks)}.pack(), std::memory_order_release);
  }

  // Tells the workers something changed; the futex call only when one sleeps.
  void ring(int n) {
    bell_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake(bell_, n);
  }

  // Claims the next chunk of `job` (its first unclaimed one, or its last with from_back) and runs
  // it; false when none is left.
  bool claim_and_run(uint32_t job, bool from_back) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      JobWord w = JobWord::unpack(s);
      if (w.job != job || w.per_worker || w.front >= w.back) return false;
      JobWord claimed = w;
      const uint32_t c = from_back ? --claimed.back : claimed.front++;
      if (state_.compare_exchange_weak(s, claimed.pack(), std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        run_chunk(int(c), w.chunks);
        return true;
      }
    }
  }

  // Only a thread holding a claimed chunk gets here, so the job cannot finish (and fn_, ctx_
  // cannot change) before done_ counts this chunk.
  void run_chunk(int c, uint32_t chunks) {
    if (!failed_.load(std::memory_order_relaxed)) {
      try {
        ChunkScope scope;
        fn_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), c);
      } catch (...) {
        bool first = false;
        if (failed_.compare_exchange_strong(first, true)) error_ = std::current_exception();
      }
    }
    if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == chunks &&
        caller_sleeping_.load(std::memory_order_seq_cst))
      futex_wake(done_, 1);
  }

  void wait_done(uint32_t chunks) {
    if (spin_until([&] { return done_.load(std::memory_order_acquire) == chunks; })) return;
    for (;;) {
      caller_sleeping_.store(true, std::memory_order_seq_cst);
      uint32_t d = done_.load(std::memory_order_seq_cst);
      if (d == chunks) break;
      futex_wait(done_, d);
    }
    caller_sleeping_.store(false, std::memory_order_relaxed);
    (void)done_.load(std::memory_order_acquire);
  }

  void worker_loop(int id, Worker* self, uint32_t job_seen, uint32_t bell_seen) {
    pin_openmp_to_one_thread();
    if (auto hook = start_hook_.load(std::memory_order_acquire)) hook();
    for (;;) {
      if (self->stop.load(std::memory_order_acquire)) return;
      uint64_t s = state_.load(std::memory_order_acquire);
      JobWord w = JobWord::unpack(s);
      if (w.job != job_seen) {
        job_seen = w.job;
        if (w.per_worker) {
          // This job cannot finish before worker `id` has done its part, so fn_ and ctx_ are its.
          if (uint32_t(id) < w.chunks) run_chunk(id, w.chunks);
        } else {
          while (claim_and_run(job_seen, true)) {
          }
        }
        continue;
      }
      const uint32_t bell = bell_.load(std::memory_order_acquire);
      if (bell != bell_seen) {
        bell_seen = bell;
        continue;
      }
      if (spin_until([&] {
            return bell_.load(std::memory_order_acquire) != bell_seen ||
                   self->stop.load(std::memory_order_relaxed);
          }))
        continue;
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      futex_wait(bell_, bell_seen);  // returns at once if the bell rang since it was read
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  void resize_locked(int n) {
    while (int(workers_.size()) < n) {
      auto w = std::make_unique<Worker>();
      Worker* p = w.get();
      const int id = int(workers_.size());
      const uint32_t bell = bell_.load();
      w->thread = std::thread([this, id, p, job = job_, bell] { worker_loop(id, p, job, bell); });
      workers_.push_back(std::move(w));
    }
    if (int(workers_.size()) > n) {
      for (size_t i = n; i < workers_.size(); ++i) workers_[i]->stop.store(true, std::memory_order_release);
      ring(INT_MAX);
      for (size_t i = n; i < workers_.size(); ++i) workers_[i]->thread.join();
      workers_.resize(n);
    }
  }

  std::mutex dispatch_;  // one job at a time; guards workers_, job_, shut_down_
  std::vector<std::unique_ptr<Worker>> workers_;
  uint32_t job_ = 0;
  bool shut_down_ = false;

  std::atomic<uint64_t> state_{0};
  std::atomic<ChunkFn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<uint32_t> done_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;  // set by the first failing chunk, before it counts in done_

  std::atomic<uint32_t> bell_{0};  // the futex word idle workers sleep on
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<StartHook> start_hook_{nullptr};
};

// Made on first use; destroyed (workers joined) at exit.  Objects destroyed after it that still
// call parallel_for get their chunks run inline.
std::atomic<bool> g_pool_gone{false};
struct PoolHolder {
  Pool pool;
  ~PoolHolder() { g_pool_gone.store(true); }
};
Pool* pool() {
  if (g_pool_gone.load(std::memory_order_relaxed)) return nullptr;
  static PoolHolder holder;
  return &holder.pool;
}

}  // namespace

void run_chunks(int chunks, ChunkFn fn, void* ctx) {
  pin_openmp_to_one_thread();
  if (Pool* p = pool()) {
    p->run(chunks, fn, ctx);
  } else {
    ChunkScope scope;
    for (int c = 0; c < chunks; ++c) fn(ctx, c);
  }
}

void run_on_every_worker(ChunkFn fn, void* ctx) {
  if (Pool* p = pool()) p->run_on_every_worker(fn, ctx);
}

StartHook set_worker_start_hook(StartHook hook) {
  Pool* p = pool();
  return p ? p->set_start_hook(hook) : nullptr;
}

void resize_pool(int n) {
  if (Pool* p = pool()) p->shrink_to(n);
}

int pool_workers() {
  Pool* p = pool();
  return p ? p->size() : 0;
}

bool in_chunk() { return t_in_chunk; }

void pin_openmp_to_one_thread() {
  thread_local bool pinned = false;
  if (!pinned) {
    omp_set_num_threads(1);
    pinned = true;
  }
}

}  // namespace koan::detail
