// bench_compare: the comparison suite's driver.  It runs koan_compare and torch_compare (each in
// processes of its own, once per thread count or libtorch configuration), gives libtorch the best
// of its configurations that fit the same number of cores, prints one table, and can insert that
// table into docs/PERFORMANCE.md under a dated heading.  It links neither framework.
//
//   bench_compare --quick --only cnn,gemm            # a short run, table on stdout
//   bench_compare --full --doc docs/PERFORMANCE.md   # everything, incl. 5 CNN epochs, into the page
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "machine.h"
#include "workloads.h"

namespace fs = std::filesystem;
using namespace compare;

namespace {

constexpr const char* kDocMarker = "<!-- bench_compare inserts new results below this line, newest first -->";

struct Options {
  std::vector<std::string> groups = {"mlp", "cnn", "lstm", "gemm", "op", "mem"};
  std::vector<int> threads = {1, 2};
  bool quick = false, full = false, probe_only = false;
  std::string data = "data/fashion-mnist";
  std::string doc;   // empty: print only
  std::string note;  // added to the heading, e.g. "taken under load"
  fs::path bin;      // where the workers are
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "bench_compare: " << problem << "\n"
            << "usage: bench_compare [--only GROUP,...] [--quick] [--full] [--threads 1,2] [--data DIR]\n"
            << "                     [--doc FILE] [--note TEXT] [--probe]\n"
            << "groups: mlp cnn lstm gemm op (overhead) mem (memory); --full adds epochs (5 CNN epochs, minutes)\n"
            << "--probe: only describe the machine and measure its FP32 peak\n";
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  o.bin = fs::canonical("/proc/self/exe").parent_path();
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(s + " needs a value");
      return argv[++i];
    };
    if (s == "--only") {
      o.groups.clear();
      for (std::string g : split(value(), ',')) {
        if (g == "overhead") g = "op";
        if (g == "memory") g = "mem";
        if (std::find(std::begin(kGroups), std::end(kGroups), g) == std::end(kGroups))
          usage("--only: unknown group '" + g + "'");
        o.groups.push_back(g);
      }
    } else if (s == "--threads") {
      o.threads.clear();
      for (const std::string& t : split(value(), ',')) {
        int n = std::atoi(t.c_str());
        if (n < 1) usage("--threads: '" + t + "' is not a positive count");
        o.threads.push_back(n);
      }
      std::sort(o.threads.begin(), o.threads.end());
    } else if (s == "--quick") {
      o.quick = true;
    } else if (s == "--probe") {
      o.probe_only = true;
    } else if (s == "--full") {
      o.full = true;
    } else if (s == "--data") {
      o.data = value();
    } else if (s == "--doc") {
      o.doc = value();
    } else if (s == "--note") {
      o.note = value();
    } else {
      usage("unknown argument " + s);
    }
  }
  if (o.full && std::find(o.groups.begin(), o.groups.end(), "epochs") == o.groups.end()) o.groups.push_back("epochs");
  if (o.threads.empty()) usage("--threads needs at least one count");
  return o;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// One worker process: its configuration and what it reported.
struct Run {
  std::string framework;  // "koan" or "libtorch"
  int threads = 1;
  std::string config;     // how libtorch was set up, for the table
  std::map<std::string, Stats> results;
  std::map<std::string, std::string> info;
  bool failed = false;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs one worker; its stdout is parsed, its stderr (progress) goes to the terminal.
Run run_worker(const Options& o, const std::string& framework, int threads, const std::string& env,
               const std::string& config, const std::vector<std::string>& groups) {
  Run r{framework, threads, config, {}, {}, false};
  std::string exe = (o.bin / (framework == "koan" ? "koan_compare" : "torch_compare")).string();
  std::string only;
  for (const std::string& g : groups) only += (only.empty() ? "" : ",") + g;
  std::string cmd = env + (env.empty() ? "" : " ") + quote(exe) + " --threads " + std::to_string(threads) +
                    " --only " + only + " --data " + quote(o.data) + (o.quick ? " --quick" : "");
  std::cerr << "[" << framework << ", " << config << "] " << only << "\n";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    std::cerr << "bench_compare: cannot start " << exe << "\n";
    r.failed = true;
    return r;
  }
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    std::vector<std::string> f = split(std::string(buf, strcspn(buf, "\n")), '\t');
    if (f.size() == 6 && f[0] == "R")
      r.results[f[1]] = Stats{std::stod(f[2]), std::stod(f[3]), std::stod(f[4]), std::stoi(f[5])};
    else if (f.size() == 3 && f[0] == "I")
      r.info[f[1]] = f[2];
  }
  int status = pclose(p);
  r.failed = status != 0;
  if (status != 0)
    std::cerr << "bench_compare: " << framework << " (" << config << ") failed ("
              << (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                    : "signal " + std::to_string(WTERMSIG(status)))
              << "); its missing figures show as 'failed'\n";
  return r;
}

std::string threads_name(int t) { return std::to_string(t) + (t == 1 ? " thread" : " threads"); }

// A number to about three significant figures, with thousands kept whole.
std::string num(double v) {
  char b[64];
  if (v >= 100)
    std::snprintf(b, sizeof b, "%.0f", v);
  else if (v >= 10)
    std::snprintf(b, sizeof b, "%.1f", v);
  else
    std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string cell(const Stats& s, double flops, double peak) {
  std::string out = "**" + num(s.median) + "**";
  if (flops > 0 && peak > 0) out += " (" + num(100.0 * s.median / peak) + "% of peak)";
  if (s.reps > 1) out += " [" + num(s.min) + "–" + num(s.max) + "]";
  return out;
}

bool better(Better b, double x, double y) { return b == Better::Lower ? x < y : x > y; }

std::string now_utc(const char* fmt) {
  std::time_t t = std::time(nullptr);
  char b[64];
  std::strftime(b, sizeof b, fmt, std::gmtime(&t));
  return b;
}

// The first line a shell command prints, or "".
std::string first_line(const char* cmd) {
  FILE* p = popen(cmd, "r");
  if (!p) return "";
  char b[64] = {0};
  std::string s = std::fgets(b, sizeof b, p) ? std::string(b, strcspn(b, "\n")) : "";
  pclose(p);
  return s;
}

// Everything the workers reported, and how to pick from it.
struct Results {
  std::vector<Run> koan, torch;
  std::vector<PeakProbe> peaks;

  // koan's figure at exactly `threads`.
  const Stats* koan_at(const std::string& key, int threads) const {
    for (const Run& r : koan)
      if (r.threads == threads && r.results.count(key)) return &r.results.at(key);
    return nullptr;
  }
  // libtorch's best figure among its configurations using at most `budget` threads, and which one.
  std::pair<const Stats*, std::string> torch_best(const std::string& key, Better b, int budget) const {
    const Stats* best = nullptr;
    std::string config;
    for (const Run& r : torch) {
      auto it = r.results.find(key);
      if (r.threads > budget || it == r.results.end()) continue;
      if (!best || better(b, it->second.median, best->median)) best = &it->second, config = r.config;
    }
    return {best, config};
  }
  double peak_at(int threads) const {
    double best = 0;
    for (const PeakProbe& p : peaks)
      if (p.threads == threads) best = std::max(best, p.gflops);
    return best;
  }
  bool any_failed() const {
    for (const std::vector<Run>* runs : {&koan, &torch})
      for (const Run& r : *runs)
        if (r.failed) return true;
    return false;
  }
};

struct TorchConfig {
  int threads;
  std::string env, name;
};

// libtorch's candidates: every thread count asked for, and with more than one thread also
// OpenBLAS held to one thread (two pools on two cores oversubscribe).
std::vector<TorchConfig> torch_configs(const std::vector<int>& thread_counts) {
  std::vector<TorchConfig> out;
  for (int t : thread_counts) {
    out.push_back({t, "", threads_name(t)});
    if (t > 1) out.push_back({t, "OPENBLAS_NUM_THREADS=1", threads_name(t) + ", OPENBLAS_NUM_THREADS=1"});
  }
  return out;
}

Results run_all(const Options& o) {
  Results res;
  std::cerr << "bench_compare: FMA peak probe\n";
  res.peaks = probe_peak(o.threads, o.quick);

  // Throughput groups share one process per configuration; memory and epochs get their own.
  std::vector<std::string> shared;
  for (const std::string& g : o.groups)
    if (g != "mem" && g != "epochs") shared.push_back(g);
  std::vector<TorchConfig> configs = torch_configs(o.threads);
  for (int t : o.threads) {  // interleaved, so a burst of load from elsewhere hits both sides
    if (!shared.empty()) {
      res.koan.push_back(run_worker(o, "koan", t, "", threads_name(t), shared));
      for (const TorchConfig& c : configs)
        if (c.threads == t) res.torch.push_back(run_worker(o, "libtorch", t, c.env, c.name, shared));
    }
    if (has(o.groups, "mem")) {
      res.koan.push_back(run_worker(o, "koan", t, "", threads_name(t), {"mem"}));
      res.torch.push_back(run_worker(o, "libtorch", t, "", threads_name(t), {"mem"}));
    }
  }

  // --full: 5 epochs at the largest thread count; libtorch in its best configuration for CNN training.
  if (has(o.groups, "epochs")) {
    int t = o.threads.back();
    res.koan.push_back(run_worker(o, "koan", t, "", threads_name(t), {"epochs"}));
    TorchConfig pick{t, "", threads_name(t)};
    std::string best = res.torch_best("cnn.train.b64", Better::Higher, t).second;
    for (const TorchConfig& c : configs)
      if (c.name == best) pick = c;
    res.torch.push_back(run_worker(o, "libtorch", pick.threads, pick.env, pick.name, {"epochs"}));
  }

  // The probe again at the end, keeping the better: a busy moment at the start would understate the peak.
  std::cerr << "bench_compare: FMA peak probe again\n";
  std::vector<PeakProbe> again = probe_peak(o.threads, o.quick);
  for (size_t i = 0; i < res.peaks.size() && i < again.size(); ++i)
    res.peaks[i].gflops = std::max(res.peaks[i].gflops, again[i].gflops);
  return res;
}

// The heading, the machine, and the table of koan against libtorch's best, one row per
// workload and thread budget.
void render_summary(std::ostream& md, const Options& o, const Machine& m, const Results& res,
                    const std::string& started) {
  std::string torch_version = "libtorch";
  for (const Run& r : res.torch)
    if (r.info.count("framework")) torch_version = r.info.at("framework");
  std::string commit = first_line("git rev-parse --short HEAD 2>/dev/null");
  std::string package = first_line("dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null");
  md << "### " << started << (o.quick ? " — quick run" : o.full ? " — full run" : " — standard run")
     << (o.note.empty() ? "" : " — " + o.note) << "\n\n";
  md << "- Machine: " << m.model << "; " << m.isa << "; " << m.logical_cpus << " logical CPUs (" << m.cores
     << "); clock " << m.clock << "; load average at start " << m.load << "\n";
  md << "- koan " << (commit.empty() ? "(commit unknown)" : "at " + commit) << " vs " << torch_version
     << " (headers; Debian libtorch-dev " << (package.empty() ? "?" : package) << "); "
     << (o.quick ? "--quick: 5 repetitions of >= 0.12 s" : "7 repetitions of >= 0.4 s")
     << " after warm-up; bold is the median, [min–max] the spread\n";
  md << "- Measured FP32 peak (FMA probe):";
  for (const PeakProbe& p : res.peaks) md << " " << p.isa << " " << threads_name(p.threads) << " " << num(p.gflops) << ";";
  md << " GFLOP/s\n\n";

  md << "| workload | unit | threads | koan | libtorch (best) | libtorch config | koan ÷ libtorch |\n";
  md << "|---|---|---|---|---|---|---|\n";
  for (const Workload& w : kWorkloads) {
    std::string key(w.key);
    if (!has(o.groups, std::string(group_of(w.key)))) continue;
    std::vector<int> budgets = group_of(w.key) == "epochs" ? std::vector<int>{o.threads.back()} : o.threads;
    for (int t : budgets) {
      const Stats* k = res.koan_at(key, t);
      auto [tb, config] = res.torch_best(key, w.better, t);
      double peak = w.flops > 0 ? res.peak_at(t) : 0;
      std::string ratio = "—";
      if (k && tb && w.better != Better::None && k->median > 0 && tb->median > 0)
        ratio = num(w.better == Better::Higher ? k->median / tb->median : tb->median / k->median) + "×";
      md << "| " << w.label << " | " << w.unit << " | " << t << " | " << (k ? cell(*k, w.flops, peak) : "failed")
         << " | " << (tb ? cell(*tb, w.flops, peak) : "failed") << " | " << (tb ? config : "") << " | " << ratio
         << " |\n";
    }
  }
}

// Every configuration's medians, so the choice of libtorch's best (and koan's scaling) can be checked.
void render_all_configs(std::ostream& md, const Results& res) {
  std::vector<std::pair<std::string, std::map<std::string, Stats>>> columns;
  for (const std::vector<Run>* runs : {&res.koan, &res.torch})
    for (const Run& r : *runs) {
      std::string label = r.framework + ", " + r.config;
      auto it = std::find_if(columns.begin(), columns.end(), [&](auto& col) { return col.first == label; });
      if (it == columns.end()) it = columns.insert(columns.end(), {label, {}});
      it->second.insert(r.results.begin(), r.results.end());
    }
  md << "\n<details><summary>Every configuration (medians)</summary>\n\n| workload | unit |";
  for (auto& col : columns) md << " " << col.first << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < columns.size(); ++i) md << "---|";
  md << "\n";
  for (const Workload& w : kWorkloads) {
    bool any = false;
    for (auto& col : columns) any = any || col.second.count(std::string(w.key));
    if (!any) continue;
    md << "| " << w.label << " | " << w.unit << " |";
    for (auto& col : columns) {
      auto it = col.second.find(std::string(w.key));
      md << " " << (it == col.second.end() ? "" : num(it->second.median)) << " |";
    }
    md << "\n";
  }
  md << "\n</details>\n";
}

// Puts `section` right below the page's marker (newest first), creating the page if need be;
// written to a temporary file and renamed, so an interrupted run never leaves half a page.
void insert_into_doc(const std::string& path, const std::string& section) {
  std::string page;
  if (std::ifstream in(path); in) page.assign(std::istreambuf_iterator<char>(in), {});
  size_t at = page.find(kDocMarker);
  if (at == std::string::npos) {
    page += std::string(page.empty() ? "# Performance: koan against libtorch\n" : "") + "\n" + kDocMarker + "\n";
    at = page.find(kDocMarker);
  }
  at += std::string(kDocMarker).size();
  if (at == page.size()) page += "\n";
  page.insert(at + 1, "\n" + section);
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << page;
  fs::rename(tmp, path);
  std::cerr << "bench_compare: table inserted into " << path << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::string started = now_utc("%Y-%m-%d %H:%M UTC");
  Machine m = describe_machine();
  if (o.probe_only) {
    std::cout << m.model << "; " << m.isa << "; " << m.logical_cpus << " logical CPUs; " << m.clock << "; load "
              << m.load << "\n";
    for (const PeakProbe& p : probe_peak(o.threads, o.quick))
      std::cout << p.isa << " " << threads_name(p.threads) << ": " << num(p.gflops) << " GFLOP/s\n";
    return 0;
  }

  Results res = run_all(o);

  // Markdown: readable on a terminal, and what goes into docs/PERFORMANCE.md.
  std::ostringstream md;
  render_summary(md, o, m, res, started);
  render_all_configs(md, res);
  md << "\nRatios above 1 mean koan is better (faster, or less memory/time where lower is better). The "
        "threads column is the core budget: koan uses exactly that many threads, libtorch its best "
        "configuration within it. GEMM shares are of the measured peak at that thread count.\n";
  std::cout << "\n" << md.str() << std::flush;
  if (!o.doc.empty()) insert_into_doc(o.doc, md.str());

  // The table is out either way, but a missing figure must fail make and scripts.
  return res.any_failed() ? 1 : 0;
}
