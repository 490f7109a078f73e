// Section 1.1: the FMA-throughput loop and the STREAM triad.
#include "machine_peak.hpp"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/check.hpp"

#include "gnm/cpu/peak.hpp"

namespace gnm::ch01 {

// Note [Pinning threads]
// Measured on this 2-vCPU machine: two threads that meet at a std::barrier were often put on the
// same CPU by the scheduler (the woken thread goes to the waker's CPU, "wake-affine"), and stayed
// there for several 7 ms repetitions: 2 threads took 13.4 ms where 1 took 6.7. Peak measurements
// (and OpenMP with OMP_PROC_BIND, and MPI launchers) therefore pin thread t to CPU t. When there
// are more threads than CPUs, nothing is pinned and the scheduler shares them out.
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
#endif
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

void pin_current_thread(int cpu) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
#else
  (void)cpu;
#endif
}

//! [affinity_guard]
AffinityGuard::AffinityGuard() : saved_(allowed_cpus()) {}

AffinityGuard::~AffinityGuard() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : saved_) CPU_SET(c, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#endif
}
//! [affinity_guard]

std::vector<double> run_timed(int threads, int reps, const std::function<void(int)>& work) {
  GNM_CHECK(threads >= 1 && reps >= 1, "run_timed needs at least one thread and one rep",
            threads, reps);
  const std::vector<int> cpus = allowed_cpus();
  const bool pin = threads <= static_cast<int>(cpus.size());
  const AffinityGuard restore_main;  // the calling thread is participant 0
  using Clock = std::chrono::steady_clock;
  // The barrier's completion step runs once per phase, on the last thread to arrive: phase 2r
  // releases repetition r, phase 2r + 1 ends it. Reserved up front: the step must not allocate.
  std::vector<Clock::time_point> stamps;
  stamps.reserve(2 * static_cast<std::size_t>(reps));
  auto on_phase = [&stamps]() noexcept { stamps.push_back(Clock::now()); };
  std::barrier sync(threads, on_phase);
  auto body = [&](int t) {
    if (pin) pin_current_thread(cpus[static_cast<std::size_t>(t)]);
    for (int r = 0; r < reps; ++r) {
      sync.arrive_and_wait();
      work(t);
      sync.arrive_and_wait();
    }
  };
  std::vector<std::thread> others;
  others.reserve(static_cast<std::size_t>(threads - 1));
  for (int t = 1; t < threads; ++t) others.emplace_back(body, t);
  body(0);
  for (auto& th : others) th.join();
  std::vector<double> seconds;
  for (int r = 0; r < reps; ++r) {
    seconds.push_back(std::chrono::duration<double>(stamps[2 * r + 1] - stamps[2 * r]).count());
  }
  return seconds;
}

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

// The loop itself, its shape (Note [Enough chains]) and its closed-form checksum (Note [A
// checkable FMA loop]) are the engine's, in common/src/cpu/peak.cpp: chapter 2's benchmark uses
// the same one to report "% of peak".
FmaResult measure_fma_peak(gnm::cpu::CpuKernel width, int threads, std::int64_t iterations,
                           int reps) {
  GNM_CHECK(threads >= 1 && reps >= 1, "the FMA peak needs at least one thread and one rep",
            threads, reps);
  // Checks the width and the iteration count, and throws NotImplemented for a width this CPU
  // lacks, here on the calling thread: the timed work below must not throw.
  (void)gnm::cpu::run_fma_loop(width, 1);
  std::vector<gnm::cpu::FmaRun> runs(static_cast<std::size_t>(threads));
  const auto seconds = run_timed(threads, reps, [&](int t) {
    runs[static_cast<std::size_t>(t)] = gnm::cpu::run_fma_loop(width, iterations);
  });
  FmaResult r;
  r.width = width;
  r.threads = threads;
  // Wall time from the common start to the last thread's end, as STREAM times its threads.
  const double flops = runs[0].flops * threads;
  r.best_gflops = flops / *std::min_element(seconds.begin(), seconds.end()) / 1e9;
  r.median_gflops = flops / median(seconds) / 1e9;
  r.expected = runs[0].expected;
  r.checksum = runs[0].checksum;
  r.exact = std::all_of(runs.begin(), runs.end(),
                        [](const gnm::cpu::FmaRun& f) { return f.checksum_ok; });
  return r;
}

// Note [STREAM triad bytes]
// STREAM counts 24 bytes per element for a[i] = b[i] + s * c[i]: read b and c, write a. The
// hardware moves 32: writing a line that is not in cache first reads it (write-allocate, see
// chapter 0's Note [Write-allocate]), unless the compiler emits non-temporal stores, which GCC
// does not do here. We report STREAM's convention, 24 bytes, so that the figure is comparable
// with published STREAM results, and because the op model of section 1.2 counts bytes the same
// way (each tensor read or written once). The true traffic is 4/3 of it.
TriadResult measure_triad(int threads, std::size_t elements, int reps) {
  GNM_CHECK(elements >= static_cast<std::size_t>(threads) * 8,
            "the triad arrays must hold at least 8 elements per thread", elements, threads);
  AlignedBuffer<double> a(elements), b(elements), c(elements);
  volatile double s_in = 3.0;
  const double s = s_in;
  // Contiguous chunks, split at multiples of 8 doubles (one cache line), one per thread.
  auto chunk = [&](int t) {
    auto edge = [&](int i) {
      return elements * static_cast<std::size_t>(i) / static_cast<std::size_t>(threads) / 8 * 8;
    };
    return std::pair{edge(t), t + 1 == threads ? elements : edge(t + 1)};
  };
  // Each thread first touches the pages it will use, so that on a NUMA machine they are local.
  run_timed(threads, 1, [&](int t) {
    const auto [lo, hi] = chunk(t);
    for (std::size_t i = lo; i < hi; ++i) {
      a[i] = -1.0;
      b[i] = static_cast<double>(i % 1000);
      c[i] = static_cast<double>(i % 7);
    }
  });
  //! [triad]
  const auto seconds = run_timed(threads, reps, [&](int t) {
    const auto [lo, hi] = chunk(t);
    double* __restrict pa = a.data();
    const double* __restrict pb = b.data();
    const double* __restrict pc = c.data();
    for (std::size_t i = lo; i < hi; ++i) pa[i] = pb[i] + s * pc[i];
  });
  //! [triad]
  TriadResult r;
  r.threads = threads;
  r.elements = elements;
  const double bytes = 24.0 * static_cast<double>(elements);
  r.best_gbps = bytes / *std::min_element(seconds.begin(), seconds.end()) / 1e9;
  r.median_gbps = bytes / median(seconds) / 1e9;
  // Small integers: b + 3c is exact in double, so the check is equality.
  r.values_ok = true;
  for (std::size_t i = 0; i < elements; ++i) {
    if (a[i] != static_cast<double>(i % 1000) + 3.0 * static_cast<double>(i % 7)) {
      r.values_ok = false;
      r.first_bad = i;
      break;
    }
  }
  return r;
}

std::size_t l3_cache_bytes() {
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream level_file(dir + "/level");
    int level = 0;
    if (!(level_file >> level) || level != 3) continue;
    std::ifstream size_file(dir + "/size");
    std::size_t value = 0;
    std::string unit;
    if (!(size_file >> value)) return 0;
    size_file >> unit;  // "491520K" reads as 491520 then "K"
    if (unit == "K") return value * 1024;
    if (unit == "M") return value * 1024 * 1024;
    return value;
  }
  return 0;
}

}  // namespace gnm::ch01
