// Section 1.1: this CPU's fp32 peak (the engine's FMA-throughput loop, gnm/cpu/peak.hpp, in AVX2
// and, where the CPU has it, AVX-512) and its memory bandwidth (STREAM triad), on one thread and
// on all threads. Measured, not quoted from a data sheet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "gnm/cpu/gemm.hpp"

namespace gnm::ch01 {

/// What the FMA-throughput loop measured on `threads` threads.
struct FmaResult {
  gnm::cpu::CpuKernel width = gnm::cpu::CpuKernel::Avx2;  // register width of the loop
  int threads = 0;
  double best_gflops = 0;    // best repetition, as STREAM reports bandwidth
  double median_gflops = 0;  // median repetition, to show the noise
  double checksum = 0;       // sum of every accumulator lane of thread 0 after the last run
  double expected = 0;       // gnm::cpu::fma_loop_expected(width, iterations)
  bool exact = false;        // checksum == expected on every thread
};

/// What the STREAM triad a[i] = b[i] + s * c[i] measured on `threads` threads.
struct TriadResult {
  int threads = 0;
  std::size_t elements = 0;  // per array (doubles)
  double best_gbps = 0;      // 24 bytes per element / best time
  double median_gbps = 0;
  bool values_ok = false;    // a[i] holds b[i] + s * c[i] exactly for every i
  std::size_t first_bad = 0; // first wrong index when !values_ok
};

/// The CPUs this process may run on (sched_getaffinity), in order; {0} when unknown.
std::vector<int> allowed_cpus();

/// Pins the calling thread to `cpu` (no-op when the system refuses or is not Linux).
/// See Note [Pinning threads].
void pin_current_thread(int cpu);

/// Restores the calling thread's CPU affinity, as it was at construction, on destruction.
class AffinityGuard {
 public:
  AffinityGuard();
  ~AffinityGuard();
  AffinityGuard(const AffinityGuard&) = delete;
  AffinityGuard& operator=(const AffinityGuard&) = delete;

 private:
  std::vector<int> saved_;
};

/// Runs `work(thread_index)` on `threads` threads at once, `reps` times, and returns the wall
/// time of each repetition in seconds, from the moment all threads are released to the moment the
/// last one finishes (a std::barrier separates the repetitions). Thread t is pinned to the t-th
/// allowed CPU when there are enough. `work` must not throw.
std::vector<double> run_timed(int threads, int reps, const std::function<void(int)>& work);

/// Measures the FMA throughput of gnm::cpu::run_fma_loop(width, iterations) on `threads` pinned
/// threads at once (best and median of `reps`). Throws gnm::Error for bad arguments and
/// gnm::NotImplemented when this CPU cannot run `width`, before any thread starts.
FmaResult measure_fma_peak(gnm::cpu::CpuKernel width, int threads, std::int64_t iterations,
                           int reps);

/// Measures the STREAM triad on three arrays of `elements` doubles, split over `threads` threads.
TriadResult measure_triad(int threads, std::size_t elements, int reps);

/// The last-level (L3) cache size in bytes from sysfs, or 0 when unknown.
std::size_t l3_cache_bytes();

}  // namespace gnm::ch01
