#include "harness.h"

#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <vector>

#include "workloads.h"

namespace compare {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[noreturn]] void usage(const char* program, const std::string& problem) {
  std::cerr << program << ": " << problem << "\n"
            << "usage: " << program << " [--threads N] [--only GROUP,...] [--quick] [--data DIR]\n"
            << "groups: mlp cnn lstm gemm op mem epochs (the driver bench_compare runs these for you)\n";
  std::exit(2);
}

// "overhead" and "memory" are accepted for the short group names.
std::string canonical_group(const std::string& g) {
  if (g == "overhead") return "op";
  if (g == "memory") return "mem";
  return g;
}

}  // namespace

bool WorkerArgs::wants(std::string_view group) const {
  if (only.empty()) return group != "mem" && group != "epochs";  // those need a process of their own
  return only.count(std::string(group)) > 0;
}

WorkerArgs parse_worker_args(int argc, char** argv, const char* program) {
  WorkerArgs a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(program, s + " needs a value");
      return argv[++i];
    };
    if (s == "--threads") {
      std::string v = value();
      a.threads = std::atoi(v.c_str());
      if (a.threads < 1) usage(program, "--threads " + v + " is not a positive count");
    } else if (s == "--only") {
      std::string list = value();
      size_t start = 0;
      while (start <= list.size()) {
        size_t end = std::min(list.find(',', start), list.size());
        std::string g = canonical_group(list.substr(start, end - start));
        if (std::find(std::begin(kGroups), std::end(kGroups), g) == std::end(kGroups))
          usage(program, "--only: unknown group '" + g + "'");
        a.only.insert(g);
        start = end + 1;
      }
    } else if (s == "--quick") {
      a.quick = true;
    } else if (s == "--data") {
      a.data = value();
    } else {
      usage(program, "unknown argument " + s);
    }
  }
  // Quick: still 5 repetitions, each shorter; the medians get noisier, not fewer.
  if (a.quick) a.plan = Plan{.warmup_s = 0.15, .rep_s = 0.12, .reps = 5};
  return a;
}

Stats seconds_per_call(const Plan& plan, const std::function<void()>& step) {
  // Warm-up: caches, allocator free lists, thread pools and lazily built kernels settle here.
  auto t0 = Clock::now();
  for (int64_t calls = 0; calls < 3 || seconds_since(t0) < plan.warmup_s; ++calls) step();

  // Each repetition runs whole calls until rep_s has passed, so a machine that slows down
  // mid-run (other processes) stretches a repetition by at most one call.
  std::vector<double> per_call;
  for (int r = 0; r < plan.reps; ++r) {
    auto t = Clock::now();
    int64_t n = 0;
    double elapsed = 0;
    do {
      step();
      ++n;
      elapsed = seconds_since(t);
    } while (elapsed < plan.rep_s);
    per_call.push_back(elapsed / static_cast<double>(n));
  }
  std::sort(per_call.begin(), per_call.end());
  size_t m = per_call.size();
  double median = m % 2 ? per_call[m / 2] : 0.5 * (per_call[m / 2 - 1] + per_call[m / 2]);
  return Stats{.median = median, .min = per_call.front(), .max = per_call.back(), .reps = static_cast<int>(m)};
}

Stats per_second(const Stats& s, double items) {
  return Stats{.median = items / s.median, .min = items / s.max, .max = items / s.min, .reps = s.reps};
}

Stats scaled(const Stats& s, double f) {
  return Stats{.median = s.median * f, .min = s.min * f, .max = s.max * f, .reps = s.reps};
}

Stats single(double v) { return Stats{.median = v, .min = v, .max = v, .reps = 1}; }

void report(std::string_view key, const Stats& s) {
  if (!find_workload(key)) {
    std::cerr << "report: key '" << key << "' is not in workloads.h\n";
    std::exit(3);
  }
  std::printf("R\t%.*s\t%.6g\t%.6g\t%.6g\t%d\n", static_cast<int>(key.size()), key.data(), s.median, s.min, s.max,
              s.reps);
  std::fflush(stdout);
}

void info(std::string_view name, std::string_view value) {
  std::printf("I\t%.*s\t%.*s\n", static_cast<int>(name.size()), name.data(), static_cast<int>(value.size()),
              value.data());
  std::fflush(stdout);
}

void progress(std::string_view what) { std::cerr << "  " << what << std::endl; }

IdxBytes read_idx_u8(const std::string& path, int64_t limit) {
  auto fail = [&](const std::string& why) {
    std::cerr << "read_idx_u8: " << path << ": " << why << " (get the data with scripts/get-data fashion-mnist)\n";
    std::exit(1);
  };
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail("cannot open");
  auto read = [&](void* dst, size_t n) {
    if (gzread(f, dst, static_cast<unsigned>(n)) != static_cast<int>(n)) fail("truncated");
  };
  unsigned char magic[4];
  read(magic, 4);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08) fail("not an IDX file of unsigned bytes");
  IdxBytes out;
  int64_t count = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    read(b, 4);
    out.dims.push_back((int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
  }
  if (out.dims.empty()) fail("no dimensions");
  if (limit >= 0 && limit < out.dims[0]) out.dims[0] = limit;
  for (int64_t d : out.dims) count *= d;
  out.bytes.resize(static_cast<size_t>(count));
  read(out.bytes.data(), out.bytes.size());
  gzclose(f);
  return out;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double current_rss_mb() {
  std::ifstream f("/proc/self/statm");
  long total = 0, resident = 0;
  f >> total >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

long page_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt + u.ru_majflt;
}

}  // namespace compare
