// What the two workers (koan_compare, torch_compare) share: their command line, the timing
// protocol (warm-up, then the median of several repetitions) and the line format the driver reads.
// Nothing here knows koan or libtorch, so both sides are timed by the same code.
//
//   compare::WorkerArgs args = compare::parse_worker_args(argc, argv, "koan_compare");
//   compare::Stats s = compare::seconds_per_call(args.plan, [&] { train_step(); });
//   compare::report("mlp.train.b64", compare::per_second(s, 64));   // samples/s
#pragma once
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace compare {

// How long to warm up and how to repeat: the defaults give >= 5 repetitions; --quick shortens them.
struct Plan {
  double warmup_s = 0.4;  // at least this long, and at least 3 calls
  double rep_s = 0.4;     // each repetition runs whole calls until this long has passed
  int reps = 7;
};

struct WorkerArgs {
  int threads = 1;
  std::set<std::string> only;  // groups (see workloads.h); empty = every throughput group
  bool quick = false;
  Plan plan;
  std::string data = "data/fashion-mnist";
  bool wants(std::string_view group) const;
};

// --threads N  --only g1,g2  --quick  --data DIR.  Prints usage and exits on a bad argument.
WorkerArgs parse_worker_args(int argc, char** argv, const char* program);

struct Stats {
  double median = 0, min = 0, max = 0;
  int reps = 0;
};

// Times step(): warm-up, then plan.reps repetitions, each of whole calls lasting at least
// plan.rep_s; each repetition gives one value, seconds per call.
Stats seconds_per_call(const Plan& plan, const std::function<void()>& step);
// items per second from seconds per call (the slowest repetition becomes the min).
Stats per_second(const Stats& seconds, double items_per_call);
Stats scaled(const Stats& s, double factor);
Stats single(double value);

// One result line on stdout: "R <key> <median> <min> <max> <reps>"; the key must be in workloads.h.
void report(std::string_view key, const Stats& s);
// One information line: "I <name> <value>" (library version, thread count, ...).
void info(std::string_view name, std::string_view value);
// Progress for the person waiting, on stderr.
void progress(std::string_view what);

// An IDX file of unsigned bytes (Fashion-MNIST), gzip'd or raw, read the same way for both
// frameworks: at most `limit` items along the first dim (all when negative), so the memory
// workload can load a small slice without a large loading peak.  Exits with a message on error.
struct IdxBytes {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};
IdxBytes read_idx_u8(const std::string& path, int64_t limit = -1);

// Resident memory: the high-water mark so far (getrusage) and the current value (/proc/self/statm).
double peak_rss_mb();
double current_rss_mb();
// Minor + major page faults of this process so far.
long page_faults();

// Keeps the compiler from dropping a computation whose result is unused.
template <class T>
inline void keep(const T& x) {
  asm volatile("" : : "g"(&x) : "memory");
}

}  // namespace compare
