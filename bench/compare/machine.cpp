#include "machine.h"

#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace compare {

namespace {

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t\n") + 1);
  return s;
}

// 12 independent accumulators, named so they stay in registers (an array would be kept in memory
// at -O2): FMA latency (4 cycles) x 2 FMA ports needs at least 8 in flight.  a = a * m + c with m
// just below 1 converges to 1: no overflow, no denormals, however long it runs.
#define KOAN_FMA_PROBE(VEC, SET1, FMADD, ADD, LANES)                                               \
  VEC a0 = SET1(1.00f), a1 = SET1(1.01f), a2 = SET1(1.02f), a3 = SET1(1.03f), a4 = SET1(1.04f);   \
  VEC a5 = SET1(1.05f), a6 = SET1(1.06f), a7 = SET1(1.07f), a8 = SET1(1.08f), a9 = SET1(1.09f);   \
  VEC a10 = SET1(1.10f), a11 = SET1(1.11f);                                                       \
  const VEC m = SET1(0.9999999f), c = SET1(1e-7f);                                                \
  for (int64_t i = 0; i < iters; ++i) {                                                           \
    a0 = FMADD(a0, m, c), a1 = FMADD(a1, m, c), a2 = FMADD(a2, m, c), a3 = FMADD(a3, m, c);       \
    a4 = FMADD(a4, m, c), a5 = FMADD(a5, m, c), a6 = FMADD(a6, m, c), a7 = FMADD(a7, m, c);       \
    a8 = FMADD(a8, m, c), a9 = FMADD(a9, m, c), a10 = FMADD(a10, m, c), a11 = FMADD(a11, m, c);   \
  }                                                                                               \
  VEC s = ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))),                 \
              ADD(ADD(a8, a9), ADD(a10, a11)));                                                   \
  alignas(64) float lanes[LANES];                                                                 \
  std::memcpy(lanes, &s, sizeof s);                                                               \
  volatile float sink = lanes[0];                                                                 \
  (void)sink;                                                                                     \
  return 2.0 * LANES * 12 * static_cast<double>(iters);

__attribute__((target("avx512f"))) double fma_avx512(int64_t iters) {
  KOAN_FMA_PROBE(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
}

__attribute__((target("avx2,fma"))) double fma_avx2(int64_t iters) {
  KOAN_FMA_PROBE(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
}
#undef KOAN_FMA_PROBE

// GFLOP/s of `kernel` run on `threads` threads at once.
double run_probe(double (*kernel)(int64_t), int threads, int64_t iters) {
  std::vector<double> flops(static_cast<size_t>(threads));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { flops[static_cast<size_t>(t)] = kernel(iters); });
  for (auto& th : pool) th.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double total = 0;
  for (double f : flops) total += f;
  return total / s / 1e9;
}

}  // namespace

Machine describe_machine() {
  Machine m;
  std::ifstream f("/proc/cpuinfo");
  std::string line, flags, siblings, cores;
  while (std::getline(f, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key == "model name" && m.model.empty()) m.model = value;
    if (key == "cpu MHz" && m.clock.empty()) m.clock = value + " MHz";
    if (key == "flags" && flags.empty()) flags = " " + value + " ";
    if (key == "siblings" && siblings.empty()) siblings = value;
    if (key == "cpu cores" && cores.empty()) cores = value;
  }
  std::vector<std::pair<const char*, const char*>> wanted = {
      {" avx512f ", "AVX-512F"}, {" avx512bw ", "AVX-512BW"}, {" avx512_vnni ", "AVX-512 VNNI"},
      {" avx512_bf16 ", "AVX-512 BF16"}, {" avx512_fp16 ", "AVX-512 FP16"}, {" avx2 ", "AVX2"}, {" fma ", "FMA"}};
  for (auto [flag, name] : wanted)
    if (flags.find(flag) != std::string::npos) m.isa += (m.isa.empty() ? "" : ", ") + std::string(name);
  m.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  m.cores = cores.empty() ? "?" : cores + " core(s), " + siblings + " thread(s) per socket";
  std::ifstream la("/proc/loadavg");
  std::string a, b, c;
  la >> a >> b >> c;
  m.load = a + " " + b + " " + c;
  return m;
}

std::vector<PeakProbe> probe_peak(const std::vector<int>& thread_counts, bool quick) {
  std::vector<PeakProbe> out;
  struct Isa {
    const char* name;
    bool supported;
    double (*kernel)(int64_t);
  };
  __builtin_cpu_init();
  Isa isas[] = {{"AVX-512", __builtin_cpu_supports("avx512f") != 0, fma_avx512},
                {"AVX2", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), fma_avx2}};
  // About 0.05 s per run at 2.7 GHz; the best of several runs (noise from other processes only lowers it).
  int64_t iters = 20'000'000;
  int runs = quick ? 5 : 9;
  for (const Isa& isa : isas) {
    if (!isa.supported) continue;
    for (int t : thread_counts) {
      double best = 0;
      for (int r = 0; r < runs; ++r) best = std::max(best, run_probe(isa.kernel, t, iters));
      out.push_back({isa.name, t, best});
    }
  }
  return out;
}

}  // namespace compare
