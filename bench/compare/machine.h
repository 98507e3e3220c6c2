// The machine a comparison ran on: what /proc/cpuinfo says, and the FP32 peak it can really
// reach, measured with a small FMA-throughput probe (the GEMM rows are reported as its share).
#pragma once
#include <string>
#include <vector>

namespace compare {

struct Machine {
  std::string model;     // "Intel(R) Xeon(R) Processor"
  std::string isa;       // the vector extensions that matter here: "AVX-512F, AVX2, FMA"
  int logical_cpus = 0;  // what the process may use
  std::string cores;     // physical cores / threads as cpuinfo reports them
  std::string clock;     // "cpu MHz" of the first CPU (a VM reports its nominal clock)
  std::string load;      // /proc/loadavg when the run started: how busy the machine was
};
Machine describe_machine();

struct PeakProbe {
  std::string isa;  // "AVX-512" or "AVX2"
  int threads = 1;
  double gflops = 0;  // best of several runs: a peak is an upper bound, noise only lowers it
};
// Independent FMA chains (enough to cover latency x ports) on every thread at once, for each ISA
// this CPU supports and each thread count.
std::vector<PeakProbe> probe_peak(const std::vector<int>& thread_counts, bool quick);

}  // namespace compare
